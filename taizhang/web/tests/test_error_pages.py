"""Error answers: translated pages with a way back in the workspace, the API's and Open311's own shapes under
their prefixes, and the request id in the 500 answer and in every log line of the request."""

import io
import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.utils.module_loading import import_string

from taizhang.config.urls import handler404, handler500
from taizhang.config.urls import urlpatterns as site_urlpatterns

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret detail: SELECT password FROM accounts_user")


def forbidden_view(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


urlpatterns = [path("boom/", failing_view), path("api/v1/boom/", failing_view),
               path("open311/v2/boom.xml", failing_view), path("forbidden/", forbidden_view), *site_urlpatterns]
__all__ = ["handler404", "handler500", "urlpatterns"]


@pytest.fixture
def console_log(settings):
    """A console handler as LOGGING configures it (its filter and line format), writing into a buffer."""
    filter_class = import_string(settings.LOGGING["filters"]["request_id"]["()"])
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(filter_class())
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["line"]["format"]))
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler.stream
    root.removeHandler(handler)


def test_a_server_error_shows_a_translated_page_with_the_request_id_the_log_line_carries(console_log):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", HTTP_X_REQUEST_ID="req-4711")
    assert response.status_code == 500
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "系统内部出错" in page
    assert "请求编号 <code>req-4711</code>" in page
    assert "secret detail" not in page
    assert "Traceback" not in page
    assert "返回我的待办" in page
    logged = console_log.getvalue()
    assert "ERROR django.request [req-4711] Internal Server Error: /boom/" in logged
    assert "secret detail" in logged  # the operator sees what the user does not


def test_the_server_error_page_is_in_english_for_english_readers():
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    page = client.get("/boom/", HTTP_X_REQUEST_ID="req-1").content.decode()
    assert "Something went wrong on our side" in page
    assert "<code>req-1</code>" in page


def test_the_server_error_page_renders_when_static_files_are_what_failed(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    settings.STATIC_ROOT = tmp_path  # nothing collected: pages naming a static file fail
    response = Client(raise_request_exception=False).get("/login/")
    assert response.status_code == 500
    assert "系统内部出错" in response.content.decode()


def test_a_stale_form_is_explained_and_changes_nothing(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": world.supervisor.username, "password": "taizhang-demo"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "表单已过期" in page
    assert "请返回上一页，刷新后重新提交表单" in page
    assert "Cookie" in page  # this client sent no CSRF cookie at all
    assert "_auth_user_id" not in client.session


def test_a_stale_form_with_a_cookie_does_not_blame_the_cookie_setting():
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")  # sets the CSRF cookie
    response = client.post("/login/", {"username": "x", "password": "y", "csrfmiddlewaretoken": "stale" * 8})
    assert response.status_code == 403
    page = response.content.decode()
    assert "表单已过期" in page
    assert "Cookie" not in page


def test_a_request_for_a_foreign_host_gets_a_translated_bad_request_page():
    response = Client().get("/login/", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    assert "无法处理该请求" in response.content.decode()


def test_a_forbidden_page_keeps_the_navigation(login, world):
    response = login(world.supervisor).get("/forbidden/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "您的角色无权打开此页面" in page
    assert "返回我的待办" in page
    assert 'class="site-nav"' in page


def test_every_log_line_of_a_request_names_it_even_after_the_response(console_log):
    Client().get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")
    assert "WARNING django.request [req-404] Not Found: /no-such-page/" in console_log.getvalue()


def test_an_unknown_api_address_answers_in_the_api_error_shape():
    response = Client().get("/api/v2/cases/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "not_found", "message": "未找到相关内容。"}}


def test_an_unexpected_api_failure_outside_the_framework_still_answers_in_the_api_error_shape():
    response = Client(raise_request_exception=False).get("/api/v1/boom/", HTTP_X_REQUEST_ID="req-api")
    assert response.status_code == 500
    error = response.json()["error"]
    assert (error["code"], error["request_id"]) == ("server_error", "req-api")
    assert "secret detail" not in response.content.decode()


def test_open311_answers_unknown_addresses_and_failures_as_its_error_list_in_the_format_asked():
    missing = Client().get("/open311/v2/no-such.json")
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "未找到相关内容。"}]
    failed = Client(raise_request_exception=False).get("/open311/v2/boom.xml", HTTP_X_REQUEST_ID="req-311")
    assert failed.status_code == 500
    assert failed["Content-Type"].startswith("text/xml")
    body = failed.content.decode()
    assert "<code>500</code>" in body
    assert "请求编号 req-311" in body
    assert "secret detail" not in body
