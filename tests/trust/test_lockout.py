import datetime as dt

from axes.models import AccessAttempt
from django.utils import timezone

from clinnova.models import AuditEvent
from tests.trust.helpers import sign_in


def test_an_account_is_locked_after_five_failures_even_with_the_right_password(client, alice):
    for attempt in range(4):
        assert sign_in(client, "alice", "wrong-password", address="10.0.0.1").status_code == 200
    fifth = sign_in(client, "alice", "wrong-password", address="10.0.0.1")
    assert fifth.status_code == 429
    # From another address, so only the account's own count applies.
    sixth = sign_in(client, "alice", address="10.0.0.2")
    assert sixth.status_code == 429
    assert "Sign-in paused" in sixth.content.decode() and "15 minutes" in sixth.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_address_is_locked_after_five_failures_whatever_the_account(client, alice, bob):
    for _ in range(5):
        sign_in(client, "alice", "wrong-password", address="10.0.0.9")
    assert sign_in(client, "bob", address="10.0.0.9").status_code == 429
    assert sign_in(client, "bob", address="10.0.0.10").status_code == 302


def test_the_counters_live_in_the_database_and_the_lockout_is_audited(client, alice):
    for _ in range(5):
        sign_in(client, "alice", "wrong-password", address="10.0.0.1")
    assert AccessAttempt.objects.filter(username="alice").exists()
    locked = AuditEvent.objects.get(action="sign_in_locked_out")
    assert locked.detail["username"] == "alice" and locked.address == "10.0.0.1"


def test_the_lock_lifts_after_fifteen_minutes(client, alice):
    for _ in range(5):
        sign_in(client, "alice", "wrong-password", address="10.0.0.1")
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert sign_in(client, "alice", address="10.0.0.1").status_code == 302


def test_a_few_typos_do_not_lock_anyone_out(client, alice):
    for _ in range(4):
        sign_in(client, "alice", "wrong-password", address="10.0.0.1")
    assert sign_in(client, "alice", address="10.0.0.1").status_code == 302
