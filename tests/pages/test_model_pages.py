"""Model admin pages: versions per disease, upload with its report, model card, activation and roll back."""

import io

from django.template.defaultfilters import floatformat

from recommendations.models import ModelStatus, ModelVersion, RescoreRun
from tests.conftest import model_version_install, pretrained_bytes


def _upload(client, data: bytes, name: str):
    package = io.BytesIO(data)
    package.name = name
    return client.post("/models/upload/", {"package": package}, follow=True)


def test_only_model_admins_see_the_model_pages(alice_client, ra_model):
    for url in ("/models/", f"/models/{ra_model.pk}/", "/models/upload/", f"/models/{ra_model.pk}/activate/"):
        response = alice_client.get(url)
        assert response.status_code == 403, url
        assert "Not allowed" in response.content.decode()


def test_the_list_shows_each_diseases_versions_with_status_people_and_metrics(mia_client, mia, ra_model):
    ModelVersion.objects.filter(pk=ra_model.pk).update(uploaded_by=mia)
    page = mia_client.get("/models/").content.decode()
    ra = page[page.index('id="d-rheumatoid_arthritis"'):page.index('id="d-multiple_sclerosis"')]
    assert "Version 1" in ra and '<span class="status status-active">Active</span>' in ra
    assert "by mia" in ra
    # As the page rounds them (floatformat rounds half up: an AUC of 0.6835 is shown 0.684, where f"{:.3f}" says 0.683).
    shown = {k: floatformat(ra_model.test_metrics[k], 3) for k in ("auc", "brier")}
    assert f"<td>{shown['auc']}</td><td>{shown['brier']}</td>" in ra
    ms = page[page.index('id="d-multiple_sclerosis"'):]
    assert "No active model" in ms


def test_a_valid_package_is_validated_and_its_report_lists_every_check_as_passed(mia_client):
    response = _upload(mia_client, pretrained_bytes("rheumatoid_arthritis"), "rheumatoid_arthritis.zip")
    page = response.content.decode()
    version = ModelVersion.objects.get()
    assert version.status == ModelStatus.VALIDATED
    assert response.redirect_chain[-1][0] == f"/models/{version.pk}/"
    assert "passed every check" in page and "Validation report" in page
    assert "0 failed · 0 not run" in page
    assert page.count('<span class="check-state">Passed</span>') == len(version.validation_report)
    assert "canary" in page and "Activate version 1…" in page


def test_a_text_file_named_zip_is_rejected_with_the_failed_check_and_those_not_run(mia_client):
    response = _upload(mia_client, b"this is a text file, not a model\n", "model.zip")
    page = response.content.decode()
    version = ModelVersion.objects.get()
    assert version.status == ModelStatus.REJECTED
    assert "was rejected and cannot be activated" in page
    assert '<span class="check-state">Failed</span>' in page and '<span class="check-state">Not run</span>' in page
    assert "not run: an earlier check failed" in page
    assert "Activate version" not in page
    assert "a zip starts with “PK”, this file with “this”" in page and "b&#x27;" not in page  # words, not bytes


def test_an_upload_without_a_file_asks_for_one(mia_client):
    response = mia_client.post("/models/upload/", {})
    assert response.status_code == 400 and "Choose a model package" in response.content.decode()


def test_activating_asks_first_and_says_how_many_patients_are_rescored(mia_client, ra_model, scored_patient):
    candidate = model_version_install("rheumatoid_arthritis", status="validated", version=2)
    page = mia_client.get(f"/models/{candidate.pk}/activate/").content.decode()
    assert "Activate Rheumatoid arthritis version 2?" in page
    assert "The latest visit of <strong>1 patient</strong>" in page
    assert "The active version 1 will be retired" in page
    candidate.refresh_from_db()
    assert candidate.status == ModelStatus.VALIDATED  # nothing happened yet


def test_activating_rescores_and_the_card_shows_the_progress(mia_client, ra_model, scored_patient,
                                                              django_capture_on_commit_callbacks):
    candidate = model_version_install("rheumatoid_arthritis", status="validated", version=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = mia_client.post(f"/models/{candidate.pk}/activate/")
    assert response.status_code == 302
    candidate.refresh_from_db()
    ra_model.refresh_from_db()
    assert candidate.status == ModelStatus.ACTIVE and ra_model.status == ModelStatus.RETIRED
    assert RescoreRun.objects.get(model_version=candidate).progress()["done"] == 1
    page = mia_client.get(response["Location"]).content.decode()
    assert "re-scoring the latest visit of 1 patient." in page
    assert "Re-scoring finished" in page and "1 of 1 patients done" in page
    assert "Roll back to version 1…" in page


def test_rescoring_in_progress_refreshes_the_page(mia_client, ra_model, scored_patient):
    candidate = model_version_install("rheumatoid_arthritis", status="validated", version=2)
    mia_client.post(f"/models/{candidate.pk}/activate/")  # jobs recorded; sent only on commit, so still pending
    page = mia_client.get(f"/models/{candidate.pk}/").content.decode()
    assert "Re-scoring in progress" in page and "1 remaining" in page
    assert '<meta http-equiv="refresh" content="3">' in page


def test_rolling_back_is_called_a_roll_back(mia_client, ra_model):
    ModelVersion.objects.filter(pk=ra_model.pk).update(status=ModelStatus.RETIRED)
    newer = model_version_install("rheumatoid_arthritis", status="active", version=2)
    page = mia_client.get(f"/models/{ra_model.pk}/activate/").content.decode()
    assert "Roll back Rheumatoid arthritis to version 1?" in page
    assert f"The active version {newer.version} will be retired" in page


def test_a_candidates_metrics_stand_beside_the_active_versions(mia_client, ra_model):
    candidate = model_version_install("rheumatoid_arthritis", status="validated", version=2)
    manifest = dict(candidate.manifest)
    manifest["metrics"] = {**manifest["metrics"], "test": {**manifest["metrics"]["test"], "auc": 0.7001,
                                                           "brier": 0.2500}}
    ModelVersion.objects.filter(pk=candidate.pk).update(manifest=manifest)
    page = mia_client.get(f"/models/{candidate.pk}/").content.decode()
    table = page[page.index("Side by side with the active version 1"):]
    active_auc = ra_model.test_metrics["auc"]  # the shipped package's, read rather than copied
    assert active_auc < 0.7001
    assert "0.7001" in table and f"{active_auc}" in table and f"{0.7001 - active_auc:+.3f}" in table
    auc_row = table[table.index("AUC"):table.index("</tr>", table.index("AUC"))]
    assert "Better" in auc_row
    brier_row = table[table.index("Brier score"):table.index("</tr>", table.index("Brier score"))]
    assert "Worse" in brier_row


def test_the_model_card_shows_its_sections_and_features_in_words(mia_client, ra_model):
    page = mia_client.get(f"/models/{ra_model.pk}/").content.decode()
    for section in ("Intended use", "Training data", "Ethical considerations", "Caveats and recommendations"):
        assert f"<dt>{section}</dt>" in page
    assert "Tender joints (28)" in page and "Held-out test metrics" in page
    assert "Trained on synthetic data" in page


def test_a_rejected_version_offers_no_activation(mia_client):
    _upload(mia_client, b"not a zip", "x.zip")
    version = ModelVersion.objects.get()
    response = mia_client.get(f"/models/{version.pk}/activate/", follow=True)
    assert "there is nothing to activate" in response.content.decode()
    assert mia_client.post(f"/models/{version.pk}/activate/").status_code == 302
    version.refresh_from_db()
    assert version.status == ModelStatus.REJECTED
