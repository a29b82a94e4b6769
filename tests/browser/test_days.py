"""Each role's day in Chromium at 1440, 1024 and 390 px, with axe-core finding no serious or critical
violation on any page: a clinician triages, reads charts, decides and prints; a model admin meets a worse
candidate; a privacy officer enrols a second factor and searches the trail by the EHR's id."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser.axe import assert_accessible
from tests.browser.conftest import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1440, 1024, 390]


@pytest.fixture
def tab_at(browser, live_server):
    """A tab of the given width on the live server; any Content-Security-Policy violation fails the test."""
    contexts, violations = [], []

    def open_tab(width: int):
        context = browser.new_context(viewport={"width": width, "height": 900}, base_url=live_server.url)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        return tab

    yield open_tab
    for context in contexts:
        context.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def clinic(alice, site_lu):
    """Alice's clinic at LU: an RA patient on adalimumab with three visits (one today's), others for triage."""
    from clinnova.audit import Actor
    from patients.services import PatientInput, TherapyInput, visit_ingest
    from recommendations.jobs import jobs_run_pending
    from tests.conftest import RA_VISIT, model_version_install

    model_version_install("rheumatoid_arthritis")
    today = dt.date.today()
    adalimumab = TherapyInput(drug="adalimumab", started_on=today - dt.timedelta(days=400))
    methotrexate = TherapyInput(drug="methotrexate", started_on=today - dt.timedelta(days=900),
                                stopped_on=today - dt.timedelta(days=400), outcome="primary_non_response")

    def visit(ref, days_ago, therapies=(), **changes):
        return visit_ingest(site=site_lu, disease="rheumatoid_arthritis", visit_date=today - dt.timedelta(days=days_ago),
                            measurements={**RA_VISIT, **changes}, actor=Actor(client="test"), therapies=list(therapies),
                            patient_input=PatientInput(system="urn:test:ehr", value=ref, sex="female", birth_year=1968,
                                                       diagnosed_on=dt.date(2015, 4, 1)))

    visit("LU-RA-0001", 380, [methotrexate, adalimumab], tender_joint_count_28=14, crp=38.0, esr=48)
    visit("LU-RA-0001", 190, tender_joint_count_28=6, crp=12.0)
    patient = visit("LU-RA-0001", 2, tender_joint_count_28=2, swollen_joint_count_28=1, crp=3.0, esr=12).patient
    for i in range(3):
        visit(f"LU-RA-01{i}", 10 + i, tender_joint_count_28=1 + 6 * i)
    jobs_run_pending()
    return patient


def _fits(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_clinicians_day(tab_at, clinic, width):
    from recommendations.models import Decision

    tab = tab_at(width)
    sign_in(tab, "alice")
    assert tab.url.endswith("/patients/")  # her landing page
    assert_accessible(tab)
    assert _fits(tab)
    row = tab.locator("table.patients tbody tr", has=tab.get_by_role("link", name="LU-RA-0001"))
    assert "adalimumab" in row.inner_text() and "Decision pending" in row.inner_text()
    assert "At target" in row.inner_text() or "Above target" in row.inner_text()
    assert tab.get_by_role("link", name="LU-RA-0001").evaluate("e => e.getClientRects().length") == 1  # id on one line

    tab.get_by_label("Sort by").select_option(label="Decision needed first")
    tab.get_by_label("Decision", exact=True).select_option(label="Decision pending")
    tab.get_by_role("button", name="Show").click()
    assert "sort=decision" in tab.url and tab.locator("table.patients tbody tr").count() == 4

    tab.get_by_role("link", name="LU-RA-0001").click()
    tab.wait_for_url(f"**/patients/{clinic.pk}/")
    assert_accessible(tab)
    assert _fits(tab)
    drawing = "narrow" if width < 720 else "wide"
    chart = tab.locator(f"svg.drawing-{drawing}").first
    assert chart.is_visible() and chart.locator("rect.band-target").count() >= 1
    assert chart.locator("text.pt-label").count() == 3  # every value written, no hover needed
    # The values as a table, opened with the keyboard.
    summary = tab.get_by_text(re.compile(r"^DAS28-ESR: all 3 values as a table$"))
    summary.focus()
    tab.keyboard.press("Enter")
    assert tab.locator("details.values").first.locator("table").is_visible()
    assert tab.get_by_role("heading", name="Laboratory trends").is_visible()

    # Nothing pre-selected: submitting at once records nothing, and the error is where the form is.
    assert tab.locator("input[name=choice]:checked").count() == 0
    tab.get_by_role("button", name="Record decision").click()
    tab.wait_for_url("**/decisions/#decision")
    tab.locator("#decision-errors:focus").wait_for()  # decision.js moved focus to the message
    box = tab.locator("#decision-errors").bounding_box()  # in view, not at the top of a long page
    assert box and 0 <= box["y"] < tab.viewport_size["height"]
    assert_accessible(tab)
    assert not Decision.objects.exists()

    # Defer by keyboard, with a date.
    tab.get_by_role("radio", name=re.compile("^Defer the decision")).focus()
    tab.keyboard.press("Space")
    review = dt.date.today() + dt.timedelta(days=28)
    tab.get_by_label(re.compile("^Decide again on")).fill(review.isoformat())
    tab.get_by_label("Details").fill("Awaiting the ultrasound")
    tab.get_by_role("button", name="Record decision").click()
    tab.wait_for_url("**#decisions")
    assert tab.locator("#decisions").get_by_text(f"Defer the decision until {review:%-d %b %Y}").first.is_visible()
    assert Decision.objects.get().kind == "defer"

    tab.get_by_role("link", name="Printable summary and text for the EHR note").click()
    assert_accessible(tab)
    assert "Trained on synthetic data" in tab.locator("article.summary").inner_text()
    note = tab.get_by_label("The summary as text").input_value()
    assert "Decision: Defer the decision until" in note and "Model: Rheumatoid arthritis version 1." in note
    assert tab.get_by_role("button", name="Copy as text").is_visible()

    tab.goto(f"/patients/{clinic.pk}/compare/")
    assert_accessible(tab)
    assert _fits(tab)

    tab.goto(f"/patients/{clinic.pk}/visits/new")
    assert_accessible(tab)
    for label, value in (("Tender joints (28)", "4"), ("Swollen joints (28)", "2"), ("CRP (mg/L)", "8"),
                         ("Patient global assessment (mm)", "30"), ("Evaluator global assessment (mm)", "20")):
        tab.get_by_label(label, exact=True).fill(value)
    assert tab.locator("#out-sdai").inner_text() == "11.8"  # 4 + 2 + 3 + 2 + 0.8
    assert _fits(tab)

    tab.get_by_role("button", name="Sign out").click()
    tab.wait_for_url("**/accounts/signed-out/")
    assert tab.get_by_role("heading", name="You are signed out").is_visible()
    assert_accessible(tab)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_model_admins_day(tab_at, clinic, mia, width):
    from recommendations.models import ModelStatus
    from tests.conftest import model_version_install
    from tests.trust.helpers import device_for

    worse = model_version_install("rheumatoid_arthritis", status="validated", version=2)
    worse.manifest["metrics"]["test"]["auc"] = 0.598
    worse.save(update_fields=["manifest"])
    tab = tab_at(width)
    sign_in(tab, "mia", otp_device=device_for(mia))
    assert tab.url.endswith("/models/")  # her landing page
    assert_accessible(tab)
    assert _fits(tab)

    tab.get_by_role("link", name="Version 2").click()
    assert_accessible(tab)
    tab.get_by_role("link", name="Activate version 2…").click()
    assert tab.get_by_role("heading", name="Version 2 is worse than the active version 1").is_visible()
    assert re.search(r"\d+ of 4 patients would get another top suggestion", tab.locator("#top-changes").inner_text())
    assert_accessible(tab)
    tab.get_by_role("button", name=re.compile("^Activate and re-score")).click()
    assert tab.locator("#reason-error").is_visible()
    assert_accessible(tab)
    tab.get_by_label(re.compile("^Why activate a version that is worse")).fill(
        "Checking the re-scoring pipeline on the test network; rolled back after.")
    tab.get_by_role("button", name=re.compile("^Activate and re-score")).click()
    tab.wait_for_url("**/models/*/")
    assert tab.get_by_text("Version 2 is active for Rheumatoid arthritis").is_visible()
    worse.refresh_from_db()
    assert worse.status == ModelStatus.ACTIVE
    assert _fits(tab)
    tab.get_by_role("link", name="Monitoring").click()  # the other half of her day
    tab.wait_for_url("**/network/monitoring/")
    assert_accessible(tab)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_privacy_officers_day(tab_at, clinic, alice, width):
    import base64

    from django.contrib.auth.models import Group, User
    from django_otp.oath import totp

    from clinnova.access import PRIVACY_OFFICER

    priya = User.objects.create_user("priya", password=PASSWORD)
    priya.groups.add(Group.objects.get_or_create(name=PRIVACY_OFFICER)[0])
    tab = tab_at(width)
    from clinnova.audit import Actor
    from clinnova.enrolment import enrolment_link_issue

    sign_in(tab, "priya")
    assert "/account/2fa/" in tab.url
    tab.goto(enrolment_link_issue(user=priya, actor=Actor(client="test")))  # the link her administrator sent
    assert tab.get_by_role("img", name=re.compile("QR code of the setup link")).is_visible()
    assert_accessible(tab)
    tab.get_by_text("Cannot scan? Type the key instead").click()
    secret = re.sub(r"\s", "", tab.get_by_label("Secret key").inner_text())
    tab.get_by_label("Six-digit code").fill("000000" if totp(base64.b32decode(secret)) != 0 else "111111")
    tab.get_by_role("button", name="Turn on two-step sign-in").click()
    assert tab.get_by_text("That code did not match").is_visible()  # a mistype is forgiven at once
    tab.get_by_label("Six-digit code").fill(f"{totp(base64.b32decode(secret)):06d}")
    tab.get_by_role("button", name="Turn on two-step sign-in").click()
    assert tab.get_by_text("shown only this once").is_visible()
    assert_accessible(tab)
    tab.get_by_role("link", name="I have kept them: continue").click()
    tab.wait_for_url("**/audit/")  # her landing page
    assert_accessible(tab)

    tab.get_by_label("Patient").fill("LU-RA-0001")
    tab.get_by_label("Action").select_option(label="Recorded a visit")
    tab.get_by_role("button", name="Search").click()
    rows = tab.locator("table.audit tbody tr")
    assert rows.count() == 3 and "Recorded a visit" in rows.first.inner_text()
    assert "visit_create" not in tab.locator("table.audit tbody").inner_text()
    assert_accessible(tab)
    assert _fits(tab)
