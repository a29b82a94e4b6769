"""The published OpenAPI contract holds, by every check schemathesis has: generated requests to every operation of
/api/schema/ get no 5xx, only documented status codes, content types and bodies; requests the schema allows are
accepted (positive mode) and requests it forbids are refused (negative mode).

Driven in-process through the WSGI app (the test's database transaction included) with an EHR token;
the model-admin operations answer that token with their documented 403.

JSON Schema cannot relate one field to another or to today, so a positive visit is put in clinical order before
it is sent (see `clinically_consistent`): each rule applied there is in the schema's descriptions, and the server
refuses its breach with the field named (tests/patients/test_plausible_dates.py). Everything else the server checks
(names, codes, ranges, units, drugs, unknown keys, text) is in the schema and generated as it is.
"""

import datetime as dt

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from doors.api.auth import EHRClientThrottle
from patients import dictionary
from patients.models import Outcome
from tests.patients.api_helpers import ehr_client_create, visit_body

# Both modes: requests the contract allows, and requests it forbids (mangled bodies, path parameters and
# headers), which must meet a documented 4xx in JSON, never a 5xx.
CONFIG = SchemathesisConfig.from_dict({"generation": {"mode": "all"}})

@schemathesis.serializer("application/x-ndjson", "application/fhir+ndjson")
def _ndjson(ctx, value) -> bytes:
    """An import body is binary in the schema: whatever bytes were generated, sent as they are."""
    return value if isinstance(value, bytes) else str(value).encode()


# Loaded when the module is collected: generating the schema reads no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)


@pytest.fixture(autouse=True)
def connection_kept_open():
    """As Django's test client does: the test's transaction lives on the connection, so no request may close it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def import_files_in_a_temporary_directory(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def ehr_token(site_lu, monkeypatch):
    # Thousands of requests a minute: under the client's rate limit every later one would meet a 429 and test nothing.
    monkeypatch.setattr(EHRClientThrottle, "rate", "1000000/min", raising=False)
    return ehr_client_create(site_lu, "schemathesis")[1]


def clinically_consistent(body: dict) -> None:
    """A positive POST /visits/ body, in place, made to follow the rules JSON Schema cannot state.

    The visit date is not after today; the age at the visit is 0 to 120; the diagnosis and therapy dates lie
    between the birth year and the visit, a stop after its start, and a stop reason other than ongoing or
    not_recorded comes with a stop; measurements are only those recorded for the visit's disease; a safety
    variable is sent once, in measurements or in comorbidities; a date measurement is not after today.
    """
    today = dt.date.today()
    visit = min(max(dt.date.fromisoformat(body["date"]), dt.date(1900, 1, 1)), today)
    patient = body["patient"]
    patient["birth_year"] = min(max(patient["birth_year"], 1900, visit.year - 120), visit.year)
    visit = max(visit, dt.date(patient["birth_year"], 1, 1))
    body["date"] = visit.isoformat()

    def within(day: str | None) -> str | None:
        return None if day is None else min(max(dt.date.fromisoformat(day), dt.date(patient["birth_year"], 1, 1)),
                                            visit).isoformat()

    patient["diagnosed_on"] = within(patient.get("diagnosed_on"))
    if patient["diagnosed_on"] and visit.year - dt.date.fromisoformat(patient["diagnosed_on"]).year >= 100:
        patient["diagnosed_on"] = visit.isoformat()  # disease duration 0 to 100 years
    for therapy in body.get("therapies", []):
        therapy["start"] = within(therapy["start"])
        therapy["stop"] = within(therapy.get("stop"))
        if therapy["stop"] is not None and therapy["stop"] < therapy["start"]:
            therapy["stop"] = therapy["start"]
        if therapy["stop"] is None and therapy.get("outcome") not in (None, Outcome.ONGOING, Outcome.NOT_RECORDED):
            therapy["outcome"] = Outcome.ONGOING
    for group in ("measurements", "comorbidities"):
        values = body.get(group, {})
        for name in list(values):
            var = dictionary.BY_NAME[name]
            if not var.used_for(body["disease"]) or (group == "comorbidities" and name in body.get("measurements", {})):
                del values[name]
            elif var.kind == dictionary.Kind.DATE and values[name] is not None:
                values[name] = min(max(dt.date.fromisoformat(values[name]), dt.date(1900, 1, 1)), today).isoformat()


# Every check in both modes takes minutes for the thirteen operations: CI runs it, `make test` does not.
@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_api_keeps_its_published_contract(case, ehr_token):
    if (case.meta is not None and case.meta.generation.mode.is_positive and case.method.upper() == "POST"
            and case.path == "/api/v1/visits/" and isinstance(case.body, dict)):
        clinically_consistent(case.body)
    # No checks named: all of them (positive_data_acceptance and negative_data_rejection included).
    case.call_and_validate(headers={"Authorization": f"Bearer {ehr_token}"})


def conforming(path: str, method: str, headers: dict, **kwargs):
    """The response to one request, checked against its published schema (status, content type, body)."""
    case = schema[path][method].Case(headers=headers, **kwargs)
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                             response_schema_conformance])
    return response


def test_a_ready_recommendation_a_patient_and_an_amendment_match_their_published_schemas(
        ehr_token, ra_model, django_capture_on_commit_callbacks):
    # Generated requests rarely name a visit that exists: the shapes a stored visit answers are checked here.
    auth = {"Authorization": f"Bearer {ehr_token}"}
    body = visit_body()
    with django_capture_on_commit_callbacks(execute=True):
        stored = conforming("/api/v1/visits/", "POST", auth, body=body).json()
    rec = conforming("/api/v1/visits/{visit_uuid}/recommendation/", "GET", auth,
                     path_parameters={"visit_uuid": stored["visit"]}).json()
    assert rec["status"] == "ready" and rec["drugs"] and any(d["flags"] for d in rec["drugs"])
    patient = conforming("/api/v1/patients/{patient_id}/", "GET", auth,
                         path_parameters={"patient_id": stored["patient"]}).json()
    assert patient["visits"][0]["scores"]
    amended = conforming("/api/v1/visits/{visit_id}/", "PUT", auth, path_parameters={"visit_id": body["visit_id"]},
                         body={"date": body["date"], "measurements": {**body["measurements"], "crp": 20}}).json()
    assert amended["version"] == 2
    assert conforming("/api/v1/dictionary/", "GET", {}).json()["variables"]
