"""The Django admin holds to the rules: a second factor, no patient data, no bulk deletes, audited device removal."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinnova.models import AuditEvent
from tests.trust.helpers import PASSWORD, device_for, sign_in, verified

PATIENT_MODELS = ("patient", "visit", "therapyexposure", "diagnosis", "patientidentifier", "ingestkey",
                  "visitrevision", "recommendation", "recommendationitem", "decision", "auditevent")


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def root_client(client, root):
    verified(client, root)
    return client


def test_a_superuser_with_only_a_password_is_sent_to_the_second_factor(client, root):
    assert sign_in(client, "root").status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/account/2fa/")


def test_staff_without_a_verified_device_are_not_let_into_the_admin(client, root):
    client.force_login(root)  # a session without the second step, however it was made
    assert client.get("/admin/").status_code == 302


def test_the_admin_shows_no_patient_data_at_all(root_client):
    for app, model in (("patients", "patient"), ("patients", "visit"), ("patients", "therapyexposure"),
                       ("patients", "ingestkey"), ("recommendations", "recommendation"),
                       ("recommendations", "decision"), ("clinnova", "auditevent")):
        assert root_client.get(f"/admin/{app}/{model}/").status_code == 404, model
    index = root_client.get("/admin/").content.decode()
    for model in PATIENT_MODELS:
        assert f"/{model}/" not in index, model


def test_no_admin_page_offers_delete_selected(root_client, alice, ra_model):
    for url in ("/admin/auth/user/", "/admin/patients/site/", "/admin/patients/ehrclient/",
                "/admin/recommendations/modelversion/", "/admin/recommendations/scoringjob/",
                "/admin/recommendations/cdsclient/", "/admin/otp_totp/totpdevice/"):
        page = root_client.get(url)
        assert page.status_code == 200, url
        assert "delete_selected" not in page.content.decode(), url


def test_a_site_or_an_account_cannot_be_deleted_from_the_admin(root_client, alice, site_lu):
    assert root_client.post(f"/admin/patients/site/{site_lu.pk}/delete/", {"post": "yes"}).status_code == 403
    assert root_client.post(f"/admin/auth/user/{alice.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=alice.pk).exists()


def test_a_device_is_removed_only_with_a_reason_that_the_audit_trail_keeps(root_client, mia):
    device = device_for(mia)
    assert root_client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 403
    page = root_client.post(f"/admin/otp_totp/totpdevice/{device.pk}/remove/", {"reason": "lost"})
    assert page.status_code == 400 and TOTPDevice.objects.filter(pk=device.pk).exists()
    response = root_client.post(f"/admin/otp_totp/totpdevice/{device.pk}/remove/",
                                {"reason": "Mia lost her phone on 28 Nov"})
    assert response.status_code == 302 and not TOTPDevice.objects.filter(pk=device.pk).exists()
    event = AuditEvent.objects.get(action="otp_device_remove")
    assert event.detail == {"for": "mia", "reason": "Mia lost her phone on 28 Nov"}


def test_a_device_key_cannot_be_read_or_edited_in_the_admin(root_client, mia):
    device = device_for(mia)
    page = root_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page
    assert root_client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
