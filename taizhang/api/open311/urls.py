from django.urls import URLPattern, re_path

from taizhang.api.open311 import views

FORMAT = r"\.(?P<fmt>json|xml)$"

app_name = "open311"
urlpatterns: list[URLPattern] = [
    re_path(r"^services" + FORMAT, views.service_list, name="services"),
    re_path(r"^services/(?P<code>\d+)" + FORMAT, views.service_definition, name="service"),
    re_path(r"^requests" + FORMAT, views.request_list, name="requests"),
    re_path(r"^requests/(?P<request_id>[A-Za-z0-9_-]+)" + FORMAT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[A-Za-z0-9_:-]+)" + FORMAT, views.token_detail, name="token"),
]
