import json

from axes.models import AccessAttempt

from clinnova.models import AuditEvent
from tests.trust.helpers import sign_in

AGENT = "Mozilla/5.0 (ward PC 12)"


def test_a_successful_sign_in_is_audited_with_address_and_browser(client, alice):
    sign_in(client, "alice", address="10.1.2.3", HTTP_USER_AGENT=AGENT)
    event = AuditEvent.objects.get(action="sign_in")
    assert event.actor_user == alice and event.address == "10.1.2.3" and event.user_agent == AGENT


def test_a_failed_sign_in_records_the_name_tried_and_never_the_password(client, alice):
    sign_in(client, "alice", "Tr0ub4dor&3-guess", address="10.1.2.3")
    event = AuditEvent.objects.get(action="sign_in_failed")
    assert event.actor_user is None and event.detail == {"username": "alice"} and event.address == "10.1.2.3"
    stored = json.dumps(list(AuditEvent.objects.values())
                        + list(AccessAttempt.objects.values("username", "get_data", "post_data")), default=str)
    assert "Tr0ub4dor" not in stored


def test_an_unknown_name_is_recorded_as_tried(client, db):
    sign_in(client, "nobody-here", "whatever")
    assert AuditEvent.objects.get(action="sign_in_failed").detail == {"username": "nobody-here"}


def test_signing_out_is_audited(client, alice):
    sign_in(client, "alice")
    client.post("/accounts/logout/")
    assert AuditEvent.objects.filter(action="sign_out", actor_user=alice).count() == 1


def test_a_refused_page_is_audited(alice_client):
    assert alice_client.get("/audit/").status_code == 403
    event = AuditEvent.objects.get(action="access_refused")
    assert event.actor_user.username == "alice"
    assert event.detail == {"method": "GET", "path": "/audit/", "status": 403}
