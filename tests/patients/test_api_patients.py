import json

import pytest

from clinnova.models import AuditEvent
from tests.patients.api_helpers import auth, visit_body


def patient_url(patient_id) -> str:
    return f"/api/v1/patients/{patient_id}/"


@pytest.fixture
def posted(client, ehr_lu):
    """The patient id of a visit the LU EHR posted."""
    r = client.post("/api/v1/visits/", json.dumps(visit_body()), content_type="application/json", **auth(ehr_lu[1]))
    return r.json()["patient"]


def test_an_ehr_reads_back_its_patient_with_visits_scores_and_therapies(client, ehr_lu, posted,
                                                                        django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        r = client.get(patient_url(posted), **auth(ehr_lu[1]))
    assert r.status_code == 200
    patient = r.json()
    assert patient["id"] == posted
    assert (patient["sex"], patient["birth_year"], patient["site"]) == ("female", 1968, "LU")
    assert patient["identifiers"] == [{"system": "urn:clinnova:LU:ehr:epic", "value": "P-1"}]
    assert patient["diagnoses"][0]["disease"] == "rheumatoid_arthritis"
    [visit] = patient["visits"]
    assert visit["visit_id"] == "V-1"
    assert visit["measurements"]["crp"] == 14.0
    assert visit["scores"]["das28_esr"]["value"] == pytest.approx(5.48, abs=0.01)
    assert patient["therapies"][0]["name"] == "adalimumab"


def test_reading_a_patient_is_audited(client, ehr_lu, posted):
    client.get(patient_url(posted), **auth(ehr_lu[1]))
    event = AuditEvent.objects.get(action="patient_read")
    assert event.actor_client == "ehr:LU:epic"
    assert str(event.patient_id) == posted


def test_an_ehr_of_another_site_gets_a_404_as_for_an_unknown_patient(client, ehr_fr, posted):
    r = client.get(patient_url(posted), **auth(ehr_fr[1]))
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    assert AuditEvent.objects.filter(action="access_refused").exists()
    assert not AuditEvent.objects.filter(action="patient_read").exists()


@pytest.mark.parametrize("patient_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_patient_is_a_404(client, ehr_lu, patient_id):
    r = client.get(patient_url(patient_id), **auth(ehr_lu[1]))
    assert r.status_code == 404
    assert set(r.json()) == {"code", "message", "errors"}


def test_a_patient_without_a_token_is_a_401(client, posted):
    assert client.get(patient_url(posted)).status_code == 401
