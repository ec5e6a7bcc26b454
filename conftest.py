import pytest

from taizhang.core import workdays


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    workdays.invalidate()
    yield
    workdays.invalidate()


@pytest.fixture
def world(db):
    from taizhang.testing.personas import build_world

    return build_world()
