"""A model admin's first sign-in in Chromium: sent to enrol, opens the enrolment link her administrator issued,
reads the key, types a code, keeps her recovery codes, gets in; no CSP violation."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.trust.helpers import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def tab(live_server, monkeypatch):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM beside Playwright's event loop, in this test
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"])
        page = browser.new_page(base_url=live_server.url)
        page.set_default_timeout(20_000)
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        yield page
        browser.close()
    assert not violations, violations


def test_a_model_admin_enrols_her_app_at_first_sign_in(tab, mia):
    from django_otp.oath import totp

    tab.goto("/accounts/login/")
    tab.get_by_label("Username").fill("mia")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.goto("/patients/")
    assert tab.url.endswith("/account/2fa/?next=%2Fpatients%2F")
    assert "needs a one-time enrolment link" in tab.content()
    from clinnova.audit import Actor
    from clinnova.enrolment import enrolment_link_issue

    tab.goto(enrolment_link_issue(user=mia, actor=Actor(client="test")))
    assert "Your role needs a second step" in tab.content()
    assert tab.get_by_role("img", name="QR code of the setup link for your authenticator app").is_visible()
    tab.get_by_text("Cannot scan? Type the key instead").click()
    secret = re.sub(r"\s", "", tab.get_by_label("Secret key").inner_text())
    import base64

    tab.get_by_label("Six-digit code").fill(f"{totp(base64.b32decode(secret)):06d}")
    if os.environ.get("TRUST_SCREENSHOTS"):
        tab.screenshot(path=os.environ["TRUST_SCREENSHOTS"] + "/enrol.png", full_page=True)
    tab.get_by_role("button", name="Turn on two-step sign-in").click()
    tab.wait_for_load_state()
    assert "Two-step sign-in is on" in tab.content() and "shown only this once" in tab.content()
    assert len(tab.locator("ol.recovery-codes li").all()) == 10
    tab.get_by_role("link", name="I have kept them: continue").click()
    tab.wait_for_load_state()
    assert tab.url.endswith("/models/")  # a model admin's own landing page
