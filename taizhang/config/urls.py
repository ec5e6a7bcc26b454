from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "台账 · 问题整改全流程管理"
admin.site.site_title = "台账"
admin.site.index_title = "管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
