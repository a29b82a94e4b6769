"""The network hub holds no patient data: every patient door refuses, and so does its database."""

import pytest
from django.core.exceptions import PermissionDenied

from clinnova.audit import Actor
from patients.models import Patient, Visit
from patients.services import PatientInput, visit_ingest
from tests.conftest import RA_VISIT
from tests.patients.api_helpers import TODAY, auth, visit_body


@pytest.fixture
def hub(settings):
    settings.CLINNOVA_ROLE = "hub"


def test_the_hubs_json_api_refuses_a_visit_and_stores_nothing(client, ehr_lu, hub):
    _, token = ehr_lu
    response = client.post("/api/v1/visits/", visit_body(), content_type="application/json", **auth(token))
    assert response.status_code == 403
    assert response.json()["code"] == "hub_holds_no_patient_data"
    assert "site's node" in response.json()["message"]
    assert not Visit.objects.exists() and not Patient.objects.exists()


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/patients/0e2a3c4d-0000-4000-8000-000000000000/"),
    ("post", "/api/v1/visits/V-1/outcome/"),
    ("post", "/cds-services/clinnova-therapy-ranking"),
    ("get", "/cds-services"),
])
def test_every_json_patient_door_answers_403_at_the_hub(client, ehr_lu, hub, method, path):
    _, token = ehr_lu
    response = getattr(client, method)(path, **auth(token))
    assert response.status_code == 403 and response.json()["code"] == "hub_holds_no_patient_data"


def test_the_hubs_fhir_door_answers_an_operation_outcome_but_still_its_capability_statement(client, ehr_lu, hub):
    _, token = ehr_lu
    response = client.post("/fhir/", {"resourceType": "Bundle"}, content_type="application/fhir+json",
                           **auth(token))
    assert response.status_code == 403
    assert response.json()["issue"][0]["code"] == "forbidden"
    assert client.get("/fhir/metadata").status_code == 200


def test_the_hubs_clinician_pages_refuse_and_its_home_is_the_model_registry(alice_client, hub):
    assert alice_client.get("/patients/").status_code == 403
    assert alice_client.get("/").headers["Location"] == "/models/"


def test_the_hubs_database_refuses_a_patient_whatever_the_path(site_lu, hub):
    with pytest.raises(PermissionDenied, match="hub"):
        visit_ingest(site=site_lu, disease="rheumatoid_arthritis", visit_date=TODAY, measurements=dict(RA_VISIT),
                     actor=Actor(client="test"),
                     patient_input=PatientInput(system="urn:test:ehr", value="LU-1", sex="female", birth_year=1968))
    assert not Patient.objects.exists()


def test_a_site_node_takes_visits_as_before(client, ehr_lu, settings):
    settings.CLINNOVA_ROLE = "site"
    _, token = ehr_lu
    response = client.post("/api/v1/visits/", visit_body(), content_type="application/json", **auth(token))
    assert response.status_code == 201
