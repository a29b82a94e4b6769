from django.urls import path

from doors.pages import views

app_name = "patients"
urlpatterns = [
    path("", views.patients_list, name="list"),
    path("<uuid:patient_id>/", views.patient_detail, name="detail"),
    path("<uuid:patient_id>/compare/", views.patient_compare_view, name="compare"),
    path("<uuid:patient_id>/summary/", views.patient_summary, name="summary"),
    path("<uuid:patient_id>/decisions/", views.decision_create, name="decision_create"),
    path("<uuid:patient_id>/visits/new", views.visit_new, name="visit_new"),
]
