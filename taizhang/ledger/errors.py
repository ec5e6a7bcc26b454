"""Stable codes of the ledger import's refusals and cell problems. Codes never change; messages are
translated where they are raised."""

from typing import Any

from taizhang.core.errors import ValidationFailed

# A whole file refused: nothing is read, nothing changes.
NOT_A_WORKBOOK = "ledger.not_a_workbook"
ENCRYPTED = "ledger.encrypted"
LEGACY_XLS = "ledger.legacy_xls"
MACROS = "ledger.macros"
ZIP_BOMB = "ledger.zip_bomb"
TOO_LARGE = "ledger.too_large"
TOO_MANY_ROWS = "ledger.too_many_rows"
TOO_MANY_COLUMNS = "ledger.too_many_columns"
TOO_MANY_FORMULAS = "ledger.too_many_formulas"
NO_LEDGER_SHEET = "ledger.no_ledger_sheet"
NO_ROWS = "ledger.no_rows"
HAS_ERRORS = "ledger.rows_invalid"
NOT_READY = "ledger.not_ready"

# One cell or row.
UNKNOWN_CASE = "ledger.unknown_case"
UNKNOWN_SOURCE = "ledger.unknown_source"
UNKNOWN_ROUND = "ledger.unknown_round"
UNKNOWN_CATEGORY = "ledger.unknown_category"
AMBIGUOUS_CATEGORY = "ledger.ambiguous_category"
UNKNOWN_ENTERPRISE = "ledger.unknown_enterprise"
UNKNOWN_ORG = "ledger.unknown_org"
UNKNOWN_STATE = "ledger.unknown_state"
INVALID_CREDIT_CODE = "ledger.invalid_credit_code"
INVALID_DATE = "ledger.invalid_date"
INVALID_YES_NO = "ledger.invalid_yes_no"
REQUIRED = "ledger.required"
TOO_LONG = "ledger.too_long"
FORMULA = "ledger.formula"
DUPLICATE = "ledger.duplicate_row"
ILLEGAL_STATE_CHANGE = "ledger.illegal_state_change"
NOT_ALLOWED = "ledger.not_allowed"
NOT_IMPORTED = "ledger.column_not_imported"  # a warning: the cell differs but import does not change it
MERGED_CELL = "ledger.merged_cell"  # a warning: the value was taken from a merged cell above


def refused(code: str, message: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, field="file")
