"""A model admin in a real browser: upload a valid and an invalid package, read both reports, activate."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.conftest import sign_in
from tests.conftest import PRETRAINED, package_copy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def network(mia, site_lu):
    """Version 1 active for RA, one RA patient scored with it, and Mia's authenticator app."""
    from clinnova.audit import Actor
    from patients.services import PatientInput, visit_ingest
    from recommendations.jobs import jobs_run_pending
    from tests.conftest import RA_VISIT, model_version_install
    from tests.trust.helpers import device_for

    model_version_install("rheumatoid_arthritis")
    visit_ingest(site=site_lu, disease="rheumatoid_arthritis", visit_date=dt.date.today() - dt.timedelta(days=3),
                 measurements=dict(RA_VISIT), actor=Actor(client="test"),
                 patient_input=PatientInput(system="urn:test:ehr", value="LU-0001", sex="female", birth_year=1968))
    jobs_run_pending()
    return device_for(mia)


def _upload(page, path) -> None:
    page.goto("/models/")
    page.get_by_role("link", name="Upload a model package").click()
    page.get_by_label("Model package (.zip)").set_input_files(str(path))
    page.get_by_role("button", name="Upload and validate").click()
    page.wait_for_url("**/models/*/")


def test_a_model_admin_uploads_packages_reads_the_reports_and_activates_one(page, network, tmp_path):
    from recommendations.models import ModelStatus, ModelVersion

    sign_in(page, "mia", otp_device=network)

    not_a_model = tmp_path / "model.zip"
    not_a_model.write_text("Just some notes, renamed to .zip by mistake.\n")
    _upload(page, not_a_model)
    report = page.locator("ol.checks")
    assert page.get_by_text("model.zip was rejected and cannot be activated").is_visible()
    assert report.locator("li.check.fail").count() == 1
    assert report.locator("li.check.skipped").count() >= 5
    assert "not run: an earlier check failed" in report.inner_text()
    assert page.get_by_role("link", name="Activate version").count() == 0

    # The shipped package is version 1 already: the same bytes again would be refused as a duplicate.
    retrained = tmp_path / "rheumatoid_arthritis_v2.zip"
    retrained.write_bytes(package_copy((PRETRAINED / "rheumatoid_arthritis.zip").read_bytes(), x_note="v2"))
    _upload(page, retrained)
    assert page.get_by_text("passed every check").is_visible()
    report = page.locator("ol.checks")
    assert report.locator("li.check.fail").count() == 0 and report.locator("li.check.ok").count() >= 10
    assert "canary" in report.inner_text()
    assert page.get_by_role("heading", name="Side by side with the active version 1").is_visible()

    page.get_by_role("link", name="Activate version 2…").click()
    assert page.get_by_text("The latest visit of 1 patient with Rheumatoid arthritis will be re-scored").is_visible()
    page.get_by_role("button", name="Activate and re-score 1 patient").click()
    page.wait_for_url("**/models/*/")
    progress = page.locator(".rescore")
    assert "1 of 1 patients done" in progress.inner_text()
    assert page.get_by_text("Version 2 is active for Rheumatoid arthritis").is_visible()

    versions = {v.version: v.status for v in ModelVersion.objects.filter(disease="rheumatoid_arthritis")}
    assert versions == {1: ModelStatus.RETIRED, 2: ModelStatus.ACTIVE}
    page.goto("/models/")
    ra = page.locator("section", has=page.locator("#d-rheumatoid_arthritis"))
    assert "Re-scoring finished" in ra.inner_text() and "Active: version 2" in ra.inner_text()


def test_a_model_admin_must_give_the_second_factor_first(page, network):
    sign_in(page, "mia")
    page.goto("/models/")
    assert "/account/2fa/verify/" in page.url
