"""Every response that shows a patient writes its audit event, whatever its status, and is never cached.

The URL patterns are enumerated: a new one fails here until it is listed as showing patient data (with the
requests that exercise it, valid and invalid) or as showing none (with the reason).
"""

from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from clinnova.models import AuditEvent
from patients.models import Visit
from recommendations.models import Recommendation
from tests.integration.cds_helpers import call, cds_ehr_register, patient_view
from tests.integration.fhir_helpers import post_bundle, ra_bundle
from tests.patients.api_helpers import auth, visit_body
from tests.trust.helpers import verified

NO_PATIENT_DATA = {
    "": "redirects each role to its own page",
    "accounts/signed-out/": "says nobody is signed in",
    "api/v1/imports/": "the EHR's own bulk import job: its counts and progress",
    "api/v1/imports/<uuid:job_id>/": "the EHR's own bulk import job: its counts and progress",
    "api/v1/imports/<uuid:job_id>/report/": "the lines of the EHR's own file that were refused, by its own visit ids; "
                                           "no Clinnova record is read",
    "accounts/login/": "sign-in", "accounts/logout/": "sign-out",
    "accounts/password_change/": "the user's own password", "accounts/password_change/done/": "a confirmation",
    "accounts/password_reset/": "the user's own password", "accounts/password_reset/done/": "a confirmation",
    "accounts/reset/<uidb64>/<token>/": "the user's own password", "accounts/reset/done/": "a confirmation",
    "account/2fa/": "the user's own second factor", "account/2fa/verify/": "the user's own second factor",
    "account/2fa/enrol/<str:token>/": "the user's own second factor",
    "account/2fa/recovery/": "the user's own recovery codes",
    "audit/": "audit events name patients by pseudonymous id only; the reading is audited as audit_read",
    "audit/export.csv": "as audit/, recorded as audit_export",
    "health/": "says ok", "models/": "model versions", "rules/": "the safety rules and licences, no patient",
    "models/upload/": "model versions",
    "models/<int:pk>/": "a model card", "models/<int:pk>/activate/": "model versions",
    "api/v1/model-versions/": "model versions", "api/v1/model-versions/<int:pk>/": "model versions",
    "api/v1/model-versions/<int:pk>/activate": "model versions", "api/v1/dictionary/": "the data dictionary",
    "fhir/metadata": "the capability statement",
    "cds-services": "the discovery document", "cds-services/": "the discovery document",
    "cds-services/^clinnova-therapy-ranking/feedback/?$": "stores the EHR's feedback; answers nothing back",
    "api/schema/": "the OpenAPI contract", "api/docs/": "Swagger UI",
    "api/v1/imports/": "accepts a client's file; answers a job id", "api/v1/imports/<uuid:job_id>/": "counts only",
    "api/v1/imports/<uuid:job_id>/report/": "the client's own lines that were not stored, echoed to that client",
    "network/models/<int:pk>/evaluate/": "asks for a federated evaluation job; answers a redirect",
    "network/evaluations/<int:pk>/": "aggregates, every released cell of 5 patients or more",
    "network/monitoring/": "aggregates, every released cell of 5 patients or more",
    "network/training/start/": "starts a training job; answers a redirect",
    "network/training/<int:pk>/": "a training run: sites, rounds, message sizes and counts",
    "network/training/<int:pk>/cancel/": "cancels a training job; answers a redirect",
    "network/distribute/<int:pk>/": "offers a model version to the sites; answers a redirect",
    "network/offers/": "model versions the hub offered, and the site's decisions",
    "network/offers/policy/": "the site's setting; answers a redirect",
    "network/offers/<int:pk>/decide/": "a decision on a model version; answers a redirect or the offers page",
}
PATIENT_DATA = {
    "patients/", "patients/<uuid:patient_id>/", "patients/<uuid:patient_id>/compare/",
    "patients/<uuid:patient_id>/decisions/", "patients/<uuid:patient_id>/visits/new",
    "patients/<uuid:patient_id>/summary/",
    "api/v1/visits/", "api/v1/visits/<uuid:visit_uuid>/recommendation/", "api/v1/^visits/(?P<visit_id>[^/]+)/?$",
    "api/v1/patients/<str:patient_id>/", "fhir/", "fhir/RiskAssessment", "cds-services/^clinnova-therapy-ranking/?$",
    "api/v1/^visits/(?P<visit_id>[^/]+)/outcome/?$", "fhir/Observation", "fhir", "fhir/Patient/<str:patient_id>",
    "fhir/Encounter/<uuid:visit_uuid>", "fhir/RiskAssessment/<uuid:visit_uuid>",
}


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def test_every_url_pattern_is_classified_as_showing_patient_data_or_not():
    routes = {r for r in _routes(get_resolver().url_patterns) if not r.startswith("admin/")}
    unclassified = routes - PATIENT_DATA - set(NO_PATIENT_DATA)
    assert not unclassified, f"classify these URL patterns in this test: {sorted(unclassified)}"
    assert PATIENT_DATA <= routes


