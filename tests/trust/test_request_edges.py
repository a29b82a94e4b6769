"""Requests at the edges: chunked bodies, NUL characters, impossible audit periods. A named 4xx, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from clinnova.middleware import ChunkedBodyMiddleware
from tests.patients.api_helpers import auth, visit_body


def test_a_chunked_body_without_a_length_is_refused_with_411_instead_of_read_as_empty(db):
    request = RequestFactory().post("/api/v1/visits/", json.dumps(visit_body()), content_type="application/json",
                                    HTTP_TRANSFER_ENCODING="chunked")
    del request.META["CONTENT_LENGTH"]
    response = ChunkedBodyMiddleware(lambda r: pytest.fail("the body must not be read"))(request)
    assert response.status_code == 411 and "Content-Length" in json.loads(response.content)["message"]


def test_a_body_with_its_length_goes_through(client, ehr_lu):
    _, token = ehr_lu
    response = client.post("/api/v1/visits/", json.dumps(visit_body()), content_type="application/json",
                           **auth(token))
    assert response.status_code == 201


@pytest.mark.parametrize("url", ["/patients/?q=LU%00", "/patients/?site=L%00U", "/patients/?disease=%00"])
def test_a_nul_in_a_search_answers_400_naming_the_parameter(alice_client, url):
    response = alice_client.get(url)
    assert response.status_code == 400 and "NUL" in response.content.decode()


@pytest.mark.parametrize("url", ["/audit/?user=a%00b", "/audit/export.csv?user=%00"])
def test_a_nul_in_the_audit_search_or_export_answers_400(priya_client, url):
    response = priya_client.get(url)
    assert response.status_code == 400 and "'user'" in response.content.decode()


def test_an_audit_period_from_year_1_to_9999_is_refused_by_name(priya_client):
    response = priya_client.get("/audit/", {"from": "0001-01-01", "to": "9999-12-31"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "0001-01-01" in page and "9999-12-31" in page
    assert priya_client.get("/audit/export.csv", {"from": "0001-01-01"}).status_code == 400


def test_a_nul_in_a_form_field_answers_400(alice_client, ra_patient_lu):
    response = alice_client.post(f"/patients/{ra_patient_lu.pk}/decisions/", {"reason_text": "a\x00b"})
    assert response.status_code == 400 and "'reason_text'" in response.content.decode()
