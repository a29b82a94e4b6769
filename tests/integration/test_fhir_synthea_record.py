"""A patient's whole record as Synthea writes it: one transaction with many Encounters and the resource types
Clinnova keeps no record of. Accepted as a transaction, one visit per Encounter that carries data, only the latest
scored, idempotent, and the CDS patient-view for the EHR's Patient.id returns cards."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from patients.models import TherapyExposure, Visit
from recommendations.jobs import jobs_run_pending
from recommendations.models import ScoringJob
from tests.integration.cds_helpers import call, patient_view
from tests.integration.fhir_helpers import post_bundle
from tests.integration.synthea_bundles import VISIT_DATE, synthea_record
from tests.integration.test_cds_patient_resolution import linked  # noqa: F401  (the linked FHIR + CDS client)

UNUSED = {"Claim", "ExplanationOfBenefit", "Provenance", "Immunization", "Procedure", "DiagnosticReport",
          "Organization", "Practitioner", "Location", "CarePlan"}


def _answers(bundle: dict, answer: dict) -> list[tuple[dict, dict]]:
    return [(e["resource"], r["response"]) for e, r in zip(bundle["entry"], answer["entry"])]


def test_a_synthea_record_is_accepted_as_a_transaction_with_one_visit_per_encounter(client, ehr_lu):
    ehr, token = ehr_lu
    record = synthea_record("rheumatoid_arthritis", encounters=12)
    assert {e["resource"]["resourceType"] for e in record["entry"]} >= UNUSED
    response = post_bundle(client, token, record)
    assert response.status_code == 200, response.json()
    answer = response.json()
    Bundle.model_validate(answer)
    assert answer["type"] == "transaction-response" and len(answer["entry"]) == len(record["entry"])
    pairs = _answers(record, answer)
    for resource, got in pairs:
        assert got["status"] in ("200 OK", "201 Created"), (resource["resourceType"], got)
        if resource["resourceType"] in UNUSED:
            [issue] = got["outcome"]["issue"]
            assert issue["severity"] == "information"
            assert issue["diagnostics"] == f"not stored: {resource['resourceType']} is not used by Clinnova"
    # 12 Encounters: two before the diagnosis and a dental one carry no visit of the disease; 9 visits remain.
    visits = list(Visit.objects.order_by("visit_date"))
    assert len(visits) == 9
    assert all(v.disease == "rheumatoid_arthritis" for v in visits)
    assert visits[-1].visit_date == VISIT_DATE
    assert visits[-1].measurements["crp"] == 13.5 and visits[0].measurements["crp"] == 27.0  # each its own labs
    assert all(v.measurements["smoking_status"] == "current" and v.measurements["esr"] == 38.0 for v in visits)
    encounters = [(r, got) for r, got in pairs if r["resourceType"] == "Encounter"]
    kept = [got for _, got in encounters if "location" in got]
    assert len(kept) == 9 and all(got["status"] == "201 Created" for got in kept)
    skipped = [got["outcome"]["issue"][0]["diagnostics"] for _, got in encounters if "location" not in got]
    assert len(skipped) == 3
    assert sum("before the disease was diagnosed" in s for s in skipped) == 2
    assert sum("carries no variable of Clinnova's data dictionary" in s for s in skipped) == 1
    pain = next(got for r, got in pairs if r.get("code", {}).get("coding", [{}])[0].get("code") == "72514-3")
    assert pain["outcome"]["issue"][0]["diagnostics"].startswith("not stored: ")
    assert TherapyExposure.objects.get().drug.name == "methotrexate"
    # History is not scored: only the latest visit gets a scoring job.
    assert list(ScoringJob.objects.values_list("visit_id", flat=True)) == [visits[-1].pk]


def test_posting_the_same_record_again_changes_nothing(client, ehr_lu):
    ehr, token = ehr_lu
    record = synthea_record("crohns_disease", encounters=10)
    assert post_bundle(client, token, record).status_code == 200
    before = sorted(Visit.objects.values_list("pk", "visit_date", "measurements"), key=str)
    again = post_bundle(client, token, record)
    assert again.status_code == 200, again.json()
    assert sorted(Visit.objects.values_list("pk", "visit_date", "measurements"), key=str) == before
    assert ScoringJob.objects.count() == 1 and TherapyExposure.objects.count() == 1
    statuses = {got["status"] for _, got in _answers(record, again.json())}
    assert statuses == {"200 OK"}


def test_when_the_last_encounter_carries_nothing_the_latest_visit_with_data_is_scored(client, ehr_lu):
    ehr, token = ehr_lu
    record = synthea_record("ulcerative_colitis", encounters=10, dental_at=9)
    assert post_bundle(client, token, record).status_code == 200
    visits = list(Visit.objects.order_by("visit_date"))
    assert len(visits) == 7 and visits[-1].visit_date < VISIT_DATE
    assert list(ScoringJob.objects.values_list("visit_id", flat=True)) == [visits[-1].pk]


def test_a_genuine_error_in_one_encounter_fails_the_whole_record_first(client, ehr_lu):
    ehr, token = ehr_lu
    record = synthea_record("rheumatoid_arthritis", encounters=10)
    crp = [e for e in record["entry"] if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "1988-5"]
    crp[-1]["resource"]["valueQuantity"]["code"] = "mmol/L"  # a unit CRP does not convert from
    response = post_bundle(client, token, record)
    assert response.status_code == 422
    first = response.json()["issue"][0]
    assert "mmol/L" in first["diagnostics"] and first["expression"][0].endswith("valueQuantity.code")
    assert Visit.objects.count() == 0


def test_a_reference_outside_the_record_fails_the_transaction(client, ehr_lu):
    ehr, token = ehr_lu
    record = synthea_record("multiple_sclerosis", encounters=10)
    obs = next(e for e in record["entry"] if e["resource"]["resourceType"] == "Observation")
    obs["resource"]["encounter"] = {"reference": "urn:uuid:not-in-this-bundle"}
    response = post_bundle(client, token, record)
    assert response.status_code == 400
    assert "urn:uuid:not-in-this-bundle" in response.json()["issue"][0]["diagnostics"]
    assert Visit.objects.count() == 0


@pytest.mark.parametrize("disease", ["rheumatoid_arthritis"])
def test_the_patient_view_for_the_records_patient_id_returns_cards(client, linked, ra_model, disease):  # noqa: F811
    cds, ehr, token = linked
    record = synthea_record(disease, encounters=12)
    assert post_bundle(client, token, record).status_code == 200
    jobs_run_pending()
    patient_id = record["entry"][0]["resource"]["id"]
    cards = call(client, cds, patient_view(patient_id)).json()["cards"]
    assert cards and cards[0]["summary"].startswith("Clinnova: ")


def test_a_record_over_the_fhir_body_limit_is_answered_413_unread(client, ehr_lu, settings):
    ehr, token = ehr_lu
    settings.FHIR_MAX_BODY_BYTES = 64 * 1024
    response = post_bundle(client, token, synthea_record("rheumatoid_arthritis", encounters=10))
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"
    assert Visit.objects.count() == 0


def test_a_record_larger_than_the_json_apis_limit_is_read_by_the_fhir_door(client, ehr_lu, settings):
    ehr, token = ehr_lu
    record = synthea_record("rheumatoid_arthritis", encounters=20)
    assert len(json.dumps(record)) > settings.EHR_API_MAX_BODY_BYTES  # 256 KB: a whole record is more
    assert post_bundle(client, token, record).status_code == 200
