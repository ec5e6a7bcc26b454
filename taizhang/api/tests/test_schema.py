from pathlib import Path

from django.core.management import call_command

SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"


def test_committed_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    assert SCHEMA.read_text(encoding="utf-8") == generated.read_text(encoding="utf-8"), (
        "docs/openapi.yaml is out of date: run `taizhang spectacular --file docs/openapi.yaml`")
