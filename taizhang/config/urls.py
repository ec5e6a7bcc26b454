from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

# Headers and titles of the admin site are set by taizhang.accounts.admin_access.TaizhangAdminSite.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("taizhang.api.urls")),
    path("", include("taizhang.web.urls")),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
