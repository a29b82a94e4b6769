from django_otp.plugins.otp_totp.models import TOTPDevice

from clinnova.audit import Actor
from clinnova.enrolment import enrolment_link_issue, recovery_codes_issue
from clinnova.models import AuditEvent, EnrolmentLink
from tests.trust.helpers import code, device_for, sign_in, verified


def _link(user) -> str:
    return enrolment_link_issue(user=user, actor=Actor(client="test"))


def test_a_model_admin_without_a_device_is_sent_to_enrol_before_any_page(client, mia):
    assert sign_in(client, "mia").status_code == 302
    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == "/account/2fa/?next=%2Fpatients%2F"
    client.get(_link(mia))
    page = client.get(response["Location"]).content.decode()
    assert "Your role needs a second step" in page
    device = TOTPDevice.objects.get(user=mia, confirmed=False)
    assert "otpauth://totp/Clinnova%3Amia?secret=" in page
    assert device.config_url in page.replace("&amp;", "&")


def test_the_password_alone_cannot_bind_a_phone_to_a_model_admin(client, mia):
    sign_in(client, "mia")
    page = client.get("/account/2fa/")
    assert page.status_code == 403 and "enrolment link" in page.content.decode()
    assert not TOTPDevice.objects.filter(user=mia).exists()


def test_enrolling_with_the_link_and_a_code_from_her_app_lets_her_in_and_gives_recovery_codes(client, mia):
    sign_in(client, "mia")
    assert client.get(_link(mia))["Location"] == "/account/2fa/"
    client.get("/account/2fa/")
    device = TOTPDevice.objects.get(user=mia)
    response = client.post("/account/2fa/", {"token": code(device), "next": "/patients/"})
    assert response.status_code == 200 and "shown only this once" in response.content.decode()
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/patients/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action="otp_enrol", actor_user=mia).exists()
    assert EnrolmentLink.objects.get(user=mia).used_at is not None


def test_an_enrolment_link_works_once_for_its_own_account_only(client, mia, alice):
    link = _link(mia)
    sign_in(client, "alice")
    assert client.get(link).status_code == 400  # Alice holds Mia's link: useless to her
    client.post("/accounts/logout/")
    sign_in(client, "mia")
    client.get(link)
    client.get("/account/2fa/")
    client.post("/account/2fa/", {"token": code(TOTPDevice.objects.get(user=mia))})
    client.post("/accounts/logout/")
    sign_in(client, "mia")
    assert client.get(link).status_code == 400
    assert AuditEvent.objects.filter(action="otp_enrolment_link_issue").count() == 1


def test_a_recovery_code_signs_in_once_without_the_phone(client, mia):
    device_for(mia)
    codes = recovery_codes_issue(user=mia, actor=Actor(client="test"))
    sign_in(client, "mia")
    response = client.post("/account/2fa/verify/", {"token": codes[0], "next": "/patients/"})
    assert response.status_code == 302 and client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(action="otp_recovery_used", actor_user=mia).exists()
    client.post("/accounts/logout/")
    sign_in(client, "mia")
    assert client.post("/account/2fa/verify/", {"token": codes[0]}).status_code == 200  # spent
    assert client.get("/patients/").status_code == 302


def test_with_a_device_she_gives_a_valid_code_after_her_password(client, mia):
    device = device_for(mia)
    sign_in(client, "mia")
    response = client.get("/patients/")
    assert response["Location"] == "/account/2fa/verify/?next=%2Fpatients%2F"
    response = client.post("/account/2fa/verify/", {"token": code(device), "next": "/patients/"})
    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(action="otp_verify", actor_user=mia).exists()


