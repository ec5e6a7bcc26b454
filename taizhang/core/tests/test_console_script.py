"""The `taizhang` console script reports a setting to fix in one line, without a traceback."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_script(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run([sys.executable, "-c", "from taizhang import cli; cli.main()", "check"], cwd=ROOT,
                          env={**environment, **env}, capture_output=True, text=True, timeout=120, check=False)


def test_a_bad_setting_is_named_in_one_line():
    result = run_script(TAIZHANG_EMAIL_BACKEND="smtp", TAIZHANG_EMAIL_SECURITY="plaintext")
    assert result.returncode == 1
    assert result.stderr.strip() == "taizhang: TAIZHANG_EMAIL_SECURITY must be starttls, ssl or none."


def test_with_good_settings_the_command_runs():
    result = run_script(TAIZHANG_EMAIL_BACKEND="smtp", TAIZHANG_EMAIL_SECURITY="none")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
