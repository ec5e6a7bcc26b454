from django.urls import URLPattern, path

from taizhang.kpis import views

app_name = "kpis"

urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("<str:table>.csv", views.export_csv, name="export"),
]
