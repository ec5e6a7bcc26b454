import pytest
from rest_framework.test import APIClient

from taizhang.api.tokens import create_token
from taizhang.cases.workflow import State
from taizhang.testing import matrix


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def case(cast):
    return matrix.drive(cast, State.RECTIFYING)


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def client_for():
    def make(user):
        _token, raw = create_token(user=user, name="tests")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return api

    return make
