"""`pip install .` installs everything the application needs: the packages it imports and its data files.

A module imported only by tests may come from the `dev` extra; one imported by the application must come
from the runtime dependencies or what they require in turn, or a production install fails on import.
Templates, static files and catalogues reach the wheel only through the package-data patterns. Installed, it
keeps no data beside its code."""

import ast
import fnmatch
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from taizhang.config.settings import default_var_dir

PACKAGE = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
TEST_HELPERS = {Path("testing/matrix.py")}  # the permission-matrix helpers; the personas serve the demo too


@cache
def runtime_closure() -> frozenset[str]:
    """The declared runtime distributions and, recursively, what they require on this platform (with the
    extras asked for)."""
    pending = [Requirement(text) for text in PROJECT["project"]["dependencies"]]
    found: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found.add(name)
        for text in metadata.requires(name) or []:
            inner = Requirement(text)
            if inner.marker is None or any(inner.marker.evaluate({"extra": extra})
                                           for extra in requirement.extras or {""}):
                pending.append(inner)
    return frozenset(found)


def application_imports() -> dict[str, Path]:
    """Top-level names imported by the application's modules (not its tests), with a file importing each."""
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if "tests" in parts or path.name == "conftest.py" or path.relative_to(PACKAGE) in TEST_HELPERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path)
    return found


def test_every_package_the_application_imports_is_a_runtime_dependency():
    providers = metadata.packages_distributions()
    closure = runtime_closure()
    missing = []
    for top, path in sorted(application_imports().items()):
        if top == "taizhang" or top in sys.stdlib_module_names:
            continue
        distributions = {canonicalize_name(name) for name in providers.get(top, [])}
        if not distributions & closure:
            missing.append(f"{top} (imported by {path.relative_to(PACKAGE.parent)})")
    assert missing == []


def test_the_check_sees_an_import_that_only_a_development_tool_provides():
    providers = metadata.packages_distributions()
    assert "pytest" in providers
    assert not {canonicalize_name(name) for name in providers["pytest"]} & runtime_closure()


def test_every_data_file_of_the_application_is_packaged():
    """Directories without `__init__.py` are packages too (setuptools' namespace discovery), so a file is
    installed when its name matches a pattern given for all packages."""
    patterns = PROJECT["tool"]["setuptools"]["package-data"]["*"]
    left_out = [
        str(path.relative_to(PACKAGE.parent)) for path in sorted(PACKAGE.rglob("*"))
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
        and not path.name.startswith(".") and not any(fnmatch.fnmatch(path.name, p) for p in patterns)
    ]
    assert left_out == []


def test_a_source_checkout_keeps_its_data_in_var(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    assert default_var_dir(tmp_path) == tmp_path / "var"
    assert default_var_dir(PACKAGE.parent) == PACKAGE.parent / "var"


def test_an_installed_package_asks_where_its_data_goes(tmp_path):
    """Beside site-packages a reinstall would delete the database and the uploads."""
    with pytest.raises(ImproperlyConfigured, match="Set TAIZHANG_VAR_DIR"):
        default_var_dir(tmp_path / "site-packages")
