"""Every Bundle Clinnova cannot take answers an OperationOutcome naming entry and element, and stores nothing."""

import pytest

from patients.models import IngestKey, Patient, TherapyExposure, Visit
from tests.integration.fhir_helpers import SNOMED, observation, post_bundle, quantity, ra_bundle
from tests.patients.api_helpers import auth


def nothing_stored() -> bool:
    return not (Visit.objects.exists() or Patient.objects.exists() or IngestKey.objects.exists()
                or TherapyExposure.objects.exists())


def crp(bundle) -> dict:
    return bundle["entry"][3]["resource"]


def unknown_loinc(b):
    crp(b)["code"]["coding"][0]["code"] = "2345-7"  # glucose: not in the data dictionary


def unit_that_does_not_convert(b):
    crp(b)["valueQuantity"].update(code="mm/h", unit="mm/h")


def crp_out_of_range(b):
    crp(b)["valueQuantity"].update(value=900, code="mg/L", unit="mg/L")


def quantity_without_ucum_code(b):
    del crp(b)["valueQuantity"]["code"]


def derived_variable_posted(b):
    crp(b)["code"]["coding"][0]["code"] = "30525-0"  # age: derived from the birth year, never posted
    crp(b)["valueQuantity"].update(value=58, code="a", unit="a")


def condition_clinnova_does_not_know(b):
    b["entry"][11]["resource"]["code"]["coding"][0].update(code="38341003")  # hypertension
    del b["entry"][11]["resource"]["verificationStatus"]


def no_disease(b):
    b["entry"][2]["resource"]["code"]["coding"][0]["code"] = "I10"


def patient_without_an_id_or_the_clients_identifier(b):
    b["entry"][0]["resource"]["identifier"] = [{"system": "urn:oid:1.2.3.4", "value": "MRN-77"}]


def visit_date_in_the_future(b):
    b["entry"][1]["resource"]["period"]["start"] = "2999-01-01"


def quantity_with_a_comparator(b):
    crp(b)["valueQuantity"]["comparator"] = ">"


def disease_coded_in_a_system_that_only_mentions_icd_10(b):
    b["entry"][2]["resource"]["code"]["coding"][0]["system"] = "http://example.org/not-icd-10-at-all"


def collection_bundle(b):
    b["type"] = "collection"


def dangling_subject(b):
    crp(b)["subject"] = {"reference": "Patient/not-in-this-bundle"}


def encounter_reference_to_a_patient(b):
    crp(b)["encounter"] = {"reference": "urn:uuid:patient-1"}


def not_a_decimal(b):
    crp(b)["valueQuantity"]["value"] = "2,4"


def element_fhir_does_not_have(b):
    crp(b)["valueQuantity"]["precision"] = 2


def unsupported_resource(b):
    b["entry"][4]["resource"] = {"resourceType": "Procedure", "status": "completed", "subject": {
        "reference": "urn:uuid:patient-1"}}


def entry_without_request(b):
    del b["entry"][4]["request"]


def two_encounters(b):
    b["entry"].append({**b["entry"][1], "fullUrl": "urn:uuid:encounter-2"})


