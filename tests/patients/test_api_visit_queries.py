"""The JSON door stores a visit with a fixed number of SQL statements, however much the visit carries.

Statements, not timings: each one is a round trip to the database and a query the ORM builds, under
every EHR client's load.
"""

import datetime as dt
import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinnova.models import AuditEvent
from patients.models import TherapyExposure
from tests.patients.api_helpers import auth, visit_body

URL = "/api/v1/visits/"
THERAPIES = [
    {"drug": "L04AB04", "start": "2018-01-01", "stop": "2019-06-01", "outcome": "secondary_loss_of_response"},
    {"drug": "L04AB01", "start": "2019-07-01", "stop": "2020-06-01", "outcome": "primary_non_response"},
    {"drug": "L04AC07", "start": "2020-07-01", "stop": "2021-01-01", "outcome": "adverse_event",
     "stop_detail": "neutropenia"},
    {"drug": "L04AA24", "start": "2021-02-01", "stop": "2022-01-01", "outcome": "secondary_loss_of_response"},
    {"drug": "L04AA29", "start": "2022-02-01"},
]
# Authentication, key claim, patient look-up, patient, identifier, diagnosis, therapy lines, visit, record
# entries, audit event, scoring job, and the transactions' savepoints. The answer's recommendation status is
# "pending" without a read: this request has just queued its job.
NEW_PATIENT_STATEMENTS = 15
# The patient, its diagnosis and its lines for the drugs sent are read instead of written; lines sent again
# unchanged are not written. New lines add one INSERT, changed lines one UPDATE, however many there are.
KNOWN_PATIENT_STATEMENTS = 13


def post(client, token, body):
    with CaptureQueriesContext(connection) as queries:
        r = client.post(URL, json.dumps(body), content_type="application/json", **auth(token))
    assert r.status_code in (200, 201), r.json()
    return len(queries), r


def warm_up(client, token):
    """A first request records the client's use (at most once a minute): not counted."""
    post(client, token, visit_body(visit_id="V-0", patient={"id": "P-0", "sex": "male", "birth_year": 1970}))


def test_a_new_patients_visit_takes_a_fixed_number_of_statements_whatever_its_therapies(client, ehr_lu):
    _, token = ehr_lu
    warm_up(client, token)
    one, _ = post(client, token, visit_body(visit_id="V-1", patient={"id": "P-1", "sex": "female", "birth_year": 1968},
                                            therapies=THERAPIES[:1]))
    five, _ = post(client, token, visit_body(visit_id="V-2", patient={"id": "P-2", "sex": "female", "birth_year": 1968},
                                             therapies=THERAPIES))
    assert (one, five) == (NEW_PATIENT_STATEMENTS, NEW_PATIENT_STATEMENTS)
    assert TherapyExposure.objects.filter(patient__identifiers__value="P-2").count() == 5


def test_a_known_patients_visit_takes_a_fixed_number_whatever_it_updates(client, ehr_lu):
    _, token = ehr_lu
    patient = {"id": "P-1", "sex": "female", "birth_year": 1968}
    warm_up(client, token)
    post(client, token, visit_body(visit_id="V-1", patient=patient, therapies=[THERAPIES[0], THERAPIES[4]]))
    later = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    same, _ = post(client, token, visit_body(visit_id="V-2", date=later, patient=patient,
                                             therapies=[THERAPIES[0], THERAPIES[4]]))
    # Three new lines, one sent again unchanged, one stopped since: one INSERT and one UPDATE.
    stopped = {**THERAPIES[4], "stop": later, "outcome": "adverse_event", "stop_detail": "rash"}
    more, _ = post(client, token, visit_body(visit_id="V-3", date=later, patient=patient,
                                             therapies=[*THERAPIES[:4], stopped]))
    assert (same, more) == (KNOWN_PATIENT_STATEMENTS, KNOWN_PATIENT_STATEMENTS + 2)
    lines = list(TherapyExposure.objects.filter(patient__identifiers__value="P-1"))
    assert len(lines) == 5
    assert [(t.stopped_on.isoformat(), t.outcome) for t in lines if t.stop_detail == "rash"] == [
        (later, "adverse_event")]
    assert AuditEvent.objects.filter(action="visit_create").count() == 4


def test_a_replay_reads_the_stored_visit_and_writes_only_its_audit_event(client, ehr_lu):
    _, token = ehr_lu
    body = visit_body(therapies=THERAPIES)
    warm_up(client, token)
    post(client, token, body)
    n, r = post(client, token, body)
    assert r.status_code == 200
    # Authentication, key claim (nothing inserted), the stored key with its visit, the audited read, the status.
    assert n <= 7
