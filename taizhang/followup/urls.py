from django.urls import URLPattern, URLResolver, path

from taizhang.followup import views

app_name = "followup"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.campaign_list, name="campaigns"),
    path("new/", views.campaign_create, name="campaign_create"),
    path("<int:pk>/", views.campaign_detail, name="campaign"),
    path("<int:pk>/launch/", views.campaign_launch, name="campaign_launch"),
    path("<int:pk>/items/<int:item_pk>/", views.item_check, name="item_check"),
]
