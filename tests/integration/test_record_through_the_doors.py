"""The patient's record through time, replayed through the JSON API and FHIR.

Story 1: a rheumatoid-arthritis patient's visit records NYHA III heart failure and untreated latent TB; the
next day's visit records only joint counts. The second visit's ranking still carries the contraindications,
with the date each value was recorded.

Story 2: a patient with ulcerative colitis on adalimumab since 2010 is explained as anti-TNF exposed, and
adalimumab is shown as current therapy, not as a drug to start.
"""

import copy
import datetime as dt

import pytest

from doors.fhir.visit_mapping import OBSERVATION_WINDOW_DAYS
from recommendations.jobs import jobs_run_pending
from tests.integration.fhir_helpers import ATC, PATIENT, ra_bundle
from tests.patients.api_helpers import auth

TODAY = dt.date.today()
YESTERDAY = TODAY - dt.timedelta(days=1)
ANTI_TNF_RA = {"L04AB04", "L04AB01", "L04AB05"}  # adalimumab, etanercept, certolizumab pegol


def post_visit(client, token, body):
    response = client.post("/api/v1/visits/", body, content_type="application/json", **auth(token))
    assert response.status_code == 201, response.content
    return response.json()


def recommendation(client, token, visit_uuid):
    response = client.get(f"/api/v1/visits/{visit_uuid}/recommendation/", **auth(token))
    assert response.status_code == 200
    return response.json()


def ra_json(visit_id, day, measurements, comorbidities=None, therapies=()):
    return {"visit_id": visit_id, "disease": "rheumatoid_arthritis", "date": day.isoformat(),
            "patient": {"id": "P-HF", "sex": "male", "birth_year": 1955, "diagnosed_on": "2012-05-01"},
            "measurements": measurements, "comorbidities": comorbidities or {}, "therapies": list(therapies)}


def test_the_next_days_json_visit_still_carries_heart_failure_and_tb_with_their_dates(client, ehr_lu, ra_model):
    _, token = ehr_lu
    post_visit(client, token, ra_json("V-1", YESTERDAY, {"tender_joint_count_28": 9},
                                      {"heart_failure_nyha": "III", "tuberculosis_status": "latent_untreated"}))
    second = post_visit(client, token, ra_json("V-2", TODAY, {"tender_joint_count_28": 7,
                                                              "swollen_joint_count_28": 4}))
    jobs_run_pending()
    drugs = {d["atc"]: d for d in recommendation(client, token, second["visit"])["drugs"]}
    for atc in ANTI_TNF_RA:
        assert drugs[atc]["contraindicated"], atc
        rules = {f["rule"]: f for f in drugs[atc]["flags"]}
        hf = rules["anti_tnf_heart_failure"]["evidence"]
        assert hf == [{"variable": "heart_failure_nyha", "value": "III", "recorded_on": YESTERDAY.isoformat()}]
    # Every biologic and JAK inhibitor still meets the untreated latent TB.
    assert all(d["contraindicated"] for atc, d in drugs.items() if atc != "L04AX03"), drugs.keys()


def test_the_patient_read_shows_the_state_with_dates_and_the_current_drugs(client, ehr_lu):
    _, token = ehr_lu
    body = ra_json("V-1", YESTERDAY, {"crp": 12.0}, {"heart_failure_nyha": "II"},
                   therapies=[{"drug": "abatacept", "start": "2024-02-01", "dose": "125 mg weekly"}])
    patient = post_visit(client, token, body)["patient"]
    state = client.get(f"/api/v1/patients/{patient}/", **auth(token)).json()["state"]
    assert state["values"]["heart_failure_nyha"] == {
        "value": "II", "status": "current", "recorded_on": YESTERDAY.isoformat(),
        "valid_until": (YESTERDAY + dt.timedelta(days=365)).isoformat(), "source": "REST API", "source_ref": "V-1"}
    assert state["values"]["vte_history"]["status"] == "unknown"
    assert state["current_therapies"] == ["L04AA24"]


