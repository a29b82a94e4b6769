import datetime as dt
import json

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from clinnova.models import AuditEvent
from patients.models import Diagnosis, IngestKey, Patient, TherapyExposure, Visit
from tests.integration.fhir_helpers import LOINC, VISIT_DATE, observation, post_bundle, quantity, ra_bundle
from tests.patients.api_helpers import auth, visit_body


def test_the_capability_statement_is_public_fhir_r4_json(client):
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    statement = response.json()
    CapabilityStatement.model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1" and statement["format"] == ["json"]
    rest = statement["rest"][0]
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch"}
    risk = next(r for r in rest["resource"] if r["type"] == "RiskAssessment")
    assert risk["searchParam"][0]["name"] == "patient"


def test_a_transaction_of_standard_codes_becomes_one_visit_through_the_dictionary(client, ehr_lu):
    ehr, token = ehr_lu
    response = post_bundle(client, token, ra_bundle(ehr.identifier_system))
    assert response.status_code == 200, response.json()
    answer = response.json()
    Bundle.model_validate(answer)
    assert answer["type"] == "transaction-response"
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created"] * 12

    visit = Visit.objects.get()
    assert visit.source == "fhir" and visit.source_id == "enc-1" and visit.visit_date == VISIT_DATE
    assert visit.disease == "rheumatoid_arthritis"
    assert visit.measurements["crp"] == 24.0  # 2.4 mg/dL converted to the dictionary's mg/L
    assert visit.measurements["esr"] == 32.0
    assert visit.measurements["rf_positive"] is True and visit.measurements["smoking_status"] == "never"
    assert visit.measurements["vte_history"] is False  # a refuted Condition is a "no"
    assert "das28_esr" in visit.scores
    therapy = TherapyExposure.objects.get()
    assert therapy.drug.name == "tofacitinib" and therapy.drug_atc == "L04AF01"  # from pre-2024 L04AA29
    assert therapy.outcome == "secondary_loss_of_response" and therapy.stopped_on == dt.date(2021, 6, 1)
    assert Diagnosis.objects.get().diagnosed_on == dt.date(2015, 4, 1)
    assert visit.patient.identifiers.get().value == "P-100"
    assert answer["entry"][0]["response"]["location"] == f"Patient/{visit.patient_id}"
    assert answer["entry"][1]["response"]["location"] == f"Encounter/{visit.pk}"
    # An observation becomes part of the visit: no location that could not be read, a word instead.
    assert "location" not in answer["entry"][3]["response"]
    assert f"Encounter/{visit.pk}" in answer["entry"][3]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert AuditEvent.objects.filter(action="visit_create", object_id=str(visit.pk)).exists()


def test_posting_the_same_bundle_again_answers_200_and_stores_nothing_new(client, ehr_lu):
    ehr, token = ehr_lu
    first = post_bundle(client, token, ra_bundle(ehr.identifier_system)).json()
    again = post_bundle(client, token, ra_bundle(ehr.identifier_system))
    assert again.status_code == 200
    assert {e["response"]["status"] for e in again.json()["entry"]} == {"200 OK"}
    assert [e["response"].get("location") for e in again.json()["entry"]] == \
        [e["response"].get("location") for e in first["entry"]]
    assert Visit.objects.count() == 1 and IngestKey.objects.count() == 1


def test_plain_application_json_is_accepted_too(client, ehr_lu):
    ehr, token = ehr_lu
    response = post_bundle(client, token, ra_bundle(ehr.identifier_system), content_type="application/json")
    assert response.status_code == 200
    assert Visit.objects.count() == 1


def test_the_fhir_and_json_doors_share_the_visit_id(client, ehr_lu):
    ehr, token = ehr_lu
    stored = client.post("/api/v1/visits/", visit_body(visit_id="enc-1"), content_type="application/json",
                         **auth(token))
    assert stored.status_code == 201
    response = post_bundle(client, token, ra_bundle(ehr.identifier_system, encounter_id="enc-1"))
    assert response.status_code == 409
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "conflict"
    assert "enc-1" in outcome["issue"][0]["diagnostics"]
    assert Visit.objects.count() == 1


def test_a_batch_answers_an_unknown_code_in_its_own_entry_and_stores_the_rest(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system, kind="batch")
    bundle["entry"].append(observation("urn:uuid:obs-glucose", {"system": LOINC, "code": "2345-7"},
                                       **quantity(5.4, "mmol/L")))
    response = post_bundle(client, token, bundle)
    assert response.status_code == 200
    answer = response.json()
    assert answer["type"] == "batch-response"
    assert answer["entry"][3]["response"]["status"] == "201 Created"
    rejected = answer["entry"][12]["response"]
    assert rejected["status"] == "422 Unprocessable Entity"
    issue = rejected["outcome"]["issue"][0]
    assert issue["severity"] == "error" and issue["code"] == "code-invalid"
    assert issue["expression"] == ["Bundle.entry[12].resource.code"]
    assert "2345-7" in issue["diagnostics"]
    assert Visit.objects.get().measurements["crp"] == 24.0


def test_an_observation_without_a_value_is_recorded_as_not_measured(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system)
    esr = bundle["entry"][4]["resource"]
    del esr["valueQuantity"]
    esr["dataAbsentReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                           "code": "not-performed"}]}
    response = post_bundle(client, token, bundle)
    assert response.status_code == 200
    assert "location" not in response.json()["entry"][4]["response"]
    assert "esr" not in Visit.objects.get().measurements


def test_a_patient_posted_through_fhir_is_found_again_by_its_identifier(client, ehr_lu):
    ehr, token = ehr_lu
    post_bundle(client, token, ra_bundle(ehr.identifier_system, encounter_id="enc-1"))
    later = ra_bundle(ehr.identifier_system, encounter_id="enc-2")
    response = post_bundle(client, token, later)
    assert response.status_code == 200
    assert response.json()["entry"][0]["response"]["status"] == "200 OK"  # the patient was known
    assert response.json()["entry"][1]["response"]["status"] == "201 Created"
    assert Patient.objects.count() == 1 and Visit.objects.count() == 2


def test_the_body_must_be_json_in_a_fhir_or_json_media_type(client, ehr_lu):
    ehr, token = ehr_lu
    response = post_bundle(client, token, json.dumps(ra_bundle(ehr.identifier_system)), content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["resourceType"] == "OperationOutcome"
