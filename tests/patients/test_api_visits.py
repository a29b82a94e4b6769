import datetime as dt
import json
import threading

import pytest
from django.db import connection
from django.test import Client

from clinnova.models import AuditEvent
from patients.models import IngestKey, Patient, TherapyExposure, Visit, VisitRevision
from tests.conftest import services_missing
from tests.patients.api_helpers import TODAY, auth, visit_body

URL = "/api/v1/visits/"


def post(client, token, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data, content_type=extra.pop("content_type", "application/json"), **auth(token), **extra)


def put(client, token, visit_id, body):
    return client.put(f"{URL}{visit_id}", json.dumps(body), content_type="application/json", **auth(token))


def nothing_stored():
    return Visit.objects.count() == 0 and IngestKey.objects.count() == 0 and Patient.objects.count() == 0


def test_it_stores_a_visit_and_answers_where_its_recommendation_will_be(client, ehr_lu):
    _, token = ehr_lu
    r = post(client, token, visit_body())
    assert r.status_code == 201, r.json()
    body = r.json()
    visit = Visit.objects.get()
    assert body["visit_id"] == "V-1"
    assert body["visit"] == str(visit.pk)
    assert body["patient"] == str(visit.patient_id)
    assert body["recommendation"]["url"] == f"/api/v1/visits/{visit.pk}/recommendation/"
    assert body["recommendation"]["status"]
    assert visit.source == "api"
    assert visit.source_system == "urn:clinnova:LU:ehr:epic"
    assert visit.measurements["vte_history"] is False  # comorbidities are stored with the measurements
    assert TherapyExposure.objects.get().drug.name == "adalimumab"


def test_the_same_post_again_answers_200_with_the_same_body_and_stores_nothing_new(client, ehr_lu):
    _, token = ehr_lu
    first = post(client, token, visit_body())
    again = post(client, token, visit_body())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Visit.objects.count() == 1
    assert IngestKey.objects.count() == 1
    assert AuditEvent.objects.filter(action="visit_create").count() == 1


def test_crp_in_mg_per_dl_is_converted_and_is_the_same_content_as_mg_per_l(client, ehr_lu):
    _, token = ehr_lu
    body = visit_body()
    body["measurements"]["crp"] = {"value": 2.4, "unit": "mg/dL"}
    assert post(client, token, body).status_code == 201
    assert Visit.objects.get().measurements["crp"] == pytest.approx(24.0)
    body["measurements"]["crp"] = 24
    assert post(client, token, body).status_code == 200


def test_the_same_visit_id_with_other_content_is_a_conflict_naming_the_field(client, ehr_lu):
    _, token = ehr_lu
    post(client, token, visit_body())
    changed = visit_body()
    changed["measurements"]["crp"] = 30.0
    r = post(client, token, changed)
    assert r.status_code == 409
    assert r.json()["code"] == "conflict"
    assert r.json()["differing_fields"] == ["measurements.crp"]
    assert "PUT /api/v1/visits/V-1" in r.json()["message"]
    assert Visit.objects.get().measurements["crp"] == 14.0


def test_visit_ids_are_per_client(client, ehr_lu, ehr_fr):
    assert post(client, ehr_lu[1], visit_body()).status_code == 201
    assert post(client, ehr_fr[1], visit_body()).status_code == 201
    assert Visit.objects.count() == 2
    assert {v.site.code for v in Visit.objects.all()} == {"LU", "FR"}


