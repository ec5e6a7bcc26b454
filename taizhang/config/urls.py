from django.contrib import admin
from django.urls import include, path

# Headers and titles of the admin site are set by taizhang.accounts.admin_access.TaizhangAdminSite.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("taizhang.api.urls")),
    path("open311/v2/", include("taizhang.api.open311.urls")),
    path("inbox/", include("taizhang.notifications.urls")),
    path("recheck-campaigns/", include("taizhang.followup.urls")),
    path("supervision/", include("taizhang.supervision.urls")),
    path("kpis/", include("taizhang.kpis.urls")),
    path("ledger/", include("taizhang.ledger.urls")),
    path("", include("taizhang.documents.urls")),
    path("", include("taizhang.web.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler404 = "taizhang.config.errors.page_not_found"
handler500 = "taizhang.config.errors.server_error"
