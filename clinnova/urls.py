from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from clinnova.views import health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="patients:list", permanent=False)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("patients/", include("patients.urls")),
    path("models/", include("recommendations.urls")),
    path("api/v1/", include("recommendations.api_urls")),
]
