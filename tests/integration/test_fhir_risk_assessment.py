import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.riskassessment import RiskAssessment

from clinnova.models import AuditEvent
from patients.models import Visit
from tests.integration.fhir_helpers import post_bundle, ra_bundle
from tests.patients.api_helpers import auth

NOTICE = "Trained on synthetic data · not for clinical use"


@pytest.fixture
def scored_visit(client, ehr_lu, ra_model, django_capture_on_commit_callbacks):
    """A rheumatoid arthritis visit posted as FHIR and scored by the shipped model."""
    ehr, token = ehr_lu
    with django_capture_on_commit_callbacks(execute=True):
        assert post_bundle(client, token, ra_bundle(ehr.identifier_system)).status_code == 200
    return Visit.objects.get()


def search(client, token, patient):
    return client.get(f"/fhir/RiskAssessment?patient={patient}", **auth(token))


def test_the_recommendation_reads_as_a_risk_assessment_with_one_prediction_per_drug(
        client, ehr_lu, scored_visit, ra_model, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = search(client, ehr_lu[1], scored_visit.patient_id)
    assert response.status_code == 200
    bundle = response.json()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    assessment = bundle["entry"][0]["resource"]
    RiskAssessment.model_validate(assessment)
    assert assessment["subject"]["reference"] == f"Patient/{scored_visit.patient_id}"
    assert NOTICE in assessment["method"]["text"]
    assert any("Model version 1" in note["text"] for note in assessment["note"])
    predictions = assessment["prediction"]
    assert len(predictions) == len(ra_model.manifest["drugs"])
    top = predictions[0]
    assert top["outcome"]["text"] == ra_model.manifest["outcome"]
    # probability[x] is a choice: with the ensemble's interval the Range in %, the estimate in its extension.
    assert "probabilityDecimal" not in top
    low, high = top["probabilityRange"]["low"], top["probabilityRange"]["high"]
    assert low["unit"] == high["unit"] == "%" and low["system"] == "http://unitsofmeasure.org"
    assert 0 <= low["value"] <= high["value"] <= 100
    estimate = next(e["valueQuantity"] for e in top["extension"] if e["url"].endswith("probability-estimate"))
    assert estimate["unit"] == "%" and 0 < estimate["value"] < 100
    assert top["rationale"].startswith("Rank 1")
    assert "90 % interval" in top["rationale"] and "Main reasons:" in top["rationale"]
    assert top["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] in ra_model.manifest["drugs"]
    assert AuditEvent.objects.filter(action="recommendation_read", object_id=str(scored_visit.pk)).exists()


def test_patient_may_be_given_as_a_reference(client, ehr_lu, scored_visit):
    response = search(client, ehr_lu[1], f"Patient/{scored_visit.patient_id}")
    assert response.json()["total"] == 1


def test_another_sites_client_finds_nothing(client, ehr_fr, scored_visit):
    response = search(client, ehr_fr[1], scored_visit.patient_id)
    assert response.status_code == 200
    assert response.json()["total"] == 0 and response.json()["entry"] == []
    assert AuditEvent.objects.filter(action="access_refused", patient_id=scored_visit.patient_id).exists()


def test_a_pending_recommendation_is_said_in_an_outcome_entry(client, ehr_lu):
    ehr, token = ehr_lu
    post_bundle(client, token, ra_bundle(ehr.identifier_system))  # scoring never ran
    bundle = search(client, token, Visit.objects.get().patient_id).json()
    assert bundle["total"] == 0
    [entry] = bundle["entry"]
    assert entry["search"]["mode"] == "outcome"
    assert "pending" in entry["resource"]["issue"][0]["diagnostics"]
