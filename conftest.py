import pytest
import time_machine

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


@pytest.fixture
def at_moment():
    """The permission matrix's moment, frozen."""
    from taizhang.testing import matrix

    with time_machine.travel(matrix.MOMENT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cast(world, at_moment):
    from taizhang.testing import matrix

    return matrix.Cast.own(world)


@pytest.fixture(autouse=True, scope="session")
def _static_files_without_collectstatic(tmp_path_factory):
    """Tests render {% static %} without collectstatic: plain storage, and an empty STATIC_ROOT of their own."""
    from django.conf import settings
    from django.test import override_settings

    storages = {**settings.STORAGES,
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path_factory.mktemp("static")):
        yield


@pytest.fixture(autouse=True)
def _private_media_root(settings, tmp_path):
    """Uploaded files of a test go to its own temporary directory, never to var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Personas are created per test; the production hasher would dominate the run time."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _purge_audit_trail_before_flush(request):
    """The database refuses to truncate a non-empty audit trail, so tests that commit real
    transactions empty it (lifting the triggers, as only a test may) before the flush."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(
        marker and marker.kwargs.get("transaction"))
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    from taizhang.audit.tests.tampering import purge_audit_trail

    purge_audit_trail()
