"""The network hub holds no patient data: its patient doors answer 403, and its database refuses patients.

The hub keeps the model registry, federated evaluations and monitoring summaries; visits go to each site's
node, whose Flower client is the only way anything about its patients reaches the hub (as aggregates).
Two guards, so that neither a misrouted EHR nor a stray command can store a patient at the hub:
the middleware answers every patient door in its own error shape, and a pre_save receiver refuses a
Patient or Visit row outright.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseForbidden, HttpResponseRedirect, JsonResponse

MESSAGE = ("This is the Clinnova network hub: it holds no patient data. Send visits, read patients and "
           "recommendations at your site's node.")
# (path prefix, the door's error shape)
PATIENT_DOORS = (
    ("/api/v1/visits", "json"), ("/api/v1/patients", "json"),
    ("/fhir/", "fhir"),
    ("/cds-services", "json"),
    ("/patients/", "html"),
)


def is_hub() -> bool:
    return settings.CLINNOVA_ROLE == "hub"


class HubRefusesPatientDoorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_hub():
            return self.get_response(request)
        if request.path == "/":
            return HttpResponseRedirect("/models/")  # the hub's home: the model registry
        for prefix, shape in PATIENT_DOORS:
            if request.path.startswith(prefix) and request.path != "/fhir/metadata":
                return _refusal(shape)
        return self.get_response(request)


def _refusal(shape: str):
    if shape == "fhir":
        return JsonResponse({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "forbidden", "diagnostics": MESSAGE}]},
            status=403, content_type="application/fhir+json")
    if shape == "json":
        return JsonResponse({"code": "hub_holds_no_patient_data", "message": MESSAGE, "errors": []}, status=403)
    return HttpResponseForbidden(MESSAGE, content_type="text/plain; charset=utf-8")


def patient_row_refuse(sender, instance, **kwargs):
    """pre_save of Patient and Visit: at the hub, storing one is a configuration error, never a silent write."""
    if is_hub():
        raise PermissionDenied(f"{sender.__name__} refused: {MESSAGE}")
