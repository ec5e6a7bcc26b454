from django.urls import URLPattern, path

from taizhang.ledger import api

urlpatterns: list[URLPattern] = [
    path("exports/", api.ExportListView.as_view(), name="ledger-exports"),
    path("exports/<str:pk>/", api.ExportDetailView.as_view(), name="ledger-export"),
    path("exports/<str:pk>/download", api.ExportDownloadView.as_view(), name="ledger-export-download"),
    path("imports/", api.ImportListView.as_view(), name="ledger-imports"),
    path("imports/<str:pk>/", api.ImportDetailView.as_view(), name="ledger-import"),
    path("imports/<str:pk>/rows/", api.ImportRowsView.as_view(), name="ledger-import-rows"),
    path("imports/<str:pk>/commit", api.ImportCommitView.as_view(), name="ledger-import-commit"),
    path("imports/<str:pk>/errors", api.ImportErrorsView.as_view(), name="ledger-import-errors"),
]