def test_a_stop_sent_later_ends_the_line_with_its_reason(client, ehr_lu):
    _, token = ehr_lu
    start = {"drug": "etanercept", "start": "2023-01-10"}
    post_visit(client, token, ra_json("V-1", TODAY - dt.timedelta(days=30), {"esr": 30}, therapies=[start]))
    stopped = {**start, "stop": (TODAY - dt.timedelta(days=2)).isoformat(), "outcome": "adverse_event",
               "stop_detail": "injection-site reaction"}
    patient = post_visit(client, token, ra_json("V-2", TODAY, {"esr": 28}, therapies=[stopped]))["patient"]
    therapies = client.get(f"/api/v1/patients/{patient}/", **auth(token)).json()["therapies"]
    assert [(t["drug"], t["outcome"], t["stop_detail"]) for t in therapies] == [
        ("L04AB01", "adverse_event", "injection-site reaction")]


def uc_on_adalimumab_bundle(system):
    bundle = ra_bundle(system)
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] in ("Patient", "Encounter")]
    bundle["entry"] += [
        {"fullUrl": "urn:uuid:c1", "request": {"method": "POST", "url": "Condition"},
         "resource": {"resourceType": "Condition", "subject": PATIENT, "onsetDateTime": "2008-03-01",
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "K51.0"}]}}},
        {"fullUrl": "urn:uuid:m1", "request": {"method": "POST", "url": "MedicationStatement"},
         "resource": {"resourceType": "MedicationStatement", "status": "active", "subject": PATIENT,
                      "medicationCodeableConcept": {"coding": [{"system": ATC, "code": "L04AB04"}]},
                      "effectivePeriod": {"start": "2010-06-01"}, "dosage": [{"text": "40 mg every 2 weeks"}]}},
    ]
    return bundle


def test_a_fhir_patient_on_adalimumab_since_2010_is_anti_tnf_exposed_and_adalimumab_is_current(
        client, ehr_lu, all_models):
    ehr, token = ehr_lu
    response = client.post("/fhir/", uc_on_adalimumab_bundle(ehr.identifier_system),
                           content_type="application/fhir+json", **auth(token))
    assert response.status_code == 200, response.content
    jobs_run_pending()
    from patients.models import Visit

    visit = Visit.objects.get()
    line = visit.patient.therapies.get()
    assert (line.drug_atc, line.outcome, line.dose) == ("L04AB04", "ongoing", "40 mg every 2 weeks")
    payload = recommendation(client, token, visit.pk)
    adalimumab = next(d for d in payload["drugs"] if d["atc"] == "L04AB04")
    assert adalimumab["current"] is True
    assert payload["drugs"][0]["atc"] != "L04AB04" and not payload["drugs"][0]["current"]
    exposure = next(r for r in payload["drugs"][0]["shap"] if r["feature"] == "prior_anti_tnf_exposure")
    assert exposure["value"] is True and exposure["text"] == "Prior anti-TNF exposure: yes"


@pytest.mark.parametrize("kind", ["transaction", "batch"])
def test_a_fhir_observation_dated_far_from_its_encounter_is_refused_not_moved_onto_the_visit(client, ehr_lu, kind):
    ehr, token = ehr_lu
    bundle = copy.deepcopy(ra_bundle(ehr.identifier_system, kind=kind))
    crp = next(e for e in bundle["entry"] if e["fullUrl"] == "urn:uuid:obs-crp")
    far = TODAY - dt.timedelta(days=3 + OBSERVATION_WINDOW_DAYS + 10)
    crp["resource"]["effectiveDateTime"] = far.isoformat()
    response = client.post("/fhir/", bundle, content_type="application/fhir+json", **auth(token))
    text = response.content.decode()
    assert f"{far.isoformat()} is more than {OBSERVATION_WINDOW_DAYS} days from the encounter" in text
    from patients.models import Visit

    if kind == "transaction":
        assert response.status_code == 422 and not Visit.objects.exists()
    else:
        assert "crp" not in Visit.objects.get().measurements
