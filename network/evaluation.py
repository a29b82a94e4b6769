"""Federated evaluation at the hub: ask for one (a job), and pool the sites' binned counts into figures.

Pooled figures come from the summed cells of every site that answered (network.metrics); per-site figures
only where that site's own cells allow; a stratum no site could release is reported as suppressed.

The FederatedRun row is the job. The model card's button (or the command) records it; a Celery task claims
it and submits it with `flwr run`; from then on the hub's ServerApp, in the SuperLink's process, carries it
out and writes the result on the row, so a web or worker restart loses nothing. The sweep submits again a
run whose submission was lost (broker or worker gone first) and fails, with the reason, a run that was
submitted but never started, or started and never finished.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from network.metrics import stratum_metrics
from network.models import FederatedRun, RunKind, RunStatus
from recommendations.models import ModelStatus, ModelVersion

log = logging.getLogger(__name__)

# flower_run_id while a worker holds the submission (before `flwr run` answered with Flower's id); the same
# marker as a training job's, so run_submit replaces either with Flower's id.
QUEUED = "queued"
# `flwr run` gives up after 120 s: a run still queued well after that lost its worker.
QUEUED_STALE = dt.timedelta(minutes=5)
# A run nobody claimed this long after it was recorded lost its message (broker down, worker killed).
UNSENT_STALE = dt.timedelta(minutes=1)
# A run whose submission is lost this many times fails rather than loop.
MAX_SUBMISSIONS = 3
# Submitted but not started by the ServerApp after this long: the SuperLink lost it.
SUBMITTED_STALE = dt.timedelta(minutes=15)


# A candidate (validated), the active version, or a retired one; never one rejected or still validating.
EVALUABLE = (ModelStatus.VALIDATED, ModelStatus.ACTIVE, ModelStatus.RETIRED)


class EvaluationError(ValueError):
    pass


def evaluation_combine(payloads: dict[str, dict]) -> dict:
    """Pooled metrics per stratum, per-site overall metrics and outcome coverage, from the sites' replies."""
    names = sorted({name for p in payloads.values() for name in p.get("strata", {})})
    strata = {}
    for name in names:
        summaries = [p["strata"].get(name) for p in payloads.values()]
        strata[name] = stratum_metrics(summaries) or {"suppressed": True}
    per_site = {site: stratum_metrics([p["strata"].get("overall")]) or {"suppressed": True}
                for site, p in sorted(payloads.items())}
    coverage = {site: p.get("coverage", {}) for site, p in sorted(payloads.items())}
    return {"strata": strata, "per_site": per_site, "coverage": coverage}


def evaluation_request(*, version: ModelVersion, actor: Actor, submit: bool = True) -> FederatedRun:
    """Record the model admin's request to evaluate a version (active or candidate) on the sites' outcomes.

    Audited. With submit, the job is sent to a worker once the transaction commits. Refused (EvaluationError)
    while an evaluation of the same version is still queued or running: a second one would ask every site
    the same question twice and race the first for the model card.
    """
    if version.status not in EVALUABLE:
        raise EvaluationError(f"{version} cannot be evaluated: only validated, active or retired versions can")
    with transaction.atomic():
        # The version's row lock orders two concurrent requests: the second sees the first's run.
        ModelVersion.objects.select_for_update().filter(pk=version.pk).values_list("pk", flat=True).first()
        busy = FederatedRun.objects.filter(kind=RunKind.EVALUATION, model_version=version,
                                           status__in=[RunStatus.PENDING, RunStatus.RUNNING]).first()
        if busy is not None:
            state = "queued" if busy.status == RunStatus.PENDING else "running"
            raise EvaluationError(f"Evaluation {busy.pk} of version {version.version} is still {state}; "
                                  "wait for it to finish before asking for another.")
        run = FederatedRun.objects.create(kind=RunKind.EVALUATION, model_version=version, requested_by=actor.user)
        audit_record(actor=actor, action="federated_evaluation_request", obj=run,
                     detail={"model_version": version.pk, "disease": version.disease, "version": version.version})
        if submit:
            transaction.on_commit(lambda: evaluation_send(run.pk))
    return run


def evaluation_send(run_id: int) -> None:
    from network.tasks import federated_evaluation  # noqa: PLC0415 (the tasks import this module)

    try:
        federated_evaluation.delay(run_id)
    except Exception as exc:  # the broker is away: the run stays pending and the sweep sends it later
        log.warning("federated evaluation %s not sent (%s); the sweep will retry", run_id, type(exc).__name__)


def evaluation_claim(run_id: int) -> FederatedRun | None:
    """A worker's guarded claim of a pending, unsubmitted evaluation: two workers never submit one run twice."""
    # started_at holds when the worker took it until the ServerApp, starting the run, sets its own.
    claimed = FederatedRun.objects.filter(pk=run_id, kind=RunKind.EVALUATION, status=RunStatus.PENDING,
                                          flower_run_id="").update(flower_run_id=QUEUED, started_at=timezone.now())
    return FederatedRun.objects.select_related("model_version").get(pk=run_id) if claimed == 1 else None


def evaluations_sweep(*, now: dt.datetime | None = None, send: bool = True) -> dict[str, list[int]]:
    """Send again the evaluations whose submission was lost; fail those the SuperLink or ServerApp lost."""
    now = now or timezone.now()
    runs = FederatedRun.objects.filter(kind=RunKind.EVALUATION)
    failed = []
    for run in runs.filter(status=RunStatus.PENDING, flower_run_id=QUEUED, started_at__lt=now - QUEUED_STALE):
        attempts = int(run.config.get("submissions_lost", 0)) + 1
        if attempts >= MAX_SUBMISSIONS:
            failed += _fail(run.pk, RunStatus.PENDING, now, f"its submission to the SuperLink was lost {attempts} "
                            "times (the worker stopped before `flwr run` answered)")
            continue
        runs.filter(pk=run.pk, status=RunStatus.PENDING, flower_run_id=QUEUED).update(
            flower_run_id="", started_at=None, config={**run.config, "submissions_lost": attempts})
    unsent = list(runs.filter(status=RunStatus.PENDING, flower_run_id="", created_at__lt=now - UNSENT_STALE)
                  .values_list("pk", flat=True))
    if send:
        for pk in unsent:
            evaluation_send(pk)
    never_started = runs.filter(status=RunStatus.PENDING, started_at__lt=now - SUBMITTED_STALE).exclude(
        flower_run_id__in=["", QUEUED])
    for pk in never_started.values_list("pk", flat=True):
        failed += _fail(pk, RunStatus.PENDING, now, "submitted to the SuperLink, but the hub's ServerApp never "
                        f"started it within {SUBMITTED_STALE.total_seconds() / 60:.0f} min")
    # One round: the sites' timeout, then combining, which takes seconds; twice that is a stopped ServerApp.
    silent = dt.timedelta(seconds=2 * settings.NETWORK_ROUND_TIMEOUT + 120)
    for pk in runs.filter(status=RunStatus.RUNNING, started_at__lt=now - silent).values_list("pk", flat=True):
        failed += _fail(pk, RunStatus.RUNNING, now, f"the hub's ServerApp stopped: no result "
                        f"{silent.total_seconds():.0f} s after it started")
    return {"resent": unsent, "failed": failed}


def _fail(pk: int, status: str, now: dt.datetime, reason: str) -> list[int]:
    n = FederatedRun.objects.filter(pk=pk, status=status).update(status=RunStatus.FAILED, finished_at=now,
                                                                 error=reason)
    return [pk] if n else []
