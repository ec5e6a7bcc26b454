from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from taizhang.api import closing, escalation, pages, views
from taizhang.documents import api as documents
from taizhang.followup import api as followup_api
from taizhang.kpis import api as kpis_api
from taizhang.supervision import api as supervision

app_name = "api"

v1: list[URLPattern | URLResolver] = [
    path("cases/", views.CaseListView.as_view(), name="cases"),
    path("cases/<str:number>/", views.CaseDetailView.as_view(), name="case"),
    path("cases/<str:number>/actions/", views.CaseActionsView.as_view(), name="case-actions"),
    path("cases/<str:number>/actions/<str:action>", views.CaseActionView.as_view(), name="case-action"),
    path("cases/<str:number>/timeline/", views.CaseTimelineView.as_view(), name="case-timeline"),
    path("cases/<str:number>/acceptance-checklist/", closing.CaseChecklistView.as_view(),
         name="case-acceptance-checklist"),
    path("cases/<str:number>/closing/", closing.CaseClosingView.as_view(), name="case-closing"),
    path("cases/<str:number>/followup-link", closing.FollowUpLinkView.as_view(), name="case-followup-link"),
    path("cases/<str:number>/assignments/", views.CaseAssignmentsView.as_view(), name="case-assignments"),
    path("cases/<str:number>/progress-reports/", views.ProgressReportsView.as_view(), name="case-progress"),
    path("cases/<str:number>/evidence/", views.EvidenceListView.as_view(), name="case-evidence"),
    path("cases/<str:number>/evidence/<str:evidence_id>/download/", views.EvidenceDownloadView.as_view(),
         name="evidence-download"),
    path("cases/<str:number>/escalate", escalation.CaseEscalateView.as_view(), name="case-escalate"),
    path("cases/<str:number>/escalations/", escalation.CaseEscalationsView.as_view(), name="case-escalations"),
    path("cases/<str:number>/documents/", documents.CaseDocumentsView.as_view(), name="case-documents"),
    path("cases/<str:number>/documents/supervision-orders/<str:order_id>/<str:fmt>",
         documents.CaseSupervisionOrderDocumentView.as_view(), name="case-supervision-order-document"),
    path("cases/<str:number>/documents/<str:kind>/<str:fmt>", documents.CaseDocumentView.as_view(),
         name="case-document"),
    path("supervision-orders/<str:pk>/reply", escalation.SupervisionOrderReplyView.as_view(),
         name="supervision-order-reply"),
    path("escalations/<str:pk>/respond", escalation.EscalationRespondView.as_view(), name="escalation-respond"),
    path("recommendations/", supervision.RecommendationListView.as_view(), name="recommendations"),
    path("recommendations/<str:pk>/", supervision.RecommendationDetailView.as_view(), name="recommendation"),
    path("recommendations/<str:pk>/issue", supervision.RecommendationIssueView.as_view(),
         name="recommendation-issue"),
    path("recommendations/<str:pk>/reply", supervision.RecommendationReplyView.as_view(),
         name="recommendation-reply"),
    path("recommendations/<str:pk>/evaluate", supervision.RecommendationEvaluateView.as_view(),
         name="recommendation-evaluate"),
    path("bulletins/", supervision.BulletinListView.as_view(), name="bulletins"),
    path("bulletins/<str:pk>/", supervision.BulletinDetailView.as_view(), name="bulletin"),
    path("bulletins/<str:pk>/issue", supervision.BulletinIssueView.as_view(), name="bulletin-issue"),
    path("bulletins/<str:pk>/publish", supervision.BulletinPublishView.as_view(), name="bulletin-publish"),
    path("meetings/", supervision.MeetingListView.as_view(), name="meetings"),
    path("meetings/<str:pk>/", supervision.MeetingDetailView.as_view(), name="meeting"),
    path("meetings/<str:pk>/decisions", supervision.MeetingDecisionsView.as_view(), name="meeting-decisions"),
    path("meetings/<str:pk>/decisions/<str:decision_id>/done", supervision.DecisionDoneView.as_view(),
         name="meeting-decision-done"),
    path("enterprises/", views.EnterpriseListView.as_view(), name="enterprises"),
    path("enterprises/<str:pk>/", views.EnterpriseDetailView.as_view(), name="enterprise"),
    path("organisations/", views.OrganisationListView.as_view(), name="organisations"),
    path("organisations/<str:pk>/", views.OrganisationDetailView.as_view(), name="organisation"),
    path("categories/", views.CategoryListView.as_view(), name="categories"),
    path("time-limits/", views.TimeLimitListView.as_view(), name="time-limits"),
    path("recheck-campaigns/", followup_api.RecheckCampaignListView.as_view(), name="recheck-campaigns"),
    path("recheck-campaigns/<str:pk>/", followup_api.RecheckCampaignDetailView.as_view(), name="recheck-campaign"),
    path("recheck-campaigns/<str:pk>/launch", followup_api.RecheckCampaignLaunchView.as_view(),
         name="recheck-campaign-launch"),
    path("recheck-campaigns/<str:pk>/items/", followup_api.RecheckCampaignItemsView.as_view(),
         name="recheck-campaign-items"),
    path("recheck-campaigns/<str:pk>/items/<str:item_id>/record", followup_api.RecheckCampaignRecordView.as_view(),
         name="recheck-campaign-record"),
    path("kpis/", kpis_api.KpiView.as_view(), name="kpis"),
    path("tokens/", views.TokenListView.as_view(), name="token-list"),
    path("tokens/<str:pk>/", views.TokenDetailView.as_view(), name="token"),
    path("ledger/", include("taizhang.ledger.api_urls")),
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
