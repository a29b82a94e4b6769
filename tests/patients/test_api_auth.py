import datetime as dt
import io
import json

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from clinnova.models import AuditEvent
from doors.api.auth import EHRClientThrottle
from patients.models import EHRClient, Visit
from tests.patients.api_helpers import auth, visit_body


def post_visit(client, **headers):
    return client.post("/api/v1/visits/", json.dumps(visit_body()), content_type="application/json", **headers)


def test_a_visit_without_a_token_is_a_401_that_says_how_to_authenticate(client, ehr_lu):
    r = post_visit(client)
    assert r.status_code == 401
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert r.json()["code"] == "not_authenticated"
    assert not Visit.objects.exists()


def test_an_unknown_token_is_a_401(client, ehr_lu):
    _, token = ehr_lu
    r = post_visit(client, **auth(token[:8] + "x" * (len(token) - 8)))
    assert r.status_code == 401
    assert r.json()["code"] == "authentication_failed"


def test_a_revoked_token_is_answered_exactly_like_an_unknown_one_and_audited(client, ehr_lu):
    from clinnova.models import AuditEvent

    ehr, token = ehr_lu
    unknown = post_visit(client, **auth(token[:8] + "x" * (len(token) - 8)))
    ehr.revoked_at = timezone.now()
    ehr.save(update_fields=["revoked_at"])
    r = post_visit(client, **auth(token))
    assert r.status_code == unknown.status_code == 401
    assert r.json() == unknown.json()
    assert not Visit.objects.exists()
    event = AuditEvent.objects.get(action="access_refused", detail__reason="revoked EHR token")
    assert event.actor_client == ehr.actor_name


def test_token_and_bearer_keywords_both_work(client, ehr_lu):
    _, token = ehr_lu
    assert post_visit(client, **auth(token, "Token")).status_code == 201
    assert post_visit(client, **auth(token, "Bearer")).status_code == 200


def test_a_signed_in_clinician_is_not_an_ehr_client(alice_client, ehr_lu):
    r = post_visit(alice_client)
    assert r.status_code == 401
    assert not Visit.objects.exists()


def test_last_use_is_recorded_at_most_once_a_minute(client, ehr_lu):
    ehr, token = ehr_lu
    post_visit(client, **auth(token))
    ehr.refresh_from_db()
    first = ehr.last_used_at
    assert first is not None
    client.get("/api/v1/patients/00000000-0000-0000-0000-000000000000/", **auth(token))
    ehr.refresh_from_db()
    assert ehr.last_used_at == first
    EHRClient.objects.filter(pk=ehr.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    client.get("/api/v1/patients/00000000-0000-0000-0000-000000000000/", **auth(token))
    ehr.refresh_from_db()
    assert ehr.last_used_at > first


def test_a_client_over_its_rate_is_throttled_with_a_429(client, ehr_lu, monkeypatch):
    _, token = ehr_lu
    monkeypatch.setattr(EHRClientThrottle, "THROTTLE_RATES", {"ehr_client": "2/min"})
    cache.clear()
    url = "/api/v1/patients/00000000-0000-0000-0000-000000000000/"
    assert [client.get(url, **auth(token)).status_code for _ in range(2)] == [404, 404]
    r = client.get(url, **auth(token))
    assert r.status_code == 429
    assert r.json()["code"] == "throttled"
    cache.clear()


def test_the_command_prints_the_token_once_and_stores_only_its_hash(site_lu, client):
    out = io.StringIO()
    call_command("create_ehr_client", "--site", "LU", "--name", "cerner", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    ehr = EHRClient.objects.get(name="cerner")
    assert ehr.identifier_system == "urn:clinnova:LU:ehr:cerner"
    assert token not in (ehr.token_hash, ehr.token_prefix)
    assert ehr.token_matches(token)
    assert post_visit(client, **auth(token)).status_code == 201
    assert AuditEvent.objects.filter(action="ehr_client_create").exists()


def test_the_command_refuses_a_second_client_of_the_same_name(site_lu):
    call_command("create_ehr_client", "--site", "LU", "--name", "cerner", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--rotate"):
        call_command("create_ehr_client", "--site", "LU", "--name", "cerner", stdout=io.StringIO())


def test_rotating_issues_a_new_token_and_the_old_one_stops_working(site_lu, client):
    out = io.StringIO()
    call_command("create_ehr_client", "--site", "LU", "--name", "cerner", stdout=out)
    old = out.getvalue().strip().splitlines()[-1]
    out = io.StringIO()
    call_command("create_ehr_client", "--site", "LU", "--name", "cerner", "--rotate", stdout=out)
    new = out.getvalue().strip().splitlines()[-1]
    assert post_visit(client, **auth(old)).status_code == 401
    assert post_visit(client, **auth(new)).status_code == 201
    assert EHRClient.objects.count() == 1


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer \x00abcdefghijklmnopqrstuvwxyz",
                                    "Token " + "a" * 5000])
def test_a_malformed_authorization_header_is_a_401(client, ehr_lu, header):
    r = post_visit(client, HTTP_AUTHORIZATION=header)
    assert r.status_code == 401
    assert r.json()["code"] == "authentication_failed"


def test_an_admin_revokes_a_token_and_it_stops_working_at_once(client, admin_client, ehr_lu):
    ehr, token = ehr_lu
    r = admin_client.post("/admin/patients/ehrclient/", {"action": "revoke_tokens", "_selected_action": [ehr.pk]})
    assert r.status_code == 302
    ehr.refresh_from_db()
    assert ehr.revoked_at is not None
    assert AuditEvent.objects.filter(action="ehr_token_revoke", object_id=str(ehr.pk)).exists()
    assert post_visit(client, **auth(token)).status_code == 401
    assert admin_client.get(f"/admin/patients/ehrclient/{ehr.pk}/change/").status_code == 200
