"""Federated training as a job of the hub: requested (page or command), sent to the SuperLink, cancelled, swept.

The FederatedRun row is the job. A Celery task (or the command itself) submits it with `flwr run`; from then
on the hub's ServerApp, in the SuperLink's process, carries it out, records each round on the row and
registers the model version: a web or worker restart loses nothing. A run whose submission was lost (the
broker or the worker went away first) is submitted again by the sweep; a run whose ServerApp stopped
answering is failed by it, with the reason.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from network.models import FederatedRun, RunKind, RunStatus
from network.training import BAGGING, STRATEGIES
from patients.dictionary import Disease
from recommendations.training import DEFAULT_SEED, MAX_ROUNDS

# flower_run_id while a job holds the submission (before `flwr run` answered with Flower's id).
QUEUED = "queued"
# A queued run not started by then lost its submission; a running one silent for longer lost its ServerApp.
QUEUED_STALE = dt.timedelta(minutes=10)


class TrainingRequestError(ValueError):
    def __init__(self, field: str, value, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.value, self.message = field, value, message


def training_request(*, disease: str, actor: Actor, rounds: int = MAX_ROUNDS, strategy: str = BAGGING,
                     seed: int = DEFAULT_SEED, data: str = "nodes", n_patients: int = 0, weighted: bool = True,
                     submit: bool = True) -> FederatedRun:
    """Record a training run for a disease across the site nodes (audited) and submit it once committed.

    `weighted` (the default): each site's step is scaled by its share of the training rows, which brought the
    federated model within 0.01 AUC of pooled training in all four diseases where equal steps were 0.014-0.021
    below it (docs/federated-training.md).
    """
    if disease not in Disease.values:
        raise TrainingRequestError("disease", disease, f"must be one of {', '.join(Disease.values)}")
    if not 1 <= rounds <= MAX_ROUNDS:
        raise TrainingRequestError("rounds", rounds, f"must be between 1 and {MAX_ROUNDS}")
    if strategy not in STRATEGIES:
        raise TrainingRequestError("strategy", strategy, f"must be one of {', '.join(STRATEGIES)}")
    if data not in ("nodes", "cohort"):
        raise TrainingRequestError("data", data, "must be 'nodes' (the sites' own outcomes) or 'cohort'")
    with transaction.atomic():
        busy = FederatedRun.objects.filter(kind=RunKind.TRAINING, config__disease=disease,
                                           status__in=[RunStatus.PENDING, RunStatus.RUNNING]).first()
        if busy is not None:
            raise TrainingRequestError("disease", disease, f"training run {busy.pk} of this disease is still "
                                       f"{busy.status}; wait for it or cancel it first")
        run = FederatedRun.objects.create(kind=RunKind.TRAINING, requested_by=actor.user, config={
            "disease": disease, "seed": seed, "rounds": rounds, "strategy": strategy, "data": data,
            "n_patients": n_patients, "weighted": weighted, "min_rows": settings.NETWORK_TRAIN_MIN_ROWS})
        audit_record(actor=actor, action="federated_training_request", obj=run, detail=run.config)
        if submit:
            transaction.on_commit(lambda: training_send(run.pk))
    return run


def training_send(run_id: int) -> None:
    from network.tasks import federated_training  # noqa: PLC0415 (tasks import this module)

    try:
        federated_training.delay(run_id)
    except Exception:  # the broker is away: the sweep submits it later
        pass


def training_claim(run_id: int) -> FederatedRun | None:
    """The job's guarded claim of a pending, unsubmitted run (two workers never submit one run twice)."""
    claimed = FederatedRun.objects.filter(pk=run_id, kind=RunKind.TRAINING, status=RunStatus.PENDING,
                                          flower_run_id="").update(flower_run_id=QUEUED, created_at=timezone.now())
    return FederatedRun.objects.get(pk=run_id) if claimed == 1 else None


def training_cancel(*, run: FederatedRun, actor: Actor) -> bool:
    """Cancel a pending or running training run: it stops before its next round and registers nothing."""
    n = FederatedRun.objects.filter(pk=run.pk, kind=RunKind.TRAINING,
                                    status__in=[RunStatus.PENDING, RunStatus.RUNNING]).update(status=RunStatus.CANCELLED)
    if n:
        FederatedRun.objects.filter(pk=run.pk, started_at__isnull=True).update(finished_at=timezone.now(),
                                                                              error="cancelled before it started")
        audit_record(actor=actor, action="federated_training_cancel", obj=run, detail={"disease": run.config.get("disease")})
    return bool(n)


def trainings_sweep(*, now: dt.datetime | None = None) -> dict[str, list[int]]:
    """Submit again the runs whose submission was lost; fail the running ones whose ServerApp went silent."""
    now = now or timezone.now()
    lost = list(FederatedRun.objects.filter(kind=RunKind.TRAINING, status=RunStatus.PENDING, flower_run_id=QUEUED,
                                            started_at__isnull=True, created_at__lt=now - QUEUED_STALE)
                .values_list("pk", flat=True))
    FederatedRun.objects.filter(pk__in=lost).update(flower_run_id="")
    never_sent = list(FederatedRun.objects.filter(kind=RunKind.TRAINING, status=RunStatus.PENDING, flower_run_id="",
                                                  created_at__lt=now - dt.timedelta(minutes=1))
                      .values_list("pk", flat=True))
    for pk in never_sent:
        training_send(pk)
    silent_after = dt.timedelta(seconds=2 * settings.NETWORK_ROUND_TIMEOUT + 120)
    failed = []
    for run in FederatedRun.objects.filter(kind=RunKind.TRAINING, status=RunStatus.RUNNING).annotate(
            last=Max("messages__logged_at")):
        if (run.last or run.started_at) < now - silent_after:
            FederatedRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                status=RunStatus.FAILED, finished_at=now, booster=b"",
                error=f"the hub's ServerApp stopped: no message for {silent_after.total_seconds():.0f} s")
            failed.append(run.pk)
    return {"resent": never_sent, "failed": failed}
