"""Each role lands on the page its day starts with, and signing out ends on a page that says so."""

from django.contrib.auth.models import User

from tests.trust.helpers import verified


def test_a_clinician_lands_on_their_patient_list(alice_client):
    assert alice_client.get("/")["Location"] == "/patients/"


def test_a_model_admin_lands_on_the_model_versions(client, mia):
    verified(client, mia)
    assert client.get("/")["Location"] == "/models/"


def test_a_privacy_officer_lands_on_the_audit_trail(priya_client):
    assert priya_client.get("/")["Location"] == "/audit/"


def test_an_account_without_a_role_is_told_what_to_ask_for(client, db):
    client.force_login(User.objects.create_user("newcomer", password="a-long-test-password"))
    page = client.get("/")
    assert page.status_code == 200 and "Your account has no role yet" in page.content.decode()


def test_signing_out_ends_on_a_signed_out_page(alice_client):
    response = alice_client.post("/accounts/logout/", follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/accounts/signed-out/"
    assert "You are signed out" in page and "Sign in again" in page and "Signed in as" not in page
    assert alice_client.get("/patients/")["Location"].startswith("/accounts/login/")


def test_a_model_admin_reaches_monitoring_from_every_page(client, mia):
    verified(client, mia)
    page = client.get("/models/").content.decode()
    assert 'href="/network/monitoring/">Monitoring</a>' in page
    assert client.get("/network/monitoring/").status_code == 200
