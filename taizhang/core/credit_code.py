"""统一社会信用代码 (Unified Social Credit Identifier), GB 32100-2015.

18 characters: registration authority (1), organisation type (1), administrative division (6),
organisation code (9, with its own GB 11714 check character) and a check character computed
over the first 17 with weights 3^i mod 31 in the 31-character alphabet below (no I, O, S, V, Z).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]
ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
ORG_CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def normalise(code: str) -> str:
    return code.strip().upper().replace(" ", "")


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_code_check(first8: str) -> str:
    """GB 11714 check character of the embedded 9-character organisation code."""
    total = sum(ORG_CODE_ALPHABET.index(c) * w for c, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    remainder = 11 - total % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def credit_code_error(code: str) -> str | None:
    """Return a translated reason why `code` is not valid, or None when it is valid."""
    code = normalise(code)
    if len(code) != 18:
        return str(_("A unified social credit code has exactly 18 characters (got %(n)d).") % {"n": len(code)})
    bad = sorted({c for c in code if c not in ALPHABET})
    if bad:
        return str(_("Characters not allowed in a unified social credit code: %(chars)s.") % {"chars": "".join(bad)})
    if not code[2:8].isdigit():
        return str(_("Characters 3–8 of a unified social credit code are the 6-digit division code."))
    if check_character(code[:17]) != code[17]:
        return str(_("The check digit of this unified social credit code is wrong."))
    org_code = code[8:17]
    if organisation_code_check(org_code[:8]) != org_code[8]:
        return str(_("The organisation code inside this unified social credit code has a wrong check character."))
    return None


def is_valid_credit_code(code: str) -> bool:
    return credit_code_error(code) is None


def validate_credit_code(code: str) -> None:
    """Django validator; raises ValidationError with code `credit_code_invalid`."""
    reason = credit_code_error(code)
    if reason:
        raise ValidationError(reason, code="credit_code_invalid")


def make_credit_code(prefix: str, division: str, org_code8: str) -> str:
    """Build a valid code from its parts (used by the demo data and tests)."""
    org = org_code8 + organisation_code_check(org_code8)
    first17 = prefix + division + org
    return first17 + check_character(first17)
