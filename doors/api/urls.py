from django.urls import path, re_path

from doors.api import views
from doors.bulk import views as bulk

app_name = "ehr_api"
urlpatterns = [
    path("dictionary/", views.DictionaryView.as_view(), name="dictionary"),
    path("visits/", views.VisitsView.as_view(), name="visits"),
    path("visits/<uuid:visit_uuid>/recommendation/", views.RecommendationView.as_view(), name="recommendation"),
    re_path(r"^visits/(?P<visit_id>[^/]+)/outcome/?$", views.OutcomeView.as_view(), name="outcome"),
    # The EHR's own visit id, with or without a trailing slash (a PUT cannot follow a redirect).
    re_path(r"^visits/(?P<visit_id>[^/]+)/?$", views.VisitView.as_view(), name="visit"),
    path("patients/<str:patient_id>/", views.PatientView.as_view(), name="patient"),
    path("imports/", bulk.ImportsView.as_view(), name="imports"),
    path("imports/<uuid:job_id>/", bulk.ImportView.as_view(), name="import"),
    path("imports/<uuid:job_id>/report/", bulk.ImportReportView.as_view(), name="import-report"),
]
