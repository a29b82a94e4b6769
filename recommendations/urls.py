from django.urls import path

from recommendations import views

app_name = "models"
urlpatterns = [
    path("", views.model_list, name="list"),
    path("upload/", views.model_upload, name="upload"),
    path("<int:pk>/", views.model_detail, name="detail"),
    path("<int:pk>/activate/", views.model_activate, name="activate"),
]
