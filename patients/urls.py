from django.urls import path

from patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patients_list, name="list"),
    path("<uuid:patient_id>/", views.patient_detail, name="detail"),
]
