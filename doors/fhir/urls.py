from django.urls import path

from doors.fhir import views

app_name = "fhir"
urlpatterns = [
    path("", views.BundleView.as_view(), name="base"),
    path("metadata", views.MetadataView.as_view(), name="metadata"),
    path("Observation", views.ObservationView.as_view(), name="observation"),
    path("RiskAssessment", views.RiskAssessmentView.as_view(), name="risk-assessment"),
    path("RiskAssessment/<uuid:visit_uuid>", views.RiskAssessmentReadView.as_view(), name="risk-assessment-read"),
    path("Patient/<str:patient_id>", views.PatientReadView.as_view(), name="patient-read"),
    path("Encounter/<uuid:visit_uuid>", views.EncounterReadView.as_view(), name="encounter-read"),
]
