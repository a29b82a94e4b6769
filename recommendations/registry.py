"""The model registry: upload and validate a package, activate a version, roll back.

Validation happens before anything can use a version. In the request: size,
archive safety, manifest schema, features and drugs against the dictionary and
catalogue, and the structure of the booster document, none of which hands the
booster to XGBoost. Then, as a job: parsing the booster, its objective and
column count, and canary scoring, in a resource-limited child process
(recommendations.sandbox), each check stored as it ends so the model card shows
progress. A rejected upload is kept with its reason and changes nothing else; the
same bytes are never registered twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from patients.models import Visit
from recommendations.models import ModelStatus, ModelVersion, RescoreRun
from recommendations.package import package_precheck, package_sha256
from recommendations.safeguards import worse_figures
from recommendations.sandbox import limits_from_settings, sandbox_validate

log = logging.getLogger(__name__)
RESCORE_BATCH = 200
SANDBOX_CHECKS = ("booster_load", "objective", "feature_count", "canary")


class RegistryError(ValueError):
    """An activation that cannot happen (a rejected version, say), in words for the admin."""


class ReasonRequired(RegistryError):
    """The version is worse than the active one on some figure, and no reason was given."""


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _report(checks) -> list[dict]:
    # passed is None for a check that did not run because an earlier one failed.
    return [{"name": c.name, "passed": c.passed if c.ran else None, "message": c.message} for c in checks]


def _pending(names) -> list[dict]:
    return [{"name": name, "passed": None, "message": "waiting"} for name in names]


def _duplicate_of(sha256: str) -> ModelVersion | None:
    return ModelVersion.objects.exclude(status=ModelStatus.REJECTED).filter(sha256=sha256).defer("package").first()


def model_version_upload(*, data: bytes, filename: str, actor: Actor, validate_now: bool = False,
                         number: int | None = None) -> ModelVersion:
    """Register an uploaded package: rejected at once when a check in this process fails, else validating.

    `number` keeps a version's number from elsewhere (a site node registering the version its network hub
    distributed, so its recommendations name the hub's version); RegistryError when that number is taken here.

    The checks that parse the booster run as a job (model_version_validate) once this transaction commits;
    without a broker, or with validate_now (commands, which have no request timeout), they run before this
    returns, still in the sandbox.
    """
    checks, manifest = package_precheck(data, max_bytes=settings.MODEL_UPLOAD_MAX_BYTES)
    report = _report(checks)
    sha = package_sha256(data)
    failed = next((c for c in report if c["passed"] is False), None)
    if failed is None and (twin := _duplicate_of(sha)) is not None:
        failed = {"name": "duplicate", "passed": False,
                  "message": f"the same file (sha256 {sha[:12]}…) is already {twin.get_disease_display()} version "
                             f"{twin.version}; upload a changed package"}
        report.append(failed)
    report += [] if failed else _pending(SANDBOX_CHECKS)
    disease = (manifest or {}).get("disease", "") if isinstance(manifest, dict) else ""
    status = ModelStatus.REJECTED if failed else ModelStatus.VALIDATING
    for attempt in range(3):
        try:
            with transaction.atomic():
                if number is not None and ModelVersion.objects.filter(disease=disease, version=number).exists():
                    raise RegistryError(f"version number {number} of {disease} is already taken at this node")
                number = number or (ModelVersion.objects.filter(disease=disease).aggregate(n=Max("version"))["n"] or 0) + 1
                version = ModelVersion.objects.create(
                    disease=disease, version=number, status=status,
                    rejection_reason=f"{failed['name']}: {failed['message']}" if failed else "",
                    sha256=sha, filename=filename[:200],
                    package=b"" if failed else data, manifest=manifest if isinstance(manifest, dict) else {},
                    validation_report=report, uploaded_by=actor.user,
                )
                audit_record(actor=actor, action="model_upload", obj=version,
                             detail={"status": status, "disease": disease, "sha256": version.sha256})
            break
        except IntegrityError:
            if _duplicate_of(sha) is not None and status != ModelStatus.REJECTED:
                # Another upload of the same bytes won the race: this one is the duplicate.
                failed = {"name": "duplicate", "passed": False, "message": "the same file was registered "
                          "a moment ago by another upload"}
                report = [c for c in report if c["passed"] is not None] + [failed]
                status = ModelStatus.REJECTED
                continue
            if attempt == 2:
                raise
    if status == ModelStatus.VALIDATING:
        if validate_now or _in_process():
            model_version_validate(version_id=version.pk)
        else:
            transaction.on_commit(lambda pk=version.pk: validation_send(pk))
    version.refresh_from_db()
    return version


def _in_process() -> bool:
    # Without a broker (make run, tests) jobs run in this process: the sandbox's wall clock still bounds it.
    from clinnova.celery import app

    return bool(app.conf.task_always_eager)


def validation_send(version_id: int) -> None:
    from recommendations.tasks import validate_model_version

    try:
        validate_model_version.delay(version_id)
    except Exception:  # the broker is away: the sweep finds versions left validating
        log.warning("model validation not queued; the sweep will retry", exc_info=True)


def model_version_validate(*, version_id: int) -> ModelVersion | None:
    """Run the booster checks and the canary of a validating version in the sandbox, storing each as it ends.

    Claimed with a guarded update, so two workers never validate one version. Ends validated or rejected.
    """
    claimed = (ModelVersion.objects.filter(pk=version_id, status=ModelStatus.VALIDATING,
                                           validation_started_at__isnull=True)
               .update(validation_started_at=timezone.now()))
    if claimed != 1:
        return None
    version = ModelVersion.objects.get(pk=version_id)
    report = [c for c in version.validation_report if c["name"] not in SANDBOX_CHECKS]

    def progress(check: dict) -> None:
        done = [c for c in report if c["name"] in SANDBOX_CHECKS]
        report.append(check)
        left = [name for name in SANDBOX_CHECKS if name not in {c["name"] for c in done} | {check["name"]}]
        ModelVersion.objects.filter(pk=version_id).update(
            validation_report=report + (_pending(left) if check["passed"] else []))

    results = sandbox_validate(bytes(version.package), limits=limits_from_settings(), on_check=progress)
    failed = next((c for c in results if not c["passed"]), None)
    if failed:
        ran = {c["name"] for c in report}
        report += [{"name": n, "passed": None, "message": "not run: an earlier check failed"}
                   for n in SANDBOX_CHECKS if n not in ran]
    with transaction.atomic():
        ModelVersion.objects.filter(pk=version_id).update(
            status=ModelStatus.REJECTED if failed else ModelStatus.VALIDATED, validation_report=report,
            rejection_reason=f"{failed['name']}: {failed['message']}" if failed else "",
            **({"package": b""} if failed else {}))
        version.refresh_from_db()
        audit_record(actor=Actor(client="model_validation"), action="model_validate", obj=version,
                     detail={"status": version.status, "disease": version.disease})
    return version


def validations_sweep() -> list[int]:
    """Versions left validating (a lost message, a killed worker) are queued again."""
    cutoff = timezone.now() - dt.timedelta(seconds=2 * settings.MODEL_SANDBOX_WALL_S + 30)
    stale = list(ModelVersion.objects.filter(status=ModelStatus.VALIDATING, uploaded_at__lt=cutoff)
                 .filter(Q(validation_started_at__isnull=True) | Q(validation_started_at__lt=cutoff))
                 .values_list("pk", flat=True))
    ModelVersion.objects.filter(pk__in=stale).update(validation_started_at=None)
    for pk in stale:
        validation_send(pk)
    return stale


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
        if target.status == ModelStatus.VALIDATING:
            raise RegistryError(f"Version {target.version} is still being validated; it can be activated once every "
                                "check has passed.")
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
