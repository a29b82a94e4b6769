"""The screenings and conditions the safety rules read arrive through every door: JSON, FHIR (by LOINC code,
SNOMED CT values, titres with the lab's reference limit, dates) and the web form."""

import datetime as dt

import pytest

from doors.fhir import codes
from doors.fhir.observations import MappingError, observation_read
from patients import dictionary
from patients.models import TherapyExposure, Visit
from tests.integration.fhir_helpers import LOINC, SNOMED, UCUM, observation, post_bundle, ra_bundle
from tests.patients.api_helpers import auth, visit_body

# A value each kind of variable can take, as a FHIR Observation value element.
SAMPLE = {dictionary.Kind.QUANTITY: lambda v: {"valueQuantity": {"value": v.minimum + (v.step or 1),
                                                                  "system": UCUM, "code": v.unit}},
          dictionary.Kind.INTEGER: lambda v: {"valueInteger": int(v.minimum) + 1},
          dictionary.Kind.BOOLEAN: lambda v: {"valueBoolean": True},
          dictionary.Kind.CODE: lambda v: {"valueCodeableConcept": {"coding": [
              {"system": codes.VARIABLE_VALUES + v.name, "code": v.code_values[-1]}]}},
          dictionary.Kind.DATE: lambda v: {"valueDateTime": "2025-03-01"}}


# Derived variables (age, sex) carry LOINC codes for what we send, never for what we read.
POSTED_LOINC = sorted(code for code, var in dictionary.BY_LOINC.items() if var.origin != dictionary.Origin.DERIVED)


@pytest.mark.parametrize("loinc", POSTED_LOINC)
def test_every_loinc_code_of_the_dictionary_maps_a_fhir_observation_to_its_variable(loinc):
    var = dictionary.BY_LOINC[loinc]
    value = SAMPLE[var.kind](var)
    if var.titre is not None:
        value = {"valueQuantity": {"value": 30, "system": UCUM, "code": var.titre.unit},
                 "referenceRange": [{"high": {"value": 14, "system": UCUM, "code": var.titre.unit}}]}
    measured = observation_read({"resourceType": "Observation", "status": "final",
                                 "code": {"coding": [{"system": LOINC, "code": loinc}]}, **value})
    assert measured.variable is var
    disease = sorted(var.diseases)[0]
    assert var.name in dictionary.clean_measurements(disease, {var.name: measured.value})