def test_a_wrong_code_is_refused(client, mia):
    device = device_for(mia)
    sign_in(client, "mia")
    wrong = "000000" if code(device) != "000000" else "111111"
    response = client.post("/account/2fa/verify/", {"token": wrong, "next": "/patients/"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
    assert client.get("/patients/").status_code == 302
    assert AuditEvent.objects.filter(action="otp_failed", actor_user=mia).exists()


def _wrong(device) -> str:
    return "000000" if code(device) != "000000" else "111111"


def test_a_mistyped_code_can_be_retyped_at_once(client, mia):
    device = device_for(mia)
    sign_in(client, "mia")
    for _ in range(3):
        page = client.post("/account/2fa/verify/", {"token": _wrong(device)}).content.decode()
        assert "did not match" in page and "wait" not in page
    assert client.post("/account/2fa/verify/", {"token": code(device), "next": "/patients/"})["Location"] == "/patients/"


def test_the_wait_after_more_wrong_codes_is_as_long_as_before(client, mia):
    device = device_for(mia)
    sign_in(client, "mia")
    for _ in range(3):
        client.post("/account/2fa/verify/", {"token": _wrong(device)})
    page = client.post("/account/2fa/verify/", {"token": _wrong(device)}).content.decode()
    assert "4 wrong codes in a row: wait 8 seconds" in page
    device.refresh_from_db()
    allowed, data = device.verify_is_allowed()
    assert not allowed and data["failure_count"] == 4
    assert round((data["locked_until"] - device.throttling_failure_timestamp).total_seconds()) == 8  # 2^(4-1), django-otp's
    # Even the right code waits its turn.
    assert client.post("/account/2fa/verify/", {"token": code(device)}).status_code == 200
    assert client.get("/patients/").status_code == 302


def test_enrolment_shows_a_qr_code_drawn_on_the_server(client, mia):
    from clinnova.audit import Actor
    from clinnova.enrolment import enrolment_link_issue

    sign_in(client, "mia")
    page = client.get(enrolment_link_issue(user=mia, actor=Actor(client="test")), follow=True).content.decode()
    assert '<svg role="img" aria-label="QR code of the setup link' in page and "<script" not in page.split("<main")[1]
    assert "otpauth://totp/" in page  # the link is still there for apps that take it


def test_a_code_cannot_be_used_twice(client, mia):
    device = device_for(mia)
    sign_in(client, "mia")
    token = code(device)
    client.post("/account/2fa/verify/", {"token": token})
    client.post("/accounts/logout/")
    sign_in(client, "mia")
    assert client.post("/account/2fa/verify/", {"token": token}).status_code == 200
    assert client.get("/patients/").status_code == 302


def test_a_second_device_cannot_be_enrolled_with_the_password_alone(client, mia):
    device_for(mia)
    sign_in(client, "mia")
    response = client.get("/account/2fa/")
    assert response.status_code == 302 and response["Location"].startswith("/account/2fa/verify/")
    assert TOTPDevice.objects.filter(user=mia).count() == 1


def test_a_privacy_officer_needs_a_second_factor_too(client, priya):
    sign_in(client, "priya")
    assert client.get("/audit/")["Location"].startswith("/account/2fa/")


def test_the_model_api_refuses_a_session_without_the_second_factor(client, mia):
    sign_in(client, "mia")
    response = client.get("/api/v1/model-versions/")
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    assert AuditEvent.objects.filter(action="access_refused", actor_user=mia,
                                     detail__path="/api/v1/model-versions/").exists()


def test_a_verified_model_admin_uses_the_model_api(client, mia):
    verified(client, mia)
    assert client.get("/api/v1/model-versions/").status_code == 200


def test_a_clinician_is_not_asked_for_a_second_factor(client, alice):
    sign_in(client, "alice")
    assert client.get("/patients/").status_code == 200


def test_a_clinician_who_enrolled_an_app_is_asked_for_its_code(client, alice):
    device = device_for(alice)
    sign_in(client, "alice")
    assert client.get("/patients/")["Location"].startswith("/account/2fa/verify/")
    client.post("/account/2fa/verify/", {"token": code(device)})
    assert client.get("/patients/").status_code == 200


def test_signing_out_stays_possible_before_the_second_step(client, mia):
    sign_in(client, "mia")
    assert client.post("/accounts/logout/")["Location"] == "/accounts/signed-out/"
    assert "_auth_user_id" not in client.session