def _shows(response, patient) -> bool:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return str(patient.pk).encode() in body or patient.primary_identifier.encode() in body


def _check(response, patient, expected_status=None):
    """When the body shows the patient, an audit event of this very request names them."""
    if expected_status is not None:
        assert response.status_code == expected_status, response.content[:300]
    assert "no-store" in response["Cache-Control"]
    if _shows(response, patient):
        events = AuditEvent.objects.filter(request_id=response["X-Request-ID"], patient_id=patient.pk)
        assert events.exists(), (response.status_code, response.request["PATH_INFO"])
    return response


@pytest.fixture
def world(client, alice, ra_patient_lu, ra_model):
    from recommendations.jobs import jobs_run_pending

    jobs_run_pending()
    verified(client, alice)
    return client, ra_patient_lu


def test_the_clinician_pages_audit_every_rendering_of_a_patient(world):
    client, patient = world
    base = f"/patients/{patient.pk}"
    rec = Recommendation.objects.get(visit__patient=patient, superseded_at__isnull=True)
    _check(client.get("/patients/"), patient, 200)
    _check(client.get("/patients/", {"q": patient.primary_identifier}), patient, 200)
    _check(client.get("/patients/", {"site": "LU", "page": "99"}), patient, 200)
    _check(client.get("/patients/", {"sort": "decision", "decision": "pending", "activity": "above"}), patient, 200)
    _check(client.get(f"{base}/"), patient, 200)
    _check(client.get(f"{base}/summary/"), patient, 200)
    _check(client.get(f"{base}/compare/", {"a": "L04AB04", "b": "L04AA24"}), patient)
    _check(client.get(f"{base}/compare/", {"a": "nonsense", "b": "x"}), patient)
    # The review's case: an invalid decision answers 400 with the whole patient page.
    _check(client.post(f"{base}/decisions/", {"recommendation": "not a number"}), patient, 400)
    _check(client.post(f"{base}/decisions/", {"recommendation": rec.pk, "drug_atc": "L04XX99", "reason": "x"}),
           patient, 400)
    _check(client.post(f"{base}/decisions/", {"recommendation": rec.pk, "idempotency_key": "8d3b2c1e-0000-4000-8000-"
                                              "000000000001", "choice": "start:L04XX99"}), patient, 400)
    _check(client.get(f"{base}/visits/new"), patient, 200)
    _check(client.post(f"{base}/visits/new", {"disease": "rheumatoid_arthritis", "visit_date": "not a date"}),
           patient, 400)
    shown = AuditEvent.objects.filter(action="patient_view", patient_id=patient.pk)
    assert {e.detail["page"] for e in shown} >= {"list", "search", "detail", "visit_form", "summary"}


def test_the_ehr_doors_audit_every_answer_that_names_a_patient(client, ehr_lu, ra_model, tmp_path):
    _, token = ehr_lu
    response = client.post("/api/v1/visits/", json.dumps(visit_body()), content_type="application/json",
                           **auth(token))
    visit = Visit.objects.select_related("patient").get()
    patient = visit.patient
    _check(response, patient)
    _check(client.post("/api/v1/visits/", json.dumps(visit_body()), content_type="application/json",
                       **auth(token)), patient)  # the same visit again: idempotent replay
    _check(client.put("/api/v1/visits/V-1", json.dumps({"measurements": {"crp": 9.0}}),
                      content_type="application/json", **auth(token)), patient)
    _check(client.put("/api/v1/visits/V-1", json.dumps({"measurements": {"crp": -9}}),
                      content_type="application/json", **auth(token)), patient)
    _check(client.get(f"/api/v1/visits/{visit.pk}/recommendation/", **auth(token)), patient, 200)
    _check(client.get(f"/api/v1/patients/{patient.pk}/", **auth(token)), patient, 200)
    _check(client.get("/api/v1/patients/not-a-uuid/", **auth(token)), patient, 404)
    for _ in range(2):  # the second is a replay of the same bundle
        bundled = post_bundle(client, token, ra_bundle(ehr_lu[0].identifier_system))
        _check(bundled, Visit.objects.exclude(pk=visit.pk).select_related("patient").get().patient, 200)
    _check(client.get(f"/fhir/RiskAssessment?patient={patient.pk}", **auth(token)), patient, 200)
    _check(client.get("/fhir/RiskAssessment?patient=Patient/unknown", **auth(token)), patient)
    ehr = cds_ehr_register(tmp_path)
    _check(call(client, ehr, patient_view(str(patient.pk))), patient, 200)
    _check(call(client, ehr, patient_view("unknown")), patient, 200)
