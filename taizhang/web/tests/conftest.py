import pytest
import time_machine

from taizhang.testing import matrix


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def at_moment():
    with time_machine.travel(matrix.MOMENT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cast(world, at_moment):
    return matrix.Cast.own(world)


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user
