"""Unhandled errors are logged with their request id, and nothing about the patient."""

import io
import logging
import uuid

import pytest

from clinnova.logging import PatientDataFilter
from tests.conftest import RA_VISIT

PATIENT_ID = "LU-QZ-77310"
VISIT_ID = "VISIT-QZ-9"
CRP = 123.45


@pytest.fixture
def log_output(settings):
    """What the production log handler writes (the console handler with the patient-data filter)."""
    settings.ROOT_URLCONF = "tests.trust.urls"
    handler = next(h for h in logging.getLogger().handlers
                   if any(isinstance(f, PatientDataFilter) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_an_error_while_storing_a_visit_is_logged_with_its_request_id_and_no_patient_data(client, db, log_output):
    body = {"visit_id": VISIT_ID, "patient": {"id": PATIENT_ID, "sex": "female", "birth_year": 1968},
            "disease": "rheumatoid_arthritis", "measurements": {**RA_VISIT, "crp": CRP}}
    client.raise_request_exception = False
    response = client.post("/broken/visits/", body, content_type="application/json")
    assert response.status_code == 500
    logged = log_output.getvalue()
    assert response["X-Request-ID"] in logged
    assert "Internal Server Error" in logged and "RuntimeError" in logged and "visit_store_broken" in logged
    for secret in (PATIENT_ID, VISIT_ID, str(CRP), "rheumatoid_arthritis"):
        assert secret not in logged


def test_a_path_is_logged_as_its_route_not_the_patient_it_names(client, db, log_output):
    patient_id = uuid.uuid4()
    client.raise_request_exception = False
    assert client.get(f"/broken/patients/{patient_id}/?q=LU-0001").status_code == 500
    logged = log_output.getvalue()
    assert "/broken/patients/<uuid:patient_id>/" in logged
    assert str(patient_id) not in logged and "LU-0001" not in logged


def test_a_log_line_outside_a_request_masks_ids_and_query_strings(log_output):
    logging.getLogger("clinnova.test").warning("fetched /patients/%s/?q=%s", "9b2f1c2e-6c1d-4f55-9a55-0d3c6f1e2a11",
                                               "LU-0001")
    logged = log_output.getvalue()
    assert "[-] fetched /patients/<id>/?…" in logged and "LU-0001" not in logged


def test_a_not_found_is_logged_with_its_request_id_but_not_its_path(client, db, log_output):
    response = client.get("/nothing-here/LU-0001/")
    assert response.status_code == 404
    logged = log_output.getvalue()
    assert f"[{response['X-Request-ID']}] Not Found: (no matching route)" in logged and "LU-0001" not in logged