CASES = [
    # (breaks the Bundle, status, issue code, expression, entry named in details.text)
    (unknown_loinc, 422, "code-invalid", "Bundle.entry[3].resource.code", "Bundle.entry[3] (fullUrl urn:uuid:obs-crp)"),
    (unit_that_does_not_convert, 422, "value", "Bundle.entry[3].resource.valueQuantity.code", "Bundle.entry[3]"),
    (crp_out_of_range, 422, "value", "Bundle.entry[3].resource.valueQuantity.value", "Bundle.entry[3]"),
    (quantity_without_ucum_code, 422, "required", "Bundle.entry[3].resource.valueQuantity.code", "Bundle.entry[3]"),
    (derived_variable_posted, 422, "business-rule", "Bundle.entry[3].resource.code", "Bundle.entry[3]"),
    (condition_clinnova_does_not_know, 422, "code-invalid", "Bundle.entry[11].resource.code", "Bundle.entry[11]"),
    (patient_without_an_id_or_the_clients_identifier, 422, "required", "Bundle.entry[0].resource.id",
     "Bundle.entry[0] (fullUrl urn:uuid:patient-1)"),
    (visit_date_in_the_future, 422, "value", "Bundle.entry[1].resource.period.start", "Bundle.entry[1]"),
    (quantity_with_a_comparator, 422, "value", "Bundle.entry[3].resource.valueQuantity.comparator", "Bundle.entry[3]"),
    (disease_coded_in_a_system_that_only_mentions_icd_10, 422, "code-invalid", "Bundle.entry[2].resource.code",
     "Bundle.entry[2]"),
    (collection_bundle, 400, "structure", "Bundle.type", None),
    (dangling_subject, 400, "not-found", "Bundle.entry[3].resource.subject.reference", "Bundle.entry[3]"),
    (encounter_reference_to_a_patient, 400, "not-found", "Bundle.entry[3].resource.encounter.reference",
     "Bundle.entry[3]"),
    (not_a_decimal, 400, "structure", "Bundle.entry[3].resource.valueQuantity.value", "Bundle.entry[3]"),
    (element_fhir_does_not_have, 400, "structure", "Bundle.entry[3].resource.valueQuantity.precision",
     "Bundle.entry[3]"),
    (unsupported_resource, 400, "not-supported", "Bundle.entry[4].resource", "Bundle.entry[4]"),
    (entry_without_request, 400, "not-supported", "Bundle.entry[4].request.method", "Bundle.entry[4]"),
    (two_encounters, 400, "structure", "Bundle.entry", None),
]


@pytest.mark.parametrize("breaks, status, code, expression, entry", CASES, ids=[c[0].__name__ for c in CASES])
def test_a_bad_bundle_answers_an_operation_outcome_naming_entry_and_element(client, ehr_lu, breaks, status, code,
                                                                            expression, entry):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system)
    breaks(bundle)
    response = post_bundle(client, token, bundle)
    assert response.status_code == status, response.json()
    assert response["Content-Type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issue = next((i for i in outcome["issue"] if i.get("expression") == [expression]), None)
    assert issue is not None, outcome
    assert issue["severity"] == "error" and issue["code"] == code
    if entry:
        assert issue["details"]["text"].startswith(entry)
    assert nothing_stored()


def test_an_unknown_code_fails_a_transaction_even_when_everything_else_is_fine(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system)
    bundle["entry"].append(observation("urn:uuid:obs-x", {"system": SNOMED, "code": "271649006"},
                                       **quantity(120, "mm[Hg]")))
    response = post_bundle(client, token, bundle)
    assert response.status_code == 422
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["Bundle.entry[12].resource.code"]
    assert "271649006" in issue["diagnostics"]
    assert nothing_stored()


def test_every_problem_is_reported_at_once(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system)
    unknown_loinc(bundle)
    bundle["entry"][4]["resource"]["valueQuantity"]["value"] = 500  # ESR over 150 mm/h
    response = post_bundle(client, token, bundle)
    expressions = [i["expression"][0] for i in response.json()["issue"]]
    assert expressions == ["Bundle.entry[3].resource.code", "Bundle.entry[4].resource.valueQuantity.value"]
    assert "150" in response.json()["issue"][1]["diagnostics"]


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"resourceType": "Patient"}'])
def test_a_body_that_is_not_a_bundle_answers_400(client, ehr_lu, body):
    _, token = ehr_lu
    response = post_bundle(client, token, body)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert nothing_stored()


def test_without_a_token_the_answer_is_401_as_an_operation_outcome(client, ehr_lu):
    ehr, _ = ehr_lu
    response = client.post("/fhir/", ra_bundle(ehr.identifier_system), content_type="application/fhir+json")
    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "login"
    assert response["WWW-Authenticate"].startswith("Bearer")
    response = post_bundle(client, "x" * 43, ra_bundle(ehr.identifier_system))
    assert response.status_code == 401
    assert nothing_stored()


def test_the_risk_assessment_search_needs_a_patient(client, ehr_lu):
    _, token = ehr_lu
    response = client.get("/fhir/RiskAssessment", **auth(token))
    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "required"
