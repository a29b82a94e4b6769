"""Uploads are validated as a job whose booster steps run in a child process with memory, CPU and time limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from clinnova.audit import Actor
from clinnova.celery import app
from recommendations import registry
from recommendations.models import ModelStatus, ModelVersion
from recommendations.registry import model_version_activate, model_version_upload, model_version_validate
from recommendations.sandbox import Limits, sandbox_validate
from tests.conftest import package_copy, pretrained_bytes
from tests.recommendations.booster_docs import booster_doc, package_with_booster, ubj
from tests.trust.helpers import verified

ROOT = Path(__file__).resolve().parents[2]


def test_a_child_over_its_memory_limit_is_a_failed_check_naming_the_limit():
    results = sandbox_validate(pretrained_bytes("crohns_disease"), limits=Limits(memory_mb=150, cpu_s=10, wall_s=15))
    assert results[-1]["passed"] is False and results[-1]["name"] == "booster_load"
    assert "150 MiB" in results[-1]["message"]


def test_a_child_past_its_wall_clock_is_killed_and_named():
    results = sandbox_validate(pretrained_bytes("crohns_disease"), limits=Limits(memory_mb=1024, cpu_s=10, wall_s=0.3))
    assert results == [{"name": "booster_load", "passed": False,
                        "message": "stopped after 0.3 s (the limit of wall-clock time)"}]


def test_a_valid_package_passes_every_sandboxed_check_and_reports_each_as_it_ends():
    seen = []
    results = sandbox_validate(pretrained_bytes("crohns_disease"), limits=Limits(1024, 15, 20), on_check=seen.append)
    assert [c["name"] for c in seen] == ["booster_load", "objective", "feature_count", "canary"]
    assert all(c["passed"] for c in results) and seen == results


def test_the_sandbox_wall_clock_stays_below_gunicorns_worker_timeout():
    conf = (ROOT / "clinnova" / "gunicorn_conf.py").read_text()
    assert "WEB_TIMEOUT_S" in conf and "gunicorn_conf" in (ROOT / "Dockerfile").read_text()
    assert settings.MODEL_SANDBOX_WALL_S < settings.WEB_TIMEOUT_S
    assert not re.search(r"--timeout", (ROOT / "Dockerfile").read_text())


def test_an_upload_with_a_broker_is_accepted_as_a_job_and_validated_by_a_worker(mia, monkeypatch):
    sent = []
    monkeypatch.setattr(registry, "validation_send", sent.append)
    app.conf.task_always_eager = False
    with pytest.MonkeyPatch.context() as m:
        m.setattr("django.db.transaction.on_commit", lambda fn, using=None, robust=False: fn())
        version = model_version_upload(data=pretrained_bytes("crohns_disease"), filename="cd.zip",
                                       actor=Actor(user=mia))
    assert version.status == ModelStatus.VALIDATING and sent == [version.pk]
    assert [c["passed"] for c in version.validation_report[-4:]] == [None] * 4
    with pytest.raises(registry.RegistryError, match="still being validated"):
        model_version_activate(version=version, actor=Actor(user=mia))
    done = model_version_validate(version_id=version.pk)
    assert done.status == ModelStatus.VALIDATED and all(c["passed"] for c in done.validation_report)
    assert model_version_validate(version_id=version.pk) is None  # claimed once


def test_the_same_package_twice_is_refused_as_a_duplicate(mia):
    first = model_version_upload(data=pretrained_bytes("crohns_disease"), filename="cd.zip", actor=Actor(user=mia))
    again = model_version_upload(data=pretrained_bytes("crohns_disease"), filename="cd-again.zip",
                                 actor=Actor(user=mia))
    assert first.status == ModelStatus.VALIDATED and again.status == ModelStatus.REJECTED
    assert again.rejection_reason.startswith("duplicate:") and "Crohn" in again.rejection_reason
    changed = model_version_upload(data=package_copy(pretrained_bytes("crohns_disease"), x_note="retrained"),
                                   filename="cd2.zip", actor=Actor(user=mia))
    assert changed.status == ModelStatus.VALIDATED and changed.version == 3


@pytest.mark.parametrize("change, field", [
    (lambda d: d["learner"]["learner_model_param"].update(num_target="4294967295"), "num_target"),
    (lambda d: d["learner"]["gradient_booster"]["model"]["trees"][0]["tree_param"].update(size_leaf_vector="2"),
     "size_leaf_vector"),
    (lambda d: d["learner"]["gradient_booster"].update(name="gblinear"), "gblinear"),
])
def test_the_reviews_crashing_uploads_answer_422_naming_the_field(client, mia, change, field):
    doc = booster_doc()
    change(doc)
    verified(client, mia)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/api/v1/model-versions/", {"file": SimpleUploadedFile(
        "evil.zip", package_with_booster(ubj(doc)), content_type="application/zip")})
    assert response.status_code == 422
    assert response.json()["rejection_reason"].startswith("booster_structure:")
    assert field in response.json()["rejection_reason"]
    assert not ModelVersion.objects.exclude(status=ModelStatus.REJECTED).exists()
    assert client.get("/api/v1/model-versions/").status_code == 200
