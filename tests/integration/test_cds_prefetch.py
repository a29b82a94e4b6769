"""The prefetch Clinnova asks for is bounded; a large or missing prefetch gets an answer that says what happened."""

import datetime as dt
import json
import re

from tests.integration.cds_helpers import SERVICE_PATH, call, patient_view

LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"


def crp(day: dt.date, n: int) -> dict:
    """An Observation as verbose as an EHR's: identifiers, narrative, performer, reference range."""
    return {"fullUrl": f"https://ehr.lu-hospital.example/fhir/Observation/crp-{n}", "resource": {
        "resourceType": "Observation", "id": f"crp-{n}", "status": "final",
        "meta": {"versionId": "1", "lastUpdated": f"{day.isoformat()}T08:00:00Z"},
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">" + "C-reactive protein "
                 * 20 + "</div>"},
        "identifier": [{"system": "urn:oid:1.2.3.4.5", "value": f"lab-{n:08d}"}],
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "laboratory", "display": "Laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": "1988-5", "display": "C reactive protein [Mass/volume] in "
                                                                        "Serum or Plasma"}]},
        "subject": {"reference": "Patient/LU-0001"},
        "performer": [{"reference": "Organization/lab-1", "display": "Laboratoire national de santé"}],
        "effectiveDateTime": day.isoformat(),
        "valueQuantity": {"value": 1.4, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"},
        "referenceRange": [{"high": {"value": 0.5, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}}]}}


def test_the_observation_prefetch_template_is_bounded_and_uses_only_context_tokens(client):
    [service] = client.get("/cds-services").json()["services"]
    template = service["prefetch"]["observations"]
    assert "_count=100" in template and "_sort=-date" in template
    # CDS Hooks 2.0: tokens are root-level context fields only (no date arithmetic).
    assert set(re.findall(r"{{([^}]*)}}", template)) == {"context.patientId"}


def test_a_prefetch_of_hundreds_of_observations_still_gets_cards(client, cds_ehr, scored_patient):
    # Hundreds of years of monthly CRPs: more than the JSON API's 256 KB, as an EHR that ignores _count sends.
    visit_date = scored_patient.visits.get().visit_date
    days = [visit_date - dt.timedelta(days=30 * i) for i in range(1, 300)]
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [crp(d, n) for n, d in enumerate(days)]}
    body = patient_view("LU-0001", prefetch={"observations": bundle})
    assert len(json.dumps(body)) > 256 * 1024
    response = call(client, cds_ehr, body)
    assert response.status_code == 200
    assert response.json()["cards"][0]["indicator"] == "info"


def test_a_prefetch_over_the_limit_is_413_saying_what_to_send(client, cds_ehr, scored_patient, settings):
    settings.CDS_MAX_BODY_BYTES = 8 * 1024
    bundle = {"resourceType": "Bundle", "type": "searchset",
              "entry": [crp(dt.date(2020, 1, 1), n) for n in range(20)]}
    response = call(client, cds_ehr, patient_view("LU-0001", prefetch={"observations": bundle}))
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "payload_too_large" and "_count=100" in body["message"]
    assert "8 KB" in body["message"]


def test_cards_say_when_the_ehr_sent_no_observations(client, cds_ehr, scored_patient):
    left_out = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"][0]
    assert "did not send its recent observations" in left_out["detail"]
    assert "not taken into account" in left_out["detail"]
    # null: the EHR has none to send (CDS Hooks 2.0, Prefetch Template), which is not a gap.
    none = call(client, cds_ehr, patient_view("LU-0001", prefetch={"observations": None})).json()["cards"][0]
    assert "did not send" not in none["detail"]


def test_the_service_path_with_a_slash_takes_the_same_token(client, cds_ehr, scored_patient):
    assert call(client, cds_ehr, patient_view("LU-0001"), path=SERVICE_PATH + "/").status_code == 200
