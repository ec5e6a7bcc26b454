import pytest
from rest_framework.test import APIClient

from taizhang.api.tokens import create_token


@pytest.fixture
def client_for():
    """An API client authenticated with a fresh token of `user`."""

    def make(user):
        _token, raw = create_token(user=user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def cast(world):
    from taizhang.testing.matrix import Cast

    return Cast.own(world)


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
