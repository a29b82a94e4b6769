import csv
import datetime as dt
import io

from django.utils import timezone

from clinnova.audit import Actor, audit_record
from clinnova.models import AuditEvent
from tests.trust.helpers import sign_in, verified


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_a_privacy_officer_finds_every_event_about_one_patient(priya_client, alice, ra_patient_lu, client_for_alice):
    client_for_alice.get(f"/patients/{ra_patient_lu.pk}/")
    page = priya_client.get("/audit/", {"patient": str(ra_patient_lu.pk)})
    assert page.status_code == 200
    events = list(page.context["page"])
    assert {e.action for e in events} >= {"visit_create", "patient_view"}
    assert all(e.patient_id == ra_patient_lu.pk for e in events)
    assert "Viewed a patient&#x27;s record" in page.content.decode() and "alice" in page.content.decode()
    assert "patient_view" not in page.content.decode().split("<tbody>")[1]  # actions in words, not codes


def test_reading_the_trail_is_itself_recorded(priya_client, priya, ra_patient_lu):
    priya_client.get("/audit/", {"patient": str(ra_patient_lu.pk), "from": "2026-01-01"})
    read = AuditEvent.objects.get(action="audit_read")
    assert read.actor_user == priya and read.patient_id == ra_patient_lu.pk
    assert read.detail == {"patient": str(ra_patient_lu.pk), "user": "", "action": "", "from": "2026-01-01", "to": "",
                           "page": 1}


def test_she_searches_by_user_and_by_period(priya_client, alice, bob):
    today = timezone.localdate()
    for who, days_ago in ((alice, 40), (alice, 3), (bob, 3)):
        AuditEvent.objects.create(actor_user=who, action="patient_view", at=_at(today - dt.timedelta(days=days_ago)))
    by_alice = priya_client.get("/audit/", {"user": "alice"}).context["page"]
    assert [e.actor_user for e in by_alice] == [alice, alice]
    last_week = priya_client.get("/audit/", {"user": "alice", "from": str(today - dt.timedelta(days=7)),
                                             "to": str(today)}).context["page"]
    assert [e.at.date() for e in last_week] == [today - dt.timedelta(days=3)]


def test_a_name_tried_at_a_failed_sign_in_is_found_by_user(priya_client, alice):
    audit_record(actor=Actor(address="10.0.0.1"), action="sign_in_failed", detail={"username": "alice"})
    assert [e.action for e in priya_client.get("/audit/", {"user": "alice"}).context["page"]] == ["sign_in_failed"]


def test_results_come_fifty_to_a_page(priya_client, alice, django_assert_max_num_queries):
    AuditEvent.objects.bulk_create([AuditEvent(actor_user=alice, action="patient_view") for _ in range(60)])
    with django_assert_max_num_queries(12):
        first = priya_client.get("/audit/", {"user": "alice"})
    assert len(first.context["page"]) == 50 and first.context["page"].paginator.count == 60
    second = priya_client.get("/audit/", {"user": "alice", "page": 2})
    assert len(second.context["page"]) == 10
    assert "user=alice&amp;page=2" in first.content.decode()


def test_she_exports_the_filtered_events_as_csv(priya_client, priya, alice, bob):
    AuditEvent.objects.create(actor_user=alice, action="patient_view", site_code="LU")
    AuditEvent.objects.create(actor_user=bob, action="patient_view", site_code="FR")
    response = priya_client.get("/audit/export.csv", {"user": "alice"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="clinnova-audit-')
    rows = _rows(response)
    assert [(r["actor"], r["action"], r["site_code"]) for r in rows] == [("alice", "patient_view", "LU")]
    export = AuditEvent.objects.get(action="audit_export")
    assert export.actor_user == priya and export.detail["user"] == "alice"


def test_the_export_cannot_smuggle_a_spreadsheet_formula(priya_client, client, db):
    sign_in(client, '=HYPERLINK("http://evil.example","x")', "whatever")
    rows = _rows(priya_client.get("/audit/export.csv", {"user": '=HYPERLINK("http://evil.example","x")'}))
    assert rows and rows[0]["detail"].startswith('{"username": "=HYPERLINK')
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


def test_a_wrong_filter_is_explained_not_crashed_on(priya_client):
    response = priya_client.get("/audit/", {"patient": "LU-9999", "from": "yesterday", "action": "drop_table"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "No patient has the id “LU-9999”" in page and "must be a date" in page
    assert "“drop_table” is not an action of the audit trail" in page


def test_she_finds_a_patient_by_the_ehrs_identifier(priya_client, ra_patient_lu, client_for_alice):
    client_for_alice.get(f"/patients/{ra_patient_lu.pk}/")
    page = priya_client.get("/audit/", {"patient": "LU-0001"})
    assert page.status_code == 200
    events = list(page.context["page"])
    assert events and all(e.patient_id == ra_patient_lu.pk for e in events)
    assert AuditEvent.objects.get(action="audit_read").patient_id == ra_patient_lu.pk


def test_she_filters_by_action_and_reads_the_details_in_words(priya_client, ra_patient_lu, client_for_alice):
    client_for_alice.get(f"/patients/{ra_patient_lu.pk}/")
    response = priya_client.get("/audit/", {"action": "patient_view"})
    assert {e.action for e in response.context["page"]} == {"patient_view"}
    body = response.content.decode().split("<tbody>")[1]
    assert "<dt>Page</dt><dd>patient page</dd>" in body and "page: detail" not in body
    assert '<option value="patient_view" selected>' in response.content.decode()


def test_a_clinician_cannot_read_the_trail_and_the_refusal_is_recorded(alice_client, alice):
    assert alice_client.get("/audit/").status_code == 403
    assert alice_client.get("/audit/export.csv").status_code == 403
    assert AuditEvent.objects.filter(action="access_refused", actor_user=alice).count() == 2
    assert not AuditEvent.objects.filter(action__in=["audit_read", "audit_export"]).exists()


def test_a_model_admin_cannot_read_the_trail_either(client, mia):
    verified(client, mia)
    assert client.get("/audit/").status_code == 403
