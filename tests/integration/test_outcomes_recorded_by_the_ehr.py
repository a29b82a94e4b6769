"""The EHR records an outcome the visits cannot decide, through the JSON API and as a FHIR Observation."""

import datetime as dt
import uuid

import pytest

from clinnova.audit import Actor
from clinnova.models import AuditEvent
from patients.dictionary import RA
from patients.models import Visit
from recommendations.decisions import DecisionInput, decision_record
from recommendations.models import Recommendation, RecommendationOutcome
from recommendations.outcomes import OUTCOME_DEFINITIONS
from tests.patients.api_helpers import TODAY, auth, visit_body

START = TODAY - dt.timedelta(days=190)
LO, HI = OUTCOME_DEFINITIONS[RA].window(START)
ASSESSED = min(HI, TODAY - dt.timedelta(days=2))


@pytest.fixture
def decided(client, ehr_lu, alice, ra_model, django_capture_on_commit_callbacks):
    """An RA visit sent by the Luxembourg EHR six months ago, scored, and its top drug started."""
    _, token = ehr_lu
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/visits/", visit_body(date=START.isoformat()),
                               content_type="application/json", **auth(token))
    assert response.status_code == 201, response.content
    visit = Visit.objects.get(pk=response.json()["visit"])
    rec = Recommendation.objects.get(visit=visit)
    top = rec.items.order_by("rank").first()
    decision_record(patient=visit.patient, actor=Actor(user=alice), current_drugs=set(), today=dt.date.today(),
                    data=DecisionInput(recommendation_id=rec.pk, kind="start_ranked", drug_atc=top.drug_atc,
                                       idempotency_key=uuid.uuid4()))
    return token, visit


def post_outcome(client, token, visit_id="V-1", **body):
    return client.post(f"/api/v1/visits/{visit_id}/outcome/", body, content_type="application/json", **auth(token))


def test_the_ehr_records_an_outcome_the_visits_cannot_decide(client, decided):
    token, visit = decided
    response = post_outcome(client, token, responded=True, assessed_on=ASSESSED.isoformat(), note="DAS28 2.4")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body | {"visit": str(visit.pk)} == body
    assert (body["status"], body["responded"], body["source"], body["model_version"]) == ("known", True, "ehr", 1)
    assert body["followed"] is True and body["assessed_on"] == ASSESSED.isoformat()
    outcome = RecommendationOutcome.objects.get(recommendation__visit=visit)
    assert outcome.model_version.version == 1 and outcome.evidence["note"] == "DAS28 2.4"
    assert AuditEvent.objects.filter(action="outcome_record", patient_id=visit.patient_id).count() == 1


@pytest.mark.parametrize("field, value, says", [
    ("assessed_on", (LO - dt.timedelta(days=1)).isoformat(), "outcome window"),
    ("assessed_on", (TODAY + dt.timedelta(days=1)).isoformat(), "future"),
    ("responded", "maybe", "boolean"),
])
def test_a_refused_outcome_names_the_field_and_value_and_changes_nothing(client, decided, field, value, says):
    token, visit = decided
    body = {"responded": False, "assessed_on": ASSESSED.isoformat(), field: value}
    response = post_outcome(client, token, **body)
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["field"], error["value"]) == (field, value) and says in error["message"].lower()
    assert not RecommendationOutcome.objects.filter(recommendation__visit=visit, status="known").exists()
    assert not AuditEvent.objects.filter(action="outcome_record").exists()


def test_an_outcome_needs_a_decision_at_that_visit(client, ehr_lu, ra_model):
    _, token = ehr_lu
    assert client.post("/api/v1/visits/", visit_body(visit_id="V-9", date=START.isoformat()),
                       content_type="application/json", **auth(token)).status_code == 201
    response = post_outcome(client, token, "V-9", responded=True, assessed_on=ASSESSED.isoformat())
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "visit"
    assert "no decision" in response.json()["errors"][0]["message"]


def test_another_sites_ehr_cannot_reach_the_visit(client, decided, ehr_fr):
    _, fr_token = ehr_fr
    response = post_outcome(client, fr_token, responded=True, assessed_on=ASSESSED.isoformat())
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="access_refused", detail__visit_id="V-1").exists()
    assert not RecommendationOutcome.objects.filter(status="known").exists()


def observation(**overrides) -> dict:
    body = {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "urn:clinnova:treatment-outcome", "code": "response-at-horizon"}]},
            "subject": {"reference": "Patient/P-1"}, "focus": [{"reference": "Encounter/V-1"}],
            "effectiveDateTime": ASSESSED.isoformat(), "valueBoolean": False}
    body.update(overrides)
    return body


def post_observation(client, token, body):
    return client.post("/fhir/Observation", body, content_type="application/fhir+json", **auth(token))


def test_a_fhir_observation_records_the_outcome(client, decided):
    token, visit = decided
    response = post_observation(client, token, observation(note=[{"text": "no EULAR response"}]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["valueBoolean"] is False and body["subject"]["reference"] == f"Patient/{visit.patient_id}"
    outcome = RecommendationOutcome.objects.get(recommendation__visit=visit)
    assert (outcome.status, outcome.responded, outcome.source) == ("known", False, "ehr")


@pytest.mark.parametrize("overrides, status, expression", [
    ({"valueBoolean": None}, 422, "Observation.valueBoolean"),
    ({"status": "preliminary"}, 422, "Observation.status"),
    ({"code": {"coding": [{"system": "http://loinc.org", "code": "28271-2"}]}}, 422, "Observation.code"),
    ({"subject": {"reference": "Patient/P-2"}}, 422, "Observation.subject"),
    ({"focus": [{"reference": "Encounter/V-404"}]}, 404, "Observation.focus[0]"),
    ({"effectiveDateTime": "2026-13-01"}, 422, "Observation.effectiveDateTime"),
    ({"effectiveDateTime": (HI + dt.timedelta(days=40)).isoformat()}, 422, "Observation.effectiveDateTime"),
])
def test_a_refused_observation_names_the_element_and_stores_nothing(client, decided, overrides, status, expression):
    token, _ = decided
    response = post_observation(client, token, observation(**overrides))
    assert response.status_code == status, response.content
    issue = response.json()["issue"][0]
    assert response.json()["resourceType"] == "OperationOutcome" and issue["expression"] == [expression]
    assert not RecommendationOutcome.objects.filter(status="known").exists()
