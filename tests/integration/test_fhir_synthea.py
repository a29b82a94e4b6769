"""Synthea-shaped patient bundles, as an EHR integrator replays them: accepted as a batch and as a transaction,
the EHR's Patient.id kept, each entry answered."""

from __future__ import annotations

import datetime as dt

import pytest
from fhir.resources.R4B.bundle import Bundle

from patients.models import PatientReference, TherapyExposure, Visit
from patients.selectors import patient_for_client
from tests.integration.fhir_helpers import post_bundle
from tests.integration.synthea_bundles import SYNTHEA, multi_encounter_record, synthea_bundle

DISEASES = ["rheumatoid_arthritis", "crohns_disease", "ulcerative_colitis", "multiple_sclerosis"]


@pytest.mark.parametrize("kind", ["transaction", "batch"])
@pytest.mark.parametrize("disease", DISEASES)
def test_a_synthea_patient_bundle_is_stored_as_one_visit(client, ehr_lu, disease, kind):
    ehr, token = ehr_lu
    bundle = synthea_bundle(disease, kind=kind)
    response = post_bundle(client, token, bundle)
    assert response.status_code == 200, response.json()
    answer = response.json()
    Bundle.model_validate(answer)
    assert answer["type"] == f"{kind}-response"
    assert len(answer["entry"]) == len(bundle["entry"])
    assert {e["response"]["status"] for e in answer["entry"]} <= {"201 Created", "200 OK"}
    visit = Visit.objects.get()
    assert visit.disease == disease  # from a SNOMED CT sub-type of the disease
    assert visit.measurements["smoking_status"] == "current"  # 449868002 "Smokes tobacco daily"
    assert visit.measurements["crp"] == 17.2 and visit.measurements["haemoglobin"] == 124.0  # 12.4 g/dL
    patient_id = bundle["entry"][0]["resource"]["id"]
    assert patient_for_client(clients=[ehr], patient_id=patient_id) == visit.patient


def test_synthea_medication_requests_become_therapy_lines_and_the_unknown_ones_are_said(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = synthea_bundle("rheumatoid_arthritis")
    answer = post_bundle(client, token, bundle).json()
    line = TherapyExposure.objects.get()
    assert line.drug.name == "methotrexate" and line.started_on == dt.date(2024, 5, 2) and line.stopped_on is None
    naproxen = next(r for e, r in zip(bundle["entry"], answer["entry"])
                    if e["resource"].get("medicationCodeableConcept", {}).get("text", "").startswith("Naproxen"))
    assert naproxen["response"]["status"] == "200 OK"
    [issue] = naproxen["response"]["outcome"]["issue"]
    assert issue["severity"] == "information" and "198014" in issue["diagnostics"]


def test_the_ehrs_identifiers_are_kept_per_system_but_never_the_ssn_or_licence(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = synthea_bundle("crohns_disease")
    post_bundle(client, token, bundle)
    patient_id = bundle["entry"][0]["resource"]["id"]
    kept = set(PatientReference.objects.values_list("kind", "system", "value"))
    assert kept == {("fhir_id", "", patient_id), ("identifier", SYNTHEA, patient_id),
                    ("identifier", "http://hospital.smarthealthit.org", patient_id)}
    assert patient_for_client(clients=[ehr], identifier=("http://hl7.org/fhir/sid/us-ssn", "999-76-6866")) is None


def test_a_batch_answers_what_it_does_not_read_entry_by_entry_and_stores_the_rest(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = synthea_bundle("rheumatoid_arthritis", kind="batch", extras=True)
    answer = post_bundle(client, token, bundle).json()
    statuses = {e["resource"]["resourceType"] + ":" + e["resource"].get("code", {}).get("text", ""):
                r["response"]["status"] for e, r in zip(bundle["entry"], answer["entry"])}
    assert statuses["Claim:"] == statuses["ExplanationOfBenefit:"] == statuses["Provenance:"] == "400 Bad Request"
    assert statuses["Observation:Body Height"] == "422 Unprocessable Entity"
    assert statuses["Condition:Medication review due (situation)"] == "422 Unprocessable Entity"
    assert statuses["Encounter:"] == "201 Created"
    claim = next(r for e, r in zip(bundle["entry"], answer["entry"]) if e["resource"]["resourceType"] == "Claim")
    assert "'Claim' is not read here" in claim["response"]["outcome"]["issue"][0]["diagnostics"]
    assert Visit.objects.get().measurements["esr"] == 38.0


def test_a_transaction_with_an_entry_it_cannot_read_stores_nothing(client, ehr_lu):
    ehr, token = ehr_lu
    response = post_bundle(client, token, synthea_bundle("rheumatoid_arthritis", extras=True))
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert Visit.objects.count() == 0


@pytest.mark.parametrize("kind", ["transaction", "batch"])
def test_a_whole_synthea_record_is_told_first_that_a_bundle_is_one_visit(client, ehr_lu, kind):
    ehr, token = ehr_lu
    record = multi_encounter_record("rheumatoid_arthritis", encounters=3)
    record["type"] = kind
    response = post_bundle(client, token, record)
    assert response.status_code == 400
    first = response.json()["issue"][0]
    assert "exactly one Encounter (found 3)" in first["diagnostics"]
    assert Visit.objects.count() == 0


def test_batch_entries_may_reference_the_patient_as_patient_slash_id(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = synthea_bundle("multiple_sclerosis", kind="batch")
    patient_id = bundle["entry"][0]["resource"]["id"]
    for entry in bundle["entry"][1:]:
        for element in ("subject", "patient"):
            if element in entry["resource"]:
                entry["resource"][element] = {"reference": f"Patient/{patient_id}"}
    response = post_bundle(client, token, bundle)
    assert response.status_code == 200, response.json()
    visit = Visit.objects.get()
    assert visit.patient.entries.filter(variable="ms_course").get().value == "RRMS"  # 426373005


def test_a_medication_coded_in_the_german_atc_system_is_read(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = synthea_bundle("multiple_sclerosis")
    med = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest")
    med["resource"]["medicationCodeableConcept"] = {"coding": [{"system": "http://fhir.de/CodeSystem/bfarm/atc",
                                                                "code": "L04AX07", "display": "Dimethylfumarat"}]}
    assert post_bundle(client, token, bundle).status_code == 200
    assert TherapyExposure.objects.get().drug.name == "dimethyl fumarate"
