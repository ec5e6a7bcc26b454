"""统一社会信用代码 (GB 32100-2015) with the embedded organisation code (GB 11714-1997)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from taizhang.core.credit_code import (
    ALPHABET,
    check_character,
    credit_code_error,
    is_valid_credit_code,
    make_credit_code,
    normalise,
    organisation_code_check,
    validate_credit_code,
)

# Codes published by the companies themselves or in public registers.
REAL_CODES = {
    "914403001922038216": "华为技术有限公司",
    "91440300708461136T": "腾讯科技（深圳）有限公司",
    "91110000710926094P": "中国石油化工股份有限公司",
}


@pytest.fixture(autouse=True)
def _english():
    """Reasons are asserted on their English msgids."""
    with translation.override("en"):
        yield


def reason(code: str) -> str:
    error = credit_code_error(code)
    assert error is not None, f"{code} was accepted"
    return error


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert credit_code_error(code) is None
    assert is_valid_credit_code(code)
    validate_credit_code(code)


@pytest.mark.parametrize(("code", "check"), [
    ("914403001922038216", "6"), ("91440300708461136T", "T"), ("91110000710926094P", "P"),
])
def test_final_check_character_by_hand(code, check):
    # Σ value(c_i) · 3^i mod 31 over the first 17 characters, check = 31 − Σ mod 31 (31 → 0).
    total = sum(ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(code[:17]))
    assert ALPHABET[(31 - total % 31) % 31] == check
    assert check_character(code[:17]) == check


@pytest.mark.parametrize(("org_code", "check"), [
    ("19220382", "1"),  # 华为 organisation code 19220382-1
    ("70846113", "6"),  # 腾讯 70846113-6
    ("71092609", "4"),  # 中国石化 71092609-4
    ("00000000", "0"),  # remainder 11 → "0"
    ("00000006", "X"),  # 6·2 = 12, 12 mod 11 = 1 → 10 → "X"
])
def test_embedded_organisation_code_check(org_code, check):
    assert organisation_code_check(org_code) == check


def test_real_codes_embed_a_valid_organisation_code():
    for code in REAL_CODES:
        assert organisation_code_check(code[8:16]) == code[16]


def test_lowercase_and_spaces_are_normalised():
    assert normalise(" 91440300 708461136t ") == "91440300708461136T"
    assert is_valid_credit_code("91440300708461136t")
    assert is_valid_credit_code(" 9111 0000 7109 2609 4p ")


@pytest.mark.parametrize("code", ["", "91440300708461136", "91440300708461136TX", "9144030070846113"])
def test_wrong_length_is_refused(code):
    assert "18" in reason(code)
    with pytest.raises(ValidationError) as info:
        validate_credit_code(code)
    assert info.value.code == "credit_code_invalid"


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_forbidden_letters_are_refused(letter):
    code = "91440300708461136" + letter
    assert letter in reason(code)
    assert not is_valid_credit_code(code.lower())


def test_wrong_check_character_is_refused():
    assert credit_code_error("914403001922038217") is not None
    assert "check digit" in reason("91440300708461136U")


def test_transposed_digits_are_caught():
    assert not is_valid_credit_code("914403001922308216")


def test_division_code_must_be_digits():
    code = make_credit_code("91", "110000", "71092609")
    bad = code[:2] + "A" + code[3:17]
    assert "division" in reason(bad + check_character(bad))


def test_wrong_organisation_code_check_is_refused_even_with_a_correct_final_check():
    body = "91440300" + "70846113" + "7"  # organisation check should be 6
    code = body + check_character(body)
    assert credit_code_error(code) == (
        "The organisation code inside this unified social credit code has a wrong check character."
    )


def test_make_credit_code_round_trips():
    assert make_credit_code("91", "440300", "19220382") == "914403001922038216"
    assert make_credit_code("91", "440300", "70846113") == "91440300708461136T"
