from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from taizhang.api import escalation, pages, views

app_name = "api"

v1: list[URLPattern | URLResolver] = [
    path("cases/", views.CaseListView.as_view(), name="cases"),
    path("cases/<str:number>/", views.CaseDetailView.as_view(), name="case"),
    path("cases/<str:number>/actions/", views.CaseActionsView.as_view(), name="case-actions"),
    path("cases/<str:number>/actions/<str:action>", views.CaseActionView.as_view(), name="case-action"),
    path("cases/<str:number>/timeline/", views.CaseTimelineView.as_view(), name="case-timeline"),
    path("cases/<str:number>/assignments/", views.CaseAssignmentsView.as_view(), name="case-assignments"),
    path("cases/<str:number>/progress-reports/", views.ProgressReportsView.as_view(), name="case-progress"),
    path("cases/<str:number>/evidence/", views.EvidenceListView.as_view(), name="case-evidence"),
    path("cases/<str:number>/evidence/<str:evidence_id>/download/", views.EvidenceDownloadView.as_view(),
         name="evidence-download"),
    path("cases/<str:number>/escalate", escalation.CaseEscalateView.as_view(), name="case-escalate"),
    path("cases/<str:number>/escalations/", escalation.CaseEscalationsView.as_view(), name="case-escalations"),
    path("supervision-orders/<str:pk>/reply", escalation.SupervisionOrderReplyView.as_view(),
         name="supervision-order-reply"),
    path("escalations/<str:pk>/respond", escalation.EscalationRespondView.as_view(), name="escalation-respond"),
    path("enterprises/", views.EnterpriseListView.as_view(), name="enterprises"),
    path("enterprises/<str:pk>/", views.EnterpriseDetailView.as_view(), name="enterprise"),
    path("organisations/", views.OrganisationListView.as_view(), name="organisations"),
    path("organisations/<str:pk>/", views.OrganisationDetailView.as_view(), name="organisation"),
    path("categories/", views.CategoryListView.as_view(), name="categories"),
    path("time-limits/", views.TimeLimitListView.as_view(), name="time-limits"),
    path("tokens/", views.TokenListView.as_view(), name="token-list"),
    path("tokens/<str:pk>/", views.TokenDetailView.as_view(), name="token"),
    re_path(r"^.*$", views.not_found, name="not-found"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("tokens/", pages.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", pages.token_revoke, name="token-revoke"),
]
