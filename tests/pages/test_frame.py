"""The frame every page shares: who is signed in and where, the synthetic-data notice, sign-in pages."""

import re

import pytest


def test_every_clinician_page_names_who_is_signed_in_and_their_site(alice_client, scored_patient):
    for url in ("/patients/", f"/patients/{scored_patient.pk}/", f"/patients/{scored_patient.pk}/visits/new",
                f"/patients/{scored_patient.pk}/compare/?a=L04AB04&b=L04AC07"):
        page = alice_client.get(url).content.decode()
        assert "Signed in as <strong>alice</strong>" in page, url
        assert "Site LU" in page, url


def test_a_model_admin_is_named_without_a_site(mia_client):
    page = mia_client.get("/models/").content.decode()
    assert "Signed in as <strong>mia</strong>" in page
    assert "Model admin · no site" in page


def test_the_synthetic_data_notice_stands_next_to_every_model_output(alice_client, mia_client, scored_patient,
                                                                      ra_model):
    notice = "Trained on synthetic data · not for clinical use"
    patient_page = alice_client.get(f"/patients/{scored_patient.pk}/").content.decode()
    ranking = patient_page[patient_page.index('id="recommendation"'):patient_page.index('id="decisions"')]
    assert notice in ranking
    compare = alice_client.get(f"/patients/{scored_patient.pk}/compare/?a=L04AB04&b=L04AC07").content.decode()
    assert notice in compare[:compare.index("<footer")]


def test_the_sign_in_page_labels_its_fields_and_carries_the_notice(client):
    page = client.get("/accounts/login/").content.decode()
    assert '<label for="id_username">Username</label>' in page
    assert '<label for="id_password">Password</label>' in page
    assert 'autocomplete="current-password"' in page
    assert "Trained on synthetic data" in page


def test_a_wrong_password_is_answered_in_a_sentence(client, alice, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    page = client.post("/accounts/login/", {"username": "alice", "password": "wrong"}).content.decode()
    assert 'role="alert"' in page
    assert "Please enter a correct username and password" in page


def test_the_password_change_page_is_in_the_frame_with_labelled_fields(alice_client):
    page = alice_client.get("/accounts/password_change/").content.decode()
    assert "Change your password" in page and "Signed in as <strong>alice</strong>" in page
    for field in ("id_old_password", "id_new_password1", "id_new_password2"):
        assert f'<label for="{field}">' in page


def test_signing_out_ends_the_session(alice_client):
    response = alice_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert alice_client.get("/patients/")["Location"].startswith("/accounts/login/")


INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # a script without src is inline
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle=\"", re.I),
    re.compile(r"\son[a-z]+=\"", re.I),  # onclick=, onload=, ...
]


@pytest.mark.parametrize("who", ["alice", "mia"])
def test_no_page_carries_inline_script_or_style(who, alice_client, mia_client, scored_patient, ra_model):
    # A Content-Security-Policy without 'unsafe-inline' would block them.
    if who == "alice":
        client, urls = alice_client, ["/patients/", f"/patients/{scored_patient.pk}/",
                                      f"/patients/{scored_patient.pk}/compare/?a=L04AB04&b=L04AC07",
                                      f"/patients/{scored_patient.pk}/visits/new", "/accounts/password_change/"]
    else:
        client, urls = mia_client, ["/models/", f"/models/{ra_model.pk}/", "/models/upload/"]
    for url in urls:
        page = client.get(url).content.decode()
        for pattern in INLINE:
            assert not pattern.search(page), f"{url}: {pattern.pattern}"
