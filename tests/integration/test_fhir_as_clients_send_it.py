"""The FHIR door as real clients call it: the base URL in both spellings, formats it does not speak."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from patients.models import Visit
from tests.integration.fhir_helpers import ra_bundle
from tests.patients.api_helpers import auth


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/fhir", "/fhir/"])
@pytest.mark.parametrize("kind", ["transaction", "batch"])
def test_the_base_url_takes_a_bundle_with_and_without_the_trailing_slash(client, ehr_lu, path, debug, kind):
    ehr, token = ehr_lu
    with override_settings(DEBUG=debug):
        response = client.post(path, json.dumps(ra_bundle(ehr.identifier_system, kind=kind)),
                               content_type="application/fhir+json", **auth(token))
    assert response.status_code == 200, response.content[:300]
    assert response.json()["type"] == f"{kind}-response"
    assert Visit.objects.count() == 1


@pytest.mark.parametrize("path", ["/fhir", "/fhir/"])
def test_a_get_on_the_base_url_is_a_fhir_405_not_a_redirect(client, ehr_lu, path):
    response = client.get(path, **auth(ehr_lu[1]))
    assert response.status_code == 405
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("query", ["_format=xml", "_format=application/fhir%2Bxml", "_format=text/turtle"])
def test_a_format_other_than_json_is_answered_406_with_an_operation_outcome(client, ehr_lu, query):
    ehr, token = ehr_lu
    for response in (client.get(f"/fhir/metadata?{query}"),
                     client.post(f"/fhir?{query}", json.dumps(ra_bundle(ehr.identifier_system)),
                                 content_type="application/fhir+json", **auth(token))):
        assert response.status_code == 406, response.content[:200]
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert "JSON" in outcome["issue"][0]["diagnostics"]
    assert Visit.objects.count() == 0


def test_an_xml_accept_header_is_answered_406(client):
    response = client.get("/fhir/metadata", HTTP_ACCEPT="application/fhir+xml")
    assert response.status_code == 406
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("query", ["_format=json", "_format=application/fhir%2Bjson"])
def test_a_json_format_is_answered(client, query):
    assert client.get(f"/fhir/metadata?{query}").status_code == 200
