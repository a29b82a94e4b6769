"""What the FHIR door promises, it answers: every location and fullUrl it returns can be read, the
RiskAssessment is found by the EHR's own patient id, and the CapabilityStatement lists nothing more."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient as FHIRPatient
from fhir.resources.R4B.riskassessment import RiskAssessment

from clinnova.models import AuditEvent
from tests.integration.fhir_helpers import post_bundle
from tests.integration.synthea_bundles import SYNTHEA, synthea_bundle
from tests.patients.api_helpers import auth


@pytest.fixture
def posted(client, ehr_lu, ra_model, django_capture_on_commit_callbacks):
    """A Synthea-shaped RA visit posted and scored; the bundle and its transaction-response."""
    ehr, token = ehr_lu
    bundle = synthea_bundle("rheumatoid_arthritis")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_bundle(client, token, bundle)
    assert response.status_code == 200
    return bundle, response.json()


def get(client, token, path):
    return client.get(path if path.startswith("/") else f"/fhir/{path}", **auth(token))


def test_every_location_of_the_response_can_be_read(client, ehr_lu, posted):
    bundle, answer = posted
    locations = [e["response"]["location"] for e in answer["entry"] if "location" in e["response"]]
    assert {loc.split("/")[0] for loc in locations} == {"Patient", "Encounter"}
    for location in locations:
        response = get(client, ehr_lu[1], location)
        assert response.status_code == 200, (location, response.json())
        assert response.json()["id"] == location.split("/")[1]
    FHIRPatient.model_validate(get(client, ehr_lu[1], locations[0]).json())
    Encounter.model_validate(get(client, ehr_lu[1], locations[1]).json())


def test_the_patient_reads_by_the_ehrs_own_id_with_the_identifiers_it_sent(client, ehr_lu, posted):
    bundle, _ = posted
    patient_id = bundle["entry"][0]["resource"]["id"]
    response = get(client, ehr_lu[1], f"Patient/{patient_id}")
    assert response.status_code == 200
    patient = response.json()
    assert {"system": SYNTHEA, "value": patient_id} in patient["identifier"]
    assert not any(i["system"] == "http://hl7.org/fhir/sid/us-ssn" for i in patient["identifier"])
    assert patient["birthDate"] == "1971" and "name" not in patient  # pseudonymous: a birth year, no name
    assert AuditEvent.objects.filter(action="patient_read", detail__via="fhir").exists()


def test_another_sites_client_reads_nothing_and_is_audited(client, ehr_lu, ehr_fr, posted):
    bundle, answer = posted
    patient_location = answer["entry"][0]["response"]["location"]
    for path in (patient_location, f"Patient/{bundle['entry'][0]['resource']['id']}",
                 answer["entry"][1]["response"]["location"],
                 answer["entry"][1]["response"]["location"].replace("Encounter", "RiskAssessment")):
        response = get(client, ehr_fr[1], path)
        assert response.status_code == 404, path
        assert response.json()["resourceType"] == "OperationOutcome"
    assert AuditEvent.objects.filter(action="access_refused", detail__via="fhir").count() == 4


def test_the_risk_assessment_is_searched_by_the_ehrs_patient_id_and_read_by_its_full_url(client, ehr_lu, posted):
    bundle, _ = posted
    patient_id = bundle["entry"][0]["resource"]["id"]
    for query in (f"patient={patient_id}", f"patient=Patient/{patient_id}",
                  f"patient.identifier={SYNTHEA}|{patient_id}"):
        searchset = get(client, ehr_lu[1], f"RiskAssessment?{query}").json()
        assert searchset["total"] == 1, query
    full_url = searchset["entry"][0]["fullUrl"]
    assert full_url.startswith("http") and "/fhir/RiskAssessment/" in full_url
    read = get(client, ehr_lu[1], "/fhir/" + full_url.split("/fhir/")[1])
    assert read.status_code == 200
    RiskAssessment.model_validate(read.json())
    assert read.json()["prediction"] == searchset["entry"][0]["resource"]["prediction"]


def test_a_patient_identifier_search_needs_its_system(client, ehr_lu, posted):
    bundle, _ = posted
    response = get(client, ehr_lu[1], f"RiskAssessment?patient.identifier={bundle['entry'][0]['resource']['id']}")
    assert response.status_code == 400
    assert "system|value" in response.json()["issue"][0]["diagnostics"]
    other = get(client, ehr_lu[1], f"RiskAssessment?patient.identifier=http://other.example|"
                                   f"{bundle['entry'][0]['resource']['id']}").json()
    assert other["total"] == 0


def test_the_capability_statement_promises_exactly_what_answers(client, ehr_lu, posted):
    statement = client.get("/fhir/metadata").json()
    CapabilityStatement.model_validate(statement)
    resources = {r["type"]: {i["code"] for i in r.get("interaction", [])} for r in statement["rest"][0]["resource"]}
    assert resources["Patient"] == {"read"} and resources["Encounter"] == {"read"}
    assert resources["RiskAssessment"] == {"read", "search-type"}
    assert resources["Observation"] == {"create"}  # the outcome Observation
    for resource_type in ("Condition", "MedicationStatement", "MedicationRequest"):
        assert resources[resource_type] == set()
    params = {p["name"] for r in statement["rest"][0]["resource"] for p in r.get("searchParam", [])}
    assert params == {"patient", "patient.identifier"}
    # Nothing listed answers 404 for its interaction; nothing unlisted is created.
    token = ehr_lu[1]
    for resource_type, interactions in resources.items():
        if "create" not in interactions and resource_type != "Observation":
            response = client.post(f"/fhir/{resource_type}", "{}", content_type="application/fhir+json",
                                   **auth(token))
            assert response.status_code in (404, 405), resource_type
