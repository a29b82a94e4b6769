"""Under /cds-services/ (discovery itself is /cds-services, routed in clinnova/urls.py).

Every endpoint answers with and without a trailing slash: EHRs build these URLs from a base they were given,
and a redirect would turn their POST into a GET.
"""

from django.urls import path, re_path

from doors.cds import views
from doors.cds.service import SERVICE_ID

app_name = "cds"
urlpatterns = [
    path("", views.DiscoveryView.as_view(), name="discovery"),
    re_path(rf"^{SERVICE_ID}/?$", views.ServiceView.as_view(), name="service"),
    re_path(rf"^{SERVICE_ID}/feedback/?$", views.FeedbackView.as_view(), name="feedback"),
]
