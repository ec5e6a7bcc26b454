import os
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from taizhang.api.tokens import create_token


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def api_for():
    """An API client authenticated with a fresh token of `user`."""

    def make(user):
        _token, raw = create_token(user=user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def artifacts() -> Path:
    """Page images land here: $TAIZHANG_ARTIFACTS_DIR, else $TAIZHANG_VAR_DIR/artifacts, else var/artifacts."""
    from django.conf import settings

    root = os.environ.get("TAIZHANG_ARTIFACTS_DIR") or str(Path(settings.VAR_DIR) / "artifacts")
    path = Path(root) / "documents"
    path.mkdir(parents=True, exist_ok=True)
    return path