@pytest.mark.django_db(transaction=True)
def test_a_dozen_identical_posts_at_once_store_one_visit(ehr_lu):
    if connection.vendor == "sqlite":
        services_missing("concurrent writers need PostgreSQL (SQLite answers 'database is locked')")
    _, token = ehr_lu
    results, start = [], threading.Barrier(12)

    def send():
        try:
            start.wait()
            r = post(Client(), token, visit_body())
            results.append((r.status_code, r.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(code for code, _ in results) == [200] * 11 + [201]
    # The recommendation's status is live (pending until scored); everything else is the same body.
    assert len({json.dumps({**body, "recommendation": body["recommendation"]["url"]}) for _, body in results}) == 1
    assert Visit.objects.count() == 1
    assert Patient.objects.count() == 1


@pytest.mark.parametrize("change,field", [
    (lambda b: b.update(disease="lupus"), "disease"),
    (lambda b: b["therapies"][0].update(drug="X99ZZ99"), "therapies[0].drug"),
    (lambda b: b["measurements"].update(crp=600), "measurements.crp"),
    (lambda b: b["measurements"].update(crp={"value": 2, "unit": "mmol/L"}), "measurements.crp"),
    (lambda b: b["measurements"].update(crp="high"), "measurements.crp"),
    (lambda b: b["measurements"].update(crp=10 ** 400), "measurements.crp"),
    (lambda b: b["measurements"].update(blood_pressure=120), "measurements.blood_pressure"),
    (lambda b: b["comorbidities"].update(crp=3), "comorbidities.crp"),
    (lambda b: b.update(date=(TODAY + dt.timedelta(days=2)).isoformat()), "date"),
    (lambda b: b.update(date="1950-06-01"), "date"),
    (lambda b: b.update(date="2024-02-30"), "date"),
    (lambda b: b["patient"].update(sex="f"), "patient.sex"),
    (lambda b: b["patient"].update(birth_year=TODAY.year + 1), "patient.birth_year"),
    (lambda b: b["therapies"][0].update(start=TODAY.isoformat(), stop=None, outcome="ongoing",
                                        response_at_followup=None), "therapies[0].start"),
    (lambda b: b.pop("visit_id"), "visit_id"),
    (lambda b: b.update(visit_id="V/1"), "visit_id"),
    (lambda b: b.update(visit_id="V\u00001"), "visit_id"),
    (lambda b: b.update(measurement={}), "measurement"),
])
def test_it_rejects_a_bad_visit_naming_the_field_and_stores_nothing(client, ehr_lu, change, field):
    body = visit_body()
    change(body)
    r = post(client, ehr_lu[1], body)
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "invalid"
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert all({"field", "value", "message"} <= set(e) for e in r.json()["errors"])
    assert nothing_stored()


def test_an_error_echoes_the_value_and_says_what_is_allowed(client, ehr_lu):
    body = visit_body()
    body["measurements"]["crp"] = 600
    error = post(client, ehr_lu[1], body).json()["errors"][0]
    assert error == {"field": "measurements.crp", "value": 600,
                     "message": "is out of range: must be a number from 0 to 500 mg/L in steps of 0.1"}


@pytest.mark.parametrize("raw,code", [
    ('{"visit_id": "V-1",', "malformed_json"),
    ('{"visit_id": NaN}', "malformed_json"),
    ('{"visit_id": "\\ud800"}', "malformed_json"),
    ("[" * 100_000 + "]" * 100_000, "malformed_json"),
    (b"\xff\xfe{}", "malformed_json"),
    ("[1, 2]", "invalid"),
])
def test_a_body_that_is_not_a_json_object_is_a_400(client, ehr_lu, raw, code):
    r = post(client, ehr_lu[1], raw)
    assert r.status_code == 400
    assert r.json()["code"] == code
    assert nothing_stored()


def test_a_body_over_the_limit_is_a_413_read_no_further(client, ehr_lu):
    body = visit_body()
    body["measurements"]["padding"] = "x" * 300_000
    r = post(client, ehr_lu[1], body)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    assert nothing_stored()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_that_is_not_json_is_a_415(client, ehr_lu, content_type):
    r = post(client, ehr_lu[1], json.dumps(visit_body()), content_type=content_type)
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type"
    assert nothing_stored()


def test_put_amends_the_visit_and_keeps_the_previous_content(client, ehr_lu):
    _, token = ehr_lu
    post(client, token, visit_body())
    r = put(client, token, "V-1", {"date": visit_body()["date"], "measurements": {**visit_body()["measurements"],
                                                                                 "crp": {"value": 3, "unit": "mg/dL"}}})
    assert r.status_code == 200, r.json()
    assert r.json()["version"] == 2
    visit = Visit.objects.get()
    assert visit.measurements["crp"] == 30.0
    revision = VisitRevision.objects.get(visit=visit)
    assert revision.version == 1
    assert revision.measurements["crp"] == 14.0
    assert r.json()["visit"] == str(visit.pk)


def test_put_with_the_current_content_changes_nothing(client, ehr_lu):
    _, token = ehr_lu
    post(client, token, visit_body())
    body = visit_body()
    r = put(client, token, "V-1", {k: body[k] for k in ("date", "measurements", "comorbidities")})
    assert r.status_code == 200
    assert r.json()["version"] == 1
    assert not VisitRevision.objects.exists()


def test_after_an_amendment_posting_the_amended_content_is_not_a_conflict(client, ehr_lu):
    _, token = ehr_lu
    post(client, token, visit_body())
    amended = visit_body()
    amended["measurements"]["crp"] = 30.0
    put(client, token, "V-1", {k: amended[k] for k in ("date", "measurements", "comorbidities")})
    assert post(client, token, amended).status_code == 200


def test_put_rejects_bad_values_and_keeps_the_visit(client, ehr_lu):
    _, token = ehr_lu
    post(client, token, visit_body())
    r = put(client, token, "V-1", {"date": visit_body()["date"], "measurements": {"crp": -1}})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "measurements.crp"
    assert Visit.objects.get().version == 1


def test_put_of_a_visit_id_this_client_never_sent_is_a_404(client, ehr_lu, ehr_fr):
    post(client, ehr_lu[1], visit_body())
    body = {"date": visit_body()["date"], "measurements": {}}
    for never_sent in ("V-404", "V%001", "x" * 300):
        assert put(client, ehr_lu[1], never_sent, body).status_code == 404
    r = put(client, ehr_fr[1], "V-1", body)
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


@pytest.mark.parametrize("where", ["top", "patient", "therapy"])
def test_post_refuses_an_unknown_key_naming_it_and_stores_nothing(client, ehr_lu, where):
    body = visit_body()
    {"top": body, "patient": body["patient"], "therapy": body["therapies"][0]}[where]["crp_value"] = 14
    r = post(client, ehr_lu[1], body)
    assert r.status_code == 400
    field = {"top": "crp_value", "patient": "patient.crp_value", "therapy": "therapies[0].crp_value"}[where]
    assert r.json()["errors"] == [{"field": field, "value": 14, "message": "is not a field of this request"}]
    assert nothing_stored()


def test_put_refuses_an_unknown_key_as_post_does_and_keeps_the_visit(client, ehr_lu):
    _, token = ehr_lu
    post(client, token, visit_body())
    # The whole POST body sent again as an amendment: only date, measurements and comorbidities can change.
    r = put(client, token, "V-1", {**visit_body(), "date": visit_body()["date"]})
    assert r.status_code == 400
    assert {e["field"] for e in r.json()["errors"]} == {"visit_id", "patient", "disease", "therapies"}
    assert all(e["message"] == "is not a field of this request" for e in r.json()["errors"])
    assert Visit.objects.get().version == 1
