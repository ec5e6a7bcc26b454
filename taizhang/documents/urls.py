from django.urls import URLPattern, re_path

from taizhang.documents import views

app_name = "documents"

urlpatterns: list[URLPattern] = [
    re_path(r"^cases/(?P<number>[^/]+)/documents/(?P<kind>transfer_letter|immediate_notice)\.(?P<fmt>docx|pdf)$",
            views.case_document, name="case_document"),
    re_path(r"^cases/(?P<number>[^/]+)/documents/supervision-orders/(?P<order_id>[1-9][0-9]{0,17})"
            r"\.(?P<fmt>docx|pdf)$", views.supervision_order_document, name="supervision_order_document"),
]
