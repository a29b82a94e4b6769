"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

No browser is downloaded: the system Chromium is used, headless. Without it the
tests skip, except in CI (CI=true), where a missing browser is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "a-long-test-password"  # tests/conftest.py gives every persona this one


def _chromium_or_skip() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def orm_beside_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls unless told
    that this is deliberate. Scoped to the test, so no other test runs with the check off."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(orm_beside_playwright):
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A laptop-sized tab on the live server that fails the test on any Content-Security-Policy violation."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    violations: list[str] = []
    tab.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield tab
    context.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


def sign_in(page, username: str, password: str = PASSWORD, *, otp_device=None) -> None:
    """The sign-in form as a person fills it in, and the second step when the account has a device."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if otp_device is not None:
        from tests.trust.helpers import code

        page.get_by_label("Six-digit code").fill(code(otp_device))
        page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
