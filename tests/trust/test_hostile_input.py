"""Hostile input gets a clear 4xx or is stored as plain text and shown escaped; nothing else happens."""

import io

from django.db import connection

from clinnova.models import AuditEvent
from patients.models import PatientIdentifier, Visit
from tests.patients.api_helpers import auth, visit_body
from tests.trust.helpers import verified

INJECTION = "<script>alert('x')</script>'); DROP TABLE patients_visit;--"
# A visit id is a path segment of PUT /api/v1/visits/{visit_id}, so it may not hold "/".
INJECTION_ID = "x'); DROP TABLE patients_visit;--<img src=x onerror=alert(1)>"


def post(client, token, data, content_type="application/json"):
    return client.post("/api/v1/visits/", data, content_type=content_type, **auth(token))


def test_injection_strings_are_stored_as_text_and_rendered_escaped(client, ehr_lu, alice):
    _, token = ehr_lu
    body = visit_body(visit_id=INJECTION_ID, patient={"id": INJECTION, "sex": "female", "birth_year": 1970})
    assert post(client, token, body).status_code == 201
    assert Visit.objects.get().source_id == INJECTION_ID  # stored verbatim, as text
    assert PatientIdentifier.objects.get().value == INJECTION
    client.force_login(alice)
    page = client.get("/patients/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)" in page  # the list shortens long ids
    assert "<script>alert(" not in page
    patient_page = client.get(f"/patients/{Visit.objects.get().patient_id}/").content.decode()
    assert "<script>alert(" not in patient_page and "&lt;script&gt;" in patient_page
    with connection.cursor() as cursor:  # the table is still there
        cursor.execute("SELECT COUNT(*) FROM patients_visit")
        assert cursor.fetchone()[0] == 1


def test_an_injection_string_as_a_drug_or_code_is_a_400_naming_the_field(client, ehr_lu):
    _, token = ehr_lu
    body = visit_body(therapies=[{"drug": INJECTION, "start": "2020-01-01"}])
    body["measurements"]["smoking_status"] = INJECTION
    response = post(client, token, body)
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"therapies[0].drug", "measurements.smoking_status"} <= fields
    assert not Visit.objects.exists()


def test_deeply_nested_json_is_a_400_and_stores_nothing(client, ehr_lu):
    _, token = ehr_lu
    deep = "[" * 5000 + "]" * 5000
    response = post(client, token, '{"visit_id": "V-deep", "measurements": ' + deep + "}")
    assert response.status_code == 400
    assert response.json()["code"]
    assert not Visit.objects.exists()


def test_a_body_that_is_not_utf8_is_a_400(client, ehr_lu):
    _, token = ehr_lu
    response = post(client, token, b'{"visit_id": "\xff\xfe caf\xe9"}')
    assert response.status_code == 400
    assert not Visit.objects.exists()


def test_a_path_in_an_uploaded_file_name_is_reduced_to_its_name(client, mia):
    verified(client, mia)
    upload = io.BytesIO(b"not a model")
    upload.name = "../../etc/evil.zip"
    response = client.post("/api/v1/model-versions/", {"file": upload})
    assert response.status_code == 422
    assert response.json()["filename"] == "evil.zip"


def test_guessing_another_sites_patient_uuid_is_a_404_and_is_audited(client, bob, ra_patient_lu):
    client.force_login(bob)
    for path in (f"/patients/{ra_patient_lu.pk}/", f"/patients/{ra_patient_lu.pk}/compare/",
                 f"/patients/{ra_patient_lu.pk}/visits/new"):
        assert client.get(path).status_code == 404
    refusals = AuditEvent.objects.filter(action="access_refused", patient_id=ra_patient_lu.pk, actor_user=bob)
    assert refusals.count() == 3
