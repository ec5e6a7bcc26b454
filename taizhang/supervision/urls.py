from django.urls import URLPattern, URLResolver, path, re_path

from taizhang.supervision import views

app_name = "supervision"

urlpatterns: list[URLPattern | URLResolver] = [
    path("recommendations/", views.recommendation_list, name="recommendations"),
    path("recommendations/new/", views.recommendation_create, name="recommendation_create"),
    path("recommendations/<int:pk>/", views.recommendation_detail, name="recommendation"),
    path("recommendations/<int:pk>/edit/", views.recommendation_edit, name="recommendation_edit"),
    path("recommendations/<int:pk>/issue/", views.recommendation_issue, name="recommendation_issue"),
    path("recommendations/<int:pk>/reply/", views.recommendation_reply, name="recommendation_reply"),
    path("recommendations/<int:pk>/evaluate/", views.recommendation_evaluate, name="recommendation_evaluate"),
    re_path(r"^recommendations/(?P<pk>[0-9]+)/document\.(?P<fmt>docx|pdf)$", views.recommendation_document,
            name="recommendation_document"),
    path("recommendations/<int:pk>/evidence/<int:evidence_id>/", views.recommendation_evidence,
         name="recommendation_evidence"),
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/new/", views.bulletin_create, name="bulletin_create"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin"),
    path("bulletins/<int:pk>/preview/", views.bulletin_preview, name="bulletin_preview"),
    path("bulletins/<int:pk>/issue/", views.bulletin_issue, name="bulletin_issue"),
    path("bulletins/<int:pk>/publish/", views.bulletin_publish, name="bulletin_publish"),
    re_path(r"^bulletins/(?P<pk>[0-9]+)/document\.(?P<fmt>docx|pdf)$", views.bulletin_document,
            name="bulletin_document"),
    path("public/bulletins/<int:pk>/", views.bulletin_public, name="bulletin_public"),
    path("meetings/", views.meeting_list, name="meetings"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/decisions/<int:decision_id>/done/", views.decision_done, name="decision_done"),
]
