import datetime as dt
import time

from django.contrib.sessions.models import Session
from django.utils import timezone

from clinnova.models import AuditEvent
from clinnova.signin import SIGNED_IN_AT
from tests.trust.helpers import sign_in

TWELVE_HOURS = 12 * 3600


def _signed_in_ago(client, seconds: int) -> None:
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - seconds
    session.save()


def test_a_session_ends_twelve_hours_after_sign_in_however_active(client, alice):
    sign_in(client, "alice")
    old_key = client.session.session_key
    _signed_in_ago(client, TWELVE_HOURS + 60)
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Session.objects.filter(session_key=old_key).exists()
    assert AuditEvent.objects.get(action="session_expired", actor_user=alice).detail == {"reason": "absolute_lifetime"}


def test_an_active_session_within_its_twelve_hours_goes_on(client, alice):
    sign_in(client, "alice")
    _signed_in_ago(client, TWELVE_HOURS - 60)
    assert client.get("/patients/").status_code == 200


def test_a_session_ends_after_thirty_idle_minutes(client, alice, settings):
    sign_in(client, "alice")
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE == 30 * 60
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/patients/").status_code == 302


def test_signing_out_deletes_the_session_so_the_old_cookie_no_longer_works(client, alice):
    sign_in(client, "alice")
    old_cookie = client.cookies["sessionid"].value
    assert client.get("/patients/").status_code == 200
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=old_cookie).exists()
    client.cookies["sessionid"] = old_cookie  # as someone who copied the cookie would
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
