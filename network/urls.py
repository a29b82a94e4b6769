from django.urls import path

from network import evaluation_views, views

app_name = "network"
urlpatterns = [
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("monitoring/", views.monitoring, name="monitoring"),
    path("training/start/", views.training_start, name="training_start"),
    path("training/<int:pk>/", views.training_detail, name="training"),
    path("training/<int:pk>/cancel/", views.training_cancel_view, name="training_cancel"),
    path("distribute/<int:pk>/", views.distribute, name="distribute"),
    path("offers/", views.offers, name="offers"),
    path("offers/policy/", views.offers_policy, name="offers_policy"),
    path("offers/<int:pk>/decide/", views.offer_decide, name="offer_decide"),
    path("models/<int:pk>/evaluate/", evaluation_views.evaluation_start, name="evaluation_start"),
]