def test_a_serology_result_coded_in_snomed_ct_is_read_as_positive_or_negative():
    measured = observation_read({"resourceType": "Observation", "status": "final",
                                 "code": {"coding": [{"system": LOINC, "code": "5196-1"}]},
                                 "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "10828004"}]}})
    assert (measured.variable.name, measured.value) == ("hbsag", "positive")


def _rf(value, high=None):
    resource = {"valueQuantity": {"value": value, "system": UCUM, "code": "[IU]/mL"}}
    if high is not None:
        resource["referenceRange"] = [{"high": {"value": high, "system": UCUM, "code": "[IU]/mL"}}]
    return observation("urn:uuid:obs-rf", {"system": LOINC, "code": "11572-5"}, **resource)


def _with_rf(bundle, entry):
    bundle["entry"][8] = entry
    return bundle


def test_a_rheumatoid_factor_titre_with_the_labs_limit_is_stored_as_positivity(client, ehr_lu):
    ehr, token = ehr_lu
    assert post_bundle(client, token, _with_rf(ra_bundle(ehr.identifier_system), _rf(35, 14))).status_code == 200
    assert Visit.objects.get().measurements["rf_positive"] is True  # above the limit: positive (ACR/EULAR 2010)
    low = _with_rf(ra_bundle(ehr.identifier_system, encounter_id="enc-2"), _rf(14, 14))
    assert post_bundle(client, token, low).status_code == 200
    assert Visit.objects.get(source_id="enc-2").measurements["rf_positive"] is False  # at the limit: negative


def test_a_titre_without_the_labs_limit_is_refused_naming_the_element(client, ehr_lu):
    ehr, token = ehr_lu
    response = post_bundle(client, token, _with_rf(ra_bundle(ehr.identifier_system), _rf(35)))
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Bundle.entry[8].resource.referenceRange"]
    assert "upper reference limit" in issue["diagnostics"]
    assert not Visit.objects.exists()


def test_the_json_api_takes_a_titre_or_a_result_and_names_what_it_allows(client, ehr_lu):
    _, token = ehr_lu
    body = visit_body()
    body["measurements"].update(rf_positive={"value": 35, "unit": "[IU]/mL", "reference_high": 14},
                                anti_ccp_positive={"value": 9, "unit": "U/mL", "reference_high": 17})
    assert client.post("/api/v1/visits/", body, content_type="application/json", **auth(token)).status_code == 201
    stored = Visit.objects.get().measurements
    assert stored["rf_positive"] is True and stored["anti_ccp_positive"] is False
    bad = visit_body(visit_id="V-2")
    bad["measurements"]["rf_positive"] = 35
    response = client.post("/api/v1/visits/", bad, content_type="application/json", **auth(token))
    assert response.status_code == 400
    error = next(e for e in response.json()["errors"] if e["field"] == "measurements.rf_positive")
    assert error["value"] == 35 and "reference_high" in error["message"]


def test_alt_with_the_labs_limit_lymphocytes_per_microlitre_and_an_event_date_arrive_by_json(client, ehr_lu):
    _, token = ehr_lu
    body = visit_body()
    body["measurements"].update(alt={"value": 1.2, "unit": "ukat/L", "reference_high": 0.6},
                                lymphocytes={"value": 800, "unit": "/uL"}, hbsag="negative")
    body["comorbidities"].update(arterial_event_on="2025-11-02", arterial_disease_history=True,
                                 av_conduction="first_degree")
    response = client.post("/api/v1/visits/", body, content_type="application/json", **auth(token))
    assert response.status_code == 201, response.content
    stored = Visit.objects.get().measurements
    assert stored["alt"] == 72.0 and stored["alt_uln"] == 36.0 and stored["lymphocytes"] == 0.8
    assert stored["arterial_event_on"] == "2025-11-02" and stored["hbsag"] == "negative"


def test_an_event_date_in_the_future_or_an_edss_of_half_is_refused_with_what_is_allowed(client, ehr_lu):
    _, token = ehr_lu
    body = visit_body()
    body["comorbidities"]["arterial_event_on"] = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    errors = client.post("/api/v1/visits/", body, content_type="application/json", **auth(token)).json()["errors"]
    assert "from 1900 to today" in next(e for e in errors if e["field"] == "comorbidities.arterial_event_on")["message"]
    ms = visit_body(visit_id="V-MS", disease="multiple_sclerosis", measurements={"edss": 0.5})
    errors = client.post("/api/v1/visits/", ms, content_type="application/json", **auth(token)).json()["errors"]
    assert next(e for e in errors if e["field"] == "measurements.edss")["message"].startswith("must be one of 0, 1,")
    assert not Visit.objects.exists()


def test_the_stop_detail_of_an_adverse_event_arrives_by_json_and_by_fhir(client, ehr_lu):
    ehr, token = ehr_lu
    body = visit_body()
    body["therapies"] = [{"drug": "adalimumab", "start": "2020-01-01", "stop": "2020-02-01",
                          "outcome": "adverse_event", "stop_detail": "anaphylaxis"}]
    assert client.post("/api/v1/visits/", body, content_type="application/json", **auth(token)).status_code == 201
    assert TherapyExposure.objects.get().stop_detail == "anaphylaxis"
    TherapyExposure.objects.all().delete()
    bundle = ra_bundle(ehr.identifier_system, encounter_id="enc-9")
    statement = bundle["entry"][10]["resource"]
    statement["statusReason"] = [{"coding": [{"system": codes.THERAPY_OUTCOME, "code": "adverse_event"},
                                             {"system": SNOMED, "code": "39579001", "display": "Anaphylaxis"}]}]
    assert post_bundle(client, token, bundle).status_code == 200
    line = TherapyExposure.objects.get()
    assert line.outcome == "adverse_event" and line.stop_detail == "SNOMED 39579001 Anaphylaxis"


def test_an_event_date_arrives_by_fhir_as_value_date_time(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system)
    bundle["entry"].append(observation("urn:uuid:obs-mi", {"system": codes.VARIABLE, "code": "arterial_event_on"},
                                       valueDateTime="2024-05-06"))
    assert post_bundle(client, token, bundle).status_code == 200
    assert Visit.objects.get().measurements["arterial_event_on"] == "2024-05-06"


def test_a_value_date_time_for_a_quantity_is_refused_naming_the_element():
    with pytest.raises(MappingError) as exc:
        observation_read({"resourceType": "Observation", "status": "final",
                          "code": {"coding": [{"system": LOINC, "code": "731-0"}]}, "valueDateTime": "2024-05-06"})
    assert exc.value.element == "valueDateTime"


def test_the_web_form_asks_for_screenings_and_takes_an_event_date(alice_client, ra_patient_lu,
                                                                   django_capture_on_commit_callbacks):
    page = alice_client.get(f"/patients/{ra_patient_lu.pk}/visits/new").content.decode()
    assert 'name="arterial_event_on"' in page and 'type="date"' in page and 'name="hbsag"' in page
    response = alice_client.post(f"/patients/{ra_patient_lu.pk}/visits/new", {
        "visit_date": dt.date.today().isoformat(), "tender_joint_count_28": "4", "arterial_event_on": "2025-02-03",
        "hbsag": "negative", "lymphocytes": "1.4"})
    assert response.status_code == 302
    stored = Visit.objects.filter(patient=ra_patient_lu).order_by("-created_at").first().measurements
    assert stored["arterial_event_on"] == "2025-02-03" and stored["hbsag"] == "negative"
    assert stored["lymphocytes"] == 1.4


def test_a_myocardial_infarction_sent_as_a_condition_dates_the_last_arterial_event(client, ehr_lu):
    ehr, token = ehr_lu
    bundle = ra_bundle(ehr.identifier_system)
    for n, (code, onset) in enumerate((("22298006", "2021-04-02"), ("266257000", "2025-09-30"))):
        bundle["entry"].append({"fullUrl": f"urn:uuid:cv-{n}", "request": {"method": "POST", "url": "Condition"},
                                "resource": {"resourceType": "Condition", "subject": {"reference": "urn:uuid:patient-1"},
                                             "code": {"coding": [{"system": SNOMED, "code": code}]},
                                             "onsetDateTime": onset}})
    assert post_bundle(client, token, bundle).status_code == 200
    stored = Visit.objects.get().measurements
    assert stored["arterial_disease_history"] is True and stored["arterial_event_on"] == "2025-09-30"
