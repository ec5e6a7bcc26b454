from django.urls import URLPattern, path

from taizhang.ledger import views

app_name = "ledger"

urlpatterns: list[URLPattern] = [
    path("export/", views.export_start, name="export_start"),
    path("exports/<str:pk>/", views.export_detail, name="export"),
    path("exports/<str:pk>/download/", views.export_download, name="export_download"),
    path("imports/", views.imports, name="imports"),
    path("imports/<str:pk>/", views.import_detail, name="import"),
    path("imports/<str:pk>/mapping/", views.import_map, name="import_map"),
    path("imports/<str:pk>/commit/", views.import_commit, name="import_commit"),
    path("imports/<str:pk>/errors.xlsx", views.import_errors, name="import_errors"),
    path("mappings/<int:pk>/delete/", views.mapping_delete, name="mapping_delete"),
]
