import io
import pickle
import zipfile

import pytest
from django.db import IntegrityError, transaction

from clinnova.audit import Actor
from clinnova.models import AuditEvent
from recommendations.models import ModelStatus, ModelVersion, Recommendation, ScoringJob
from recommendations.registry import RegistryError, model_version_activate, model_version_upload
from tests.conftest import model_version_install, pretrained_bytes
from tests.trust.helpers import verified  # model admins sign in with a second factor


@pytest.fixture
def admin_actor(mia):
    return Actor(user=mia)


def test_a_valid_package_is_validated_with_every_check_passed(admin_actor):
    version = model_version_upload(data=pretrained_bytes("crohns_disease"), filename="cd.zip", actor=admin_actor)
    assert version.status == ModelStatus.VALIDATED
    assert version.disease == "crohns_disease" and version.version == 1
    assert [c["passed"] for c in version.validation_report] == [True] * len(version.validation_report)
    assert version.validation_report[-1]["name"] == "canary"
    assert AuditEvent.objects.filter(action="model_upload", object_id=str(version.pk)).exists()


def test_a_pickle_renamed_to_zip_is_rejected_without_being_loaded(admin_actor, ra_model):
    data = pickle.dumps({"harmless": True})
    version = model_version_upload(data=data, filename="model.zip", actor=admin_actor)
    assert version.status == ModelStatus.REJECTED
    assert version.rejection_reason.startswith("archive")
    ra_model.refresh_from_db()
    assert ra_model.status == ModelStatus.ACTIVE


def test_a_zip_with_a_traversal_path_is_rejected(admin_actor):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../manifest.json", "{}")
    version = model_version_upload(data=buf.getvalue(), filename="evil.zip", actor=admin_actor)
    assert version.status == ModelStatus.REJECTED and "../manifest.json" in version.rejection_reason


def test_a_truncated_package_is_rejected(admin_actor):
    data = pretrained_bytes("ulcerative_colitis")
    version = model_version_upload(data=data[: len(data) // 2], filename="cut.zip", actor=admin_actor)
    assert version.status == ModelStatus.REJECTED
    assert not ModelVersion.objects.filter(status=ModelStatus.VALIDATED).exists()


def test_at_most_one_version_per_disease_is_active_by_database_constraint(db):
    model_version_install("rheumatoid_arthritis", status="active", version=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        model_version_install("rheumatoid_arthritis", status="active", version=2)


def test_activation_retires_the_previous_version_and_rescoring_keeps_history(
        admin_actor, site_lu, ra_patient_lu, django_capture_on_commit_callbacks):
    first = model_version_install("rheumatoid_arthritis", status="active", version=1)
    from recommendations.jobs import jobs_run_pending

    jobs_run_pending()
    assert Recommendation.objects.filter(model_version=first).count() == 1
    second = model_version_install("rheumatoid_arthritis", status="validated", version=2)
    with django_capture_on_commit_callbacks(execute=True):
        run = model_version_activate(version=second, actor=admin_actor)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ModelStatus.RETIRED, ModelStatus.ACTIVE)
    assert second.activated_by == admin_actor.user
    assert run.progress() == {"total": 1, "done": 1, "failed": 0, "remaining": 0}
    recs = Recommendation.objects.filter(visit__patient=ra_patient_lu)
    assert recs.count() == 2
    assert recs.get(superseded_at__isnull=True).model_version == second

    with django_capture_on_commit_callbacks(execute=True):
        model_version_activate(version=first, actor=admin_actor)
    assert AuditEvent.objects.filter(action="model_rollback", object_id=str(first.pk)).exists()
    assert Recommendation.objects.get(visit__patient=ra_patient_lu, superseded_at__isnull=True).model_version == first


def test_a_rejected_version_cannot_be_activated(admin_actor):
    rejected = model_version_upload(data=b"not a zip", filename="x.zip", actor=admin_actor)
    with pytest.raises(RegistryError, match="rejected"):
        model_version_activate(version=rejected, actor=admin_actor)


def test_clinicians_get_403_on_the_model_api(alice_client):
    assert alice_client.get("/api/v1/model-versions/").status_code == 403
    assert alice_client.post("/api/v1/model-versions/1/activate").status_code == 403


def test_a_model_admin_uploads_and_activates_through_the_api(client, mia, site_lu, ra_patient_lu,
                                                             django_capture_on_commit_callbacks):
    verified(client, mia)
    upload = io.BytesIO(pretrained_bytes("rheumatoid_arthritis"))
    upload.name = "ra.zip"
    response = client.post("/api/v1/model-versions/", {"file": upload})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "validated" and body["metrics"]["auc"] > 0.6
    with django_capture_on_commit_callbacks(execute=True):
        activated = client.post(f"/api/v1/model-versions/{body['id']}/activate")
    assert activated.status_code == 200
    assert activated.json()["status"] == "active"
    listed = client.get("/api/v1/model-versions/?disease=rheumatoid_arthritis").json()["results"]
    assert [v["status"] for v in listed] == ["active"]
    assert ScoringJob.objects.filter(visit__patient=ra_patient_lu, status="done").count() >= 1


def test_a_bad_upload_through_the_api_answers_422_with_the_failed_check(client, mia):
    verified(client, mia)
    upload = io.BytesIO(b"\x80\x04not really a zip")
    upload.name = "model.zip"
    response = client.post("/api/v1/model-versions/", {"file": upload})
    assert response.status_code == 422
    assert response.json()["rejection_reason"].startswith("archive")


def test_the_model_card_page_shows_the_held_out_auc(client, mia, ra_model):
    verified(client, mia)
    page = client.get(f"/models/{ra_model.pk}/").content.decode()
    assert "Held-out test metrics" in page and "AUC" in page
    assert "Trained on synthetic data" in page


def test_a_clinician_gets_403_on_the_model_pages(alice_client, ra_model):
    assert alice_client.get("/models/").status_code == 403
