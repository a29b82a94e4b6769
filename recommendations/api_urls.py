from django.urls import path

from recommendations import api

urlpatterns = [
    path("model-versions/", api.model_versions, name="api-model-versions"),
    path("model-versions/<int:pk>/", api.model_version_detail, name="api-model-version"),
    path("model-versions/<int:pk>/activate", api.model_version_activate_view, name="api-model-version-activate"),
]
