from django.urls import URLPattern, URLResolver, path

from taizhang.web import escalation_views, followup_views, views

app_name = "web"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("cases/", views.ledger_list, name="ledger"),
    path("cases/filters/", views.ledger_save_filter, name="ledger_save_filter"),
    path("cases/filters/<int:pk>/delete/", views.ledger_delete_filter, name="ledger_delete_filter"),
    path("cases/columns/", views.ledger_columns, name="ledger_columns"),
    path("cases/<str:number>/", views.case_detail, name="case"),
    path("cases/<str:number>/actions/<str:action>/", views.case_action, name="case_action"),
    path("cases/<str:number>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("cases/<str:number>/evidence/<int:evidence_id>/", views.evidence_file, name="evidence"),
    path("cases/<str:number>/supervision/", escalation_views.supervision_panel, name="case_supervision"),
    path("cases/<str:number>/escalate/", escalation_views.escalate, name="case_escalate"),
    path("cases/<str:number>/orders/<int:order_id>/reply/", escalation_views.reply_to_order, name="order_reply"),
    path("cases/<str:number>/escalations/<int:escalation_id>/respond/", escalation_views.respond_to_escalation,
         name="escalation_respond"),
    path("cases/<str:number>/followup-link/", followup_views.issue_link, name="followup_link"),
    path("followups/", followup_views.my_followups, name="my_followups"),
    path("followup-answer/<str:token>/", followup_views.answer, name="followup_answer"),
    path("register/", views.register_choose, name="register_choose"),
    path("register/<str:channel>/", views.register, name="register"),
    path("enterprises/search/", views.enterprise_search, name="enterprise_search"),
    path("enterprises/new/", views.enterprise_create, name="enterprise_create"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise"),
]
