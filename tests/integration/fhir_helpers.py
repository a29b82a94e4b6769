"""A FHIR R4 transaction Bundle as an EHR would post it: one rheumatoid arthritis visit in standard codes."""

from __future__ import annotations

import copy
import datetime as dt
import json

from tests.patients.api_helpers import TODAY, auth

LOINC, SNOMED, UCUM = "http://loinc.org", "http://snomed.info/sct", "http://unitsofmeasure.org"
ATC, ICD10 = "http://www.whocc.no/atc", "http://hl7.org/fhir/sid/icd-10"
VISIT_DATE = TODAY - dt.timedelta(days=3)
PATIENT = {"reference": "urn:uuid:patient-1"}


def _entry(full_url: str, resource: dict) -> dict:
    return {"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}


def observation(full_url: str, coding: dict, **value) -> dict:
    return _entry(full_url, {"resourceType": "Observation", "status": "final", "code": {"coding": [coding]},
                             "subject": PATIENT, "encounter": {"reference": "urn:uuid:encounter-1"},
                             "effectiveDateTime": VISIT_DATE.isoformat(), **value})


def quantity(value, code: str) -> dict:
    return {"valueQuantity": {"value": value, "unit": code, "system": UCUM, "code": code}}


def ra_bundle(identifier_system: str, *, kind: str = "transaction", encounter_id: str = "enc-1") -> dict:
    """Entries: 0 Patient, 1 Encounter, 2 Condition M05.79, 3 CRP in mg/dL, 4 ESR, 5–7 joint counts and
    patient global, 8 RF positive, 9 smoking, 10 tofacitinib by its pre-2024 ATC code, 11 VTE refuted."""
    entries = [
        _entry("urn:uuid:patient-1", {"resourceType": "Patient",
                                      "identifier": [{"system": "urn:oid:1.2.3.4", "value": "MRN-77"},
                                                     {"system": identifier_system, "value": "P-100"}],
                                      "gender": "female", "birthDate": "1968-04-12"}),
        _entry("urn:uuid:encounter-1", {"resourceType": "Encounter", "id": encounter_id, "status": "finished",
                                        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                                  "code": "AMB"},
                                        "subject": PATIENT, "period": {"start": f"{VISIT_DATE}T09:30:00+01:00"}}),
        _entry("urn:uuid:condition-1", {"resourceType": "Condition", "subject": PATIENT,
                                        "code": {"coding": [{"system": ICD10, "code": "M05.79"}]},
                                        "onsetDateTime": "2015-04-01"}),
        observation("urn:uuid:obs-crp", {"system": LOINC, "code": "1988-5"}, **quantity(2.4, "mg/dL")),
        observation("urn:uuid:obs-esr", {"system": LOINC, "code": "4537-7"}, **quantity(32, "mm/h")),
        observation("urn:uuid:obs-tjc", {"system": "urn:clinnova:variable", "code": "tender_joint_count_28"},
                    valueInteger=8),
        observation("urn:uuid:obs-sjc", {"system": "urn:clinnova:variable", "code": "swollen_joint_count_28"},
                    valueInteger=5),
        observation("urn:uuid:obs-pga", {"system": "urn:clinnova:variable", "code": "patient_global"},
                    **quantity(60, "mm")),
        observation("urn:uuid:obs-rf", {"system": LOINC, "code": "11572-5"},
                    valueCodeableConcept={"coding": [{"system": SNOMED, "code": "10828004", "display": "Positive"}]}),
        observation("urn:uuid:obs-smoking", {"system": LOINC, "code": "72166-2"},
                    valueCodeableConcept={"coding": [{"system": SNOMED, "code": "266919005"}]}),
        _entry("urn:uuid:med-1", {"resourceType": "MedicationStatement", "status": "stopped", "subject": PATIENT,
                                  "medicationCodeableConcept": {"coding": [{"system": ATC, "code": "L04AA29"}]},
                                  "effectivePeriod": {"start": "2020-01-01", "end": "2021-06-01"},
                                  "statusReason": [{"coding": [{"system": "urn:clinnova:therapy-outcome",
                                                                "code": "secondary_loss_of_response"}]}]}),
        _entry("urn:uuid:condition-vte", {"resourceType": "Condition", "subject": PATIENT,
                                          "verificationStatus": {"coding": [{
                                              "system": "http://terminology.hl7.org/CodeSystem/"
                                                        "condition-ver-status", "code": "refuted"}]},
                                          "code": {"coding": [{"system": SNOMED, "code": "429098002"}]}}),
    ]
    return {"resourceType": "Bundle", "type": kind, "entry": copy.deepcopy(entries)}


def post_bundle(client, token: str, bundle, content_type: str = "application/fhir+json"):
    data = bundle if isinstance(bundle, (str, bytes)) else json.dumps(bundle)
    return client.post("/fhir/", data, content_type=content_type, **auth(token))
