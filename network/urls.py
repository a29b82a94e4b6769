from django.urls import path

from network import evaluation_views, views

app_name = "network"
urlpatterns = [
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("monitoring/", views.monitoring, name="monitoring"),
    path("models/<int:pk>/evaluate/", evaluation_views.evaluation_start, name="evaluation_start"),
]
