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


def test_a_password_change_is_audited_and_a_wrong_current_password_too(client_for_alice, alice):
    from clinnova.models import AuditEvent

    wrong = client_for_alice.post("/accounts/password_change/", {
        "old_password": "not-her-password", "new_password1": "another-long-passphrase-9",
        "new_password2": "another-long-passphrase-9"})
    assert wrong.status_code == 200
    assert AuditEvent.objects.filter(action="password_change_failed", actor_user=alice).exists()
    done = client_for_alice.post("/accounts/password_change/", {
        "old_password": "a-long-test-password", "new_password1": "another-long-passphrase-9",
        "new_password2": "another-long-passphrase-9"})
    assert done.status_code == 302
    assert AuditEvent.objects.filter(action="password_change", actor_user=alice).exists()


def test_password_reset_by_mail_does_not_exist_without_a_mail_backend(client, db):
    for url in ("/accounts/password_reset/", "/accounts/reset/MQ/set-password/", "/accounts/password_reset/done/"):
        assert client.get(url).status_code == 404, url
