"""The site's URLs plus two views that fail the way a bug would, for the logging tests."""

import json

from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def visit_store_broken(request):
    data = json.loads(request.body)
    raise RuntimeError(f"could not store {data}")  # a message that quotes every value it was given


def patient_page_broken(request, patient_id):
    raise KeyError(str(patient_id))


urlpatterns = [
    path("broken/visits/", visit_store_broken),
    path("broken/patients/<uuid:patient_id>/", patient_page_broken),
    path("", include("clinnova.urls")),
]
