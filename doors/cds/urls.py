"""Under /cds-services/ (discovery itself is /cds-services, routed in clinnova/urls.py)."""

from django.urls import path

from doors.cds import views
from doors.cds.service import SERVICE_ID

app_name = "cds"
urlpatterns = [
    path(SERVICE_ID, views.ServiceView.as_view(), name="service"),
    path(f"{SERVICE_ID}/feedback", views.FeedbackView.as_view(), name="feedback"),
]
