"""The model registry: upload and validate a package, activate a version, roll back.

Validation happens before anything can use a version: size, archive safety,
manifest schema, features and drugs against the dictionary and catalogue, the
booster's feature count, then canary scoring in a child process. A rejected
upload is kept with its reason and changes nothing else.
"""

from __future__ import annotations

import json
import subprocess
import sys

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from patients.models import Visit
from recommendations.models import ModelStatus, ModelVersion, RescoreRun
from recommendations.package import package_checks, package_sha256
from recommendations.safeguards import worse_figures

CANARY_TIMEOUT_S = 120
RESCORE_BATCH = 200


class RegistryError(ValueError):
    """An activation that cannot happen (a rejected version, say), in words for the admin."""


class ReasonRequired(RegistryError):
    """The version is worse than the active one on some figure, and no reason was given."""


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def canary_run(data: bytes) -> dict:
    """Canary scoring in a child process, so a model that crashes takes down only the child."""
    try:
        proc = subprocess.run([sys.executable, "-m", "recommendations.canary"], input=data, capture_output=True,
                              timeout=CANARY_TIMEOUT_S, cwd=settings.BASE_DIR)
    except subprocess.TimeoutExpired:
        return {"name": "canary", "passed": False, "message": f"canary scoring took longer than {CANARY_TIMEOUT_S} s"}
    if proc.returncode != 0:
        return {"name": "canary", "passed": False,
                "message": f"canary scoring crashed its process (exit code {proc.returncode})"}
    try:
        result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"name": "canary", "passed": False, "message": "canary scoring gave no result"}
    return {"name": "canary", "passed": bool(result.get("passed")), "message": str(result.get("message", ""))}


def _report(checks) -> list[dict]:
    # passed is None for a check that did not run because an earlier one failed.
    return [{"name": c.name, "passed": c.passed if c.ran else None, "message": c.message} for c in checks]


def model_version_upload(*, data: bytes, filename: str, actor: Actor) -> ModelVersion:
    """Validate an uploaded package and register it as validated or rejected (never active)."""
    checks, manifest, _booster = package_checks(data, max_bytes=settings.MODEL_UPLOAD_MAX_BYTES)
    report = _report(checks)
    if all(c["passed"] for c in report):
        report.append(canary_run(data))
    failed = next((c for c in report if c["passed"] is False), None)
    disease = (manifest or {}).get("disease", "") if isinstance(manifest, dict) else ""
    status = ModelStatus.REJECTED if failed else ModelStatus.VALIDATED
    for attempt in range(3):
        try:
            with transaction.atomic():
                number = (ModelVersion.objects.filter(disease=disease).aggregate(n=Max("version"))["n"] or 0) + 1
                version = ModelVersion.objects.create(
                    disease=disease, version=number, status=status,
                    rejection_reason=f"{failed['name']}: {failed['message']}" if failed else "",
                    sha256=package_sha256(data), filename=filename[:200],
                    package=b"" if failed else data, manifest=manifest if isinstance(manifest, dict) else {},
                    validation_report=report, uploaded_by=actor.user,
                )
                audit_record(actor=actor, action="model_upload", obj=version,
                             detail={"status": status, "disease": disease, "sha256": version.sha256})
            return version
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# A reason is a sentence someone can read later, not a keystroke to get past the form.
REASON_MIN_CHARS = 10


def model_version_activate(*, version: ModelVersion, actor: Actor, reason: str = "") -> RescoreRun:
    """Make this version the disease's active one (rollback when it is older), and re-score.

    One transaction: the previous active version is retired, this one becomes
    active, and a re-scoring job is recorded for the latest visit of every
    patient of the disease; the jobs are sent after commit. A version worse than
    the active one on any validation figure needs a typed `reason`, which the
    audit trail keeps with the figures it is worse on.
    """
    from recommendations.jobs import dispatch_deferred, scoring_job_record

    with transaction.atomic():
        versions = list(ModelVersion.objects.select_for_update().filter(disease=version.disease).defer("package"))
        target = next(v for v in versions if v.pk == version.pk)
        if target.status == ModelStatus.REJECTED:
            raise RegistryError(f"Version {target.version} was rejected ({target.rejection_reason}); it cannot be activated.")
        previous = next((v for v in versions if v.status == ModelStatus.ACTIVE), None)
        if previous is not None and previous.pk == target.pk:
            raise RegistryError(f"Version {target.version} is already active.")
        worse = worse_figures(target, previous)
        reason = (reason or "").strip()[:2000]
        if worse and len(reason) < REASON_MIN_CHARS:
            raise ReasonRequired(
                f"Version {target.version} is worse than the active version {previous.version} on "
                f"{_and(worse)}. Say in a sentence why you activate it anyway (at least {REASON_MIN_CHARS} "
                "characters); the audit trail keeps it.")
        if previous is not None:
            previous.status = ModelStatus.RETIRED
            previous.save(update_fields=["status"])
        target.status = ModelStatus.ACTIVE
        target.activated_by = actor.user
        target.activated_at = timezone.now()
        target.save(update_fields=["status", "activated_by", "activated_at"])
        rollback = previous is not None and target.version < previous.version
        audit_record(actor=actor, action="model_rollback" if rollback else "model_activate", obj=target,
                     detail={"disease": target.disease, "version": target.version,
                             "previous": previous.version if previous else None,
                             "worse_on": worse, "activation_reason": reason})
        run = RescoreRun.objects.create(model_version=target, started_by=actor.user)
        with dispatch_deferred():
            job_ids = [scoring_job_record(v, rescore=run).pk for v in latest_visits(target.disease)]
        run.total = len(job_ids)
        run.save(update_fields=["total"])
        transaction.on_commit(lambda: rescore_send(job_ids))
    return run


def latest_visits(disease: str) -> list[Visit]:
    latest = Visit.objects.filter(patient=OuterRef("patient"), disease=disease).order_by("-visit_date", "-created_at")
    return list(Visit.objects.filter(disease=disease, pk=Subquery(latest.values("pk")[:1])).only("pk"))


def rescore_send(job_ids: list[int]) -> None:
    """Send re-scoring jobs in batches: each batch is one vectorised scoring call in a worker."""
    from recommendations.jobs import jobs_send

    jobs_send(job_ids, batch=RESCORE_BATCH)
