"""Browser tests drive Debian's Chromium (never a downloaded browser) against `live_server`.

They run only when TAIZHANG_CHROMIUM names the executable (.ci/run sets it in its browser step);
otherwise they are skipped with that reason, so the main suite needs no browser."""

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("TAIZHANG_CHROMIUM", "")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Playwright's sync API runs an event loop in this thread; the ORM calls of fixtures are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if CHROMIUM and Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason="set TAIZHANG_CHROMIUM to Debian's chromium (/usr/bin/chromium) to run")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
            "viewport": {"width": 1366, "height": 900}}


@pytest.fixture
def artifacts() -> Path:
    """Screenshots land here: $TAIZHANG_ARTIFACTS_DIR, else $TAIZHANG_VAR_DIR/artifacts, else var/artifacts."""
    from django.conf import settings

    root = os.environ.get("TAIZHANG_ARTIFACTS_DIR") or str(Path(settings.VAR_DIR) / "artifacts")
    path = Path(root) / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


PLAIN_HTTP = {"SECURE_SSL_REDIRECT": False, "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False,
              "SECURE_HSTS_SECONDS": 0}


@pytest.fixture(scope="session")
def live_server(request: Any, django_db_blocker: Any) -> Any:
    """pytest-django's live server, started over plain HTTP: the security middleware reads its settings
    once, when the server thread builds its handler, so they are overridden before it starts."""
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    with override_settings(**PLAIN_HTTP):
        server = LiveServer(os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost")
        yield server
        server.stop()


@pytest.fixture(autouse=True)
def _browser_friendly_settings(settings: Any) -> None:
    for name, value in PLAIN_HTTP.items():
        setattr(settings, name, value)
