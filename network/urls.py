from django.urls import path

from network import views

app_name = "network"
urlpatterns = [
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("monitoring/", views.monitoring, name="monitoring"),
]
