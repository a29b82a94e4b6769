"""A clinician in a real browser: sign in, read a ranking and its explanation, record a decision, enter a visit."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ranked_patient(alice, bob, site_lu):
    """Alice's RA patient at LU with its ranking computed by the active shipped model."""
    from clinnova.audit import Actor
    from patients.services import PatientInput, visit_ingest
    from recommendations.jobs import jobs_run_pending
    from tests.conftest import RA_VISIT, model_version_install

    model_version_install("rheumatoid_arthritis")
    visit = visit_ingest(
        site=site_lu, disease="rheumatoid_arthritis", visit_date=dt.date.today() - dt.timedelta(days=3),
        measurements=dict(RA_VISIT), actor=Actor(client="test"),
        patient_input=PatientInput(system="urn:test:ehr", value="LU-0001", sex="female", birth_year=1968,
                                   diagnosed_on=dt.date(2015, 4, 1)),
    )
    jobs_run_pending()
    return visit.patient


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_clinician_reads_the_ranking_and_records_a_decision_against_the_top_drug(page, ranked_patient):
    from recommendations.models import Decision, Recommendation
    from tests.conftest import tiers_shown

    # A leader the ensemble tells apart, whatever the shipped model says of this patient: starting another drug
    # is then an override.
    tiers_shown(Recommendation.objects.get(visit__patient=ranked_patient, superseded_at__isnull=True),
                first_tier=1, top=True)
    sign_in(page, "alice")
    assert "Signed in as alice" in page.locator(".who").inner_text()
    page.get_by_role("link", name="LU-0001").click()
    page.wait_for_url(f"**/patients/{ranked_patient.pk}/")

    ranked = page.locator("ol.ranked > li.drug-item")
    assert ranked.count() >= 5
    top_name = ranked.first.locator(".drug").inner_text()
    second_name = ranked.nth(1).locator(".drug").inner_text()
    assert re.fullmatch(r"\d+ %", ranked.first.locator(".prob").inner_text())
    assert page.get_by_text("Trained on synthetic data · not for clinical use.").first.is_visible()

    # The explanation opens with the mouse ...
    waterfall = ranked.first.locator("svg.wf")
    assert not waterfall.is_visible()
    ranked.first.locator("summary").click()
    assert waterfall.is_visible()
    assert ranked.first.get_by_text("Average patient:").is_visible()
    assert ranked.first.get_by_text("Raised the probability").is_visible()
    # ... and with the keyboard.
    ranked.nth(1).locator("summary").focus()
    page.keyboard.press("Enter")
    assert ranked.nth(1).locator("details").get_attribute("open") is not None

    page.get_by_role("radio", name=re.compile(rf"^Start {re.escape(second_name)} · \d+ %")).check()
    page.get_by_label("Reason", exact=True).select_option(label="Patient preference")
    page.get_by_role("button", name="Record decision").click()
    assert page.get_by_text(f"Recorded: Start {second_name}.").is_visible()

    page.reload()
    decisions = page.locator("#decisions")
    assert second_name in decisions.inner_text() and "No, overridden" in decisions.inner_text()
    assert "Patient preference" in decisions.inner_text()
    decision = Decision.objects.get()
    assert decision.drug.name == second_name and not decision.was_top and decision.reason == "patient_preference"
    assert top_name != second_name


def test_the_pages_fit_a_tablet_without_sideways_scrolling(page, ranked_patient):
    sign_in(page, "alice")
    page.set_viewport_size({"width": 768, "height": 1024})
    for url in ("/patients/", f"/patients/{ranked_patient.pk}/", f"/patients/{ranked_patient.pk}/visits/new",
                f"/patients/{ranked_patient.pk}/compare/"):
        page.goto(url)
        assert _no_horizontal_scroll(page), url


def test_a_clinician_of_another_site_gets_not_found_for_the_patient(page, ranked_patient):
    sign_in(page, "bob")
    response = page.goto(f"/patients/{ranked_patient.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert "LU-0001" not in page.content()


def test_the_visit_form_computes_das28_as_values_are_typed_and_saves_the_visit(page, ranked_patient):
    from patients import scores
    from patients.models import Visit

    sign_in(page, "alice")
    page.goto(f"/patients/{ranked_patient.pk}/")
    page.get_by_role("link", name="New visit").click()
    das28 = page.locator("#out-das28_esr")
    assert das28.inner_text() == "—"

    for label, value in (("Tender joints (28)", "7"), ("Swollen joints (28)", "3"), ("ESR (mm/h)", "26")):
        page.get_by_label(label, exact=True).fill(value)
    three = scores.derived_scores({"tender_joint_count_28": 7, "swollen_joint_count_28": 3, "esr": 26})["das28_esr"]
    assert das28.inner_text() == f"{three.value:g}"
    assert page.locator("#label-das28_esr").inner_text() == "DAS28-ESR (3 variables)"

    page.get_by_label("Patient global assessment (mm)").fill("45")
    page.get_by_label("Evaluator global assessment (mm)").fill("35")
    page.get_by_label("CRP (mg/L)").fill("9.5")
    typed = {"tender_joint_count_28": 7, "swollen_joint_count_28": 3, "esr": 26, "patient_global": 45,
             "evaluator_global": 35, "crp": 9.5}
    expected = scores.derived_scores(typed)
    for name in ("das28_esr", "das28_crp", "cdai"):
        assert page.locator(f"#out-{name}").inner_text() == f"{expected[name].value:g}", name
        assert page.locator(f"#cat-{name}").inner_text() == expected[name].category_label, name

    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(f"**/patients/{ranked_patient.pk}/")
    assert page.get_by_text("Visit saved.").is_visible()
    visit = Visit.objects.filter(patient=ranked_patient).order_by("-created_at").first()
    assert visit.source == "form" and visit.scores["das28_esr"]["value"] == expected["das28_esr"].value


def test_an_out_of_range_value_is_shown_next_to_its_field_after_saving(page, ranked_patient):
    sign_in(page, "alice")
    page.goto(f"/patients/{ranked_patient.pk}/visits/new")
    page.get_by_label("CRP (mg/L)").fill("750")
    page.get_by_label("ESR (mm/h)").fill("30")
    page.get_by_role("button", name="Save visit").click()
    assert page.locator("#id_crp_error").inner_text().startswith("CRP is out of range")
    assert page.get_by_label("CRP (mg/L)").input_value() == "750"
    assert page.get_by_label("ESR (mm/h)").input_value() == "30"
    page.get_by_role("link", name=re.compile("CRP is out of range")).click()
    assert page.evaluate("document.activeElement.id") == "id_crp"
