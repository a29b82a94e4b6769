"""The codes EHRs really send: SNOMED CT sub-types and ICD-10 children of the four diseases, and the US Core
smoking status codes."""

from __future__ import annotations

import json

import pytest

from doors.fhir.visit_mapping import _disease_of
from patients.diseases import DISEASE_CODES, SNOMED_DESCENDANTS, SNOMED_RELEASE, disease_of_icd10
from patients.models import Visit
from tests.integration.fhir_helpers import ATC, ICD10, SNOMED, observation, post_bundle, ra_bundle

# US Core smoking status (C-CDA "Current Smoking Status" value set, OID 2.16.840.1.113883.11.20.9.38).
SMOKING = {
    "449868002": "current",  # Smokes tobacco daily / current every day smoker
    "428041000124106": "current",  # Occasional tobacco smoker / current some day smoker
    "8517006": "former",  # Ex-smoker
    "266919005": "never",  # Never smoked tobacco
    "77176002": "current",  # Smoker, current status unknown
    "266927001": None,  # Tobacco smoking consumption unknown: not recorded
    "428071000124103": "current",  # Heavy tobacco smoker
    "428061000124105": "current",  # Light tobacco smoker
}


@pytest.mark.parametrize("code,value", SMOKING.items())
@pytest.mark.parametrize("kind", ["transaction", "batch"])
def test_each_us_core_smoking_code_is_read_as_the_dictionarys_value(client, ehr_lu, code, value, kind):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system, kind=kind)
    bundle["entry"][9]["resource"]["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": code}]}
    response = post_bundle(client, token, bundle)
    assert response.status_code == 200, response.json()
    assert Visit.objects.get().measurements.get("smoking_status") == value  # None: not recorded, never "never"


def test_an_unknown_smoking_code_fails_its_entry_in_a_batch_not_the_batch(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system, kind="batch")
    bundle["entry"][9]["resource"]["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": "65568007"}]}
    answer = post_bundle(client, token, bundle).json()
    assert answer["entry"][9]["response"]["status"] == "422 Unprocessable Entity"
    assert "449868002 (current)" in answer["entry"][9]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert "smoking_status" not in Visit.objects.get().measurements


@pytest.mark.parametrize("descendant", SNOMED_DESCENDANTS, ids=lambda d: d.code)
def test_each_snomed_descendant_in_the_table_names_its_disease(descendant):
    assert _disease_of({"coding": [{"system": SNOMED, "code": descendant.code}]}) == descendant.disease
    assert descendant.verified and descendant.display


def test_the_table_says_which_release_it_was_checked_against():
    assert SNOMED_RELEASE.startswith("SNOMED CT")
    codes = [d.code for d in SNOMED_DESCENDANTS]
    assert len(codes) == len(set(codes))
    for issue_code in ("239791005", "426373005", "50440006", "444548001"):  # the sub-types issue 13 saw refused
        assert issue_code in codes


@pytest.mark.parametrize("code,disease", [
    ("M05.79", "rheumatoid_arthritis"), ("M06.0", "rheumatoid_arthritis"), ("M06.99", "rheumatoid_arthritis"),
    ("M06.1", None), ("M06.4", None), ("M06.10", None),  # adult-onset Still's disease, inflammatory polyarthropathy
    ("G35.10", "multiple_sclerosis"), ("G35.0 G", "multiple_sclerosis"), ("K50.0+", "crohns_disease"),
    ("K51.0", "ulcerative_colitis"), ("K52.3", None),
])
def test_icd10_children_name_their_disease_and_still_s_disease_is_not_rheumatoid_arthritis(code, disease):
    assert disease_of_icd10(code) == disease


def test_a_visit_coded_as_adult_onset_stills_disease_is_not_scored_as_rheumatoid_arthritis(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system)
    bundle["entry"][2]["resource"]["code"] = {"coding": [{"system": ICD10, "code": "M06.1"}]}
    response = post_bundle(client, token, bundle)
    assert response.status_code == 422
    assert Visit.objects.count() == 0


def test_a_seropositive_ra_condition_in_snomed_ct_is_accepted(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system)
    bundle["entry"][2]["resource"]["code"] = {"coding": [{"system": SNOMED, "code": "239791005"}]}
    assert post_bundle(client, token, bundle).status_code == 200
    assert Visit.objects.get().disease == "rheumatoid_arthritis"


def test_the_published_icd10_codes_are_the_ones_the_mapping_reads():
    for disease, codes in DISEASE_CODES.items():
        for code in codes["icd10"]:
            assert disease_of_icd10(code) == disease


def _glucocorticoid(status: str, start: str, end: str | None = None, code: str = "H02AB06") -> dict:
    period = {"start": start} | ({"end": end} if end else {})
    return {"fullUrl": "urn:uuid:med-gc", "request": {"method": "POST", "url": "MedicationStatement"},
            "resource": {"resourceType": "MedicationStatement", "status": status,
                         "subject": {"reference": "urn:uuid:patient-1"},
                         "medicationCodeableConcept": {"coding": [{"system": ATC, "code": code,
                                                                   "display": "prednisolone"}]},
                         "effectivePeriod": period}}


@pytest.mark.parametrize("status,start,end,value", [
    ("active", "2024-01-01", None, True),  # prednisolone taken on the visit date
    ("completed", "2020-01-01", "2020-03-01", None),  # a course that ended years ago says nothing about today
    ("active", "2999-01-01", None, None),  # not started yet
])
def test_a_systemic_glucocorticoid_taken_on_the_visit_date_is_the_glucocorticoid_variable(
        client, ehr_lu, status, start, end, value):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system)
    bundle["entry"].append(_glucocorticoid(status, start, end))
    response = post_bundle(client, token, bundle)
    assert response.status_code == 200, response.json()
    visit = Visit.objects.get()
    assert visit.measurements.get("glucocorticoid") == value  # None: not recorded, never "no"
    assert not visit.patient.therapies.filter(drug_atc="H02AB06").exists()  # not a therapy line of the catalogue
    outcome = response.json()["entry"][-1]["response"].get("outcome") or {}
    assert "glucocorticoid" in json.dumps(outcome)  # the entry says what was made of it


def test_an_observation_of_the_glucocorticoid_variable_wins_over_a_medication_statement(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system)
    bundle["entry"].append(_glucocorticoid("active", "2024-01-01"))
    bundle["entry"].append(observation("urn:uuid:obs-gc", {"system": "urn:clinnova:variable", "code": "glucocorticoid"},
                                       valueBoolean=False))
    assert post_bundle(client, token, bundle).status_code == 200
    assert Visit.objects.get().measurements.get("glucocorticoid") is False
