"""Scoring jobs: recorded with the visit, claimed with a guarded update, retried a bounded number of times.

The database is the source of truth; the broker only carries job ids. A job
whose message is lost (broker down, worker killed) is found by the sweep and
queued again, so every accepted visit ends with exactly one current
recommendation.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from patients.models import Visit
from recommendations.models import JobStatus, ScoringJob

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A running job older than this lost its worker (the task time limit is 120 s).
STALE_RUNNING = dt.timedelta(seconds=150)
# A pending job older than this lost its message (broker down, or never sent).
STALE_PENDING = dt.timedelta(seconds=30)
# Errors worth retrying: the database or broker was briefly away. Anything else is a bug or bad model.
TRANSIENT_ERRORS = (OperationalError, ConnectionError, TimeoutError)

_local = threading.local()


@contextmanager
def dispatch_deferred():
    """Record jobs without sending them; the caller runs them in batches (demo loading, re-scoring)."""
    _local.deferred = True
    try:
        yield
    finally:
        _local.deferred = False


@contextmanager
def scoring_held():
    """Record no job for visits stored meanwhile: a bulk import stores history, then scores only each
    patient's latest visit with latest_visits_score."""
    _local.held = True
    try:
        yield
    finally:
        _local.held = False


def latest_visits_score(patient_ids: list) -> list[int]:
    """Record (and send on commit, in batches) a job for each patient's latest visit that has none yet."""
    from django.db.models import OuterRef, Subquery

    from patients.models import Patient

    recorded: list[int] = []
    for start in range(0, len(patient_ids), 1000):
        latest = (Visit.objects.filter(patient=OuterRef("pk")).order_by("-visit_date", "-created_at")
                  .values("pk")[:1])
        visit_ids = set(Patient.objects.filter(pk__in=patient_ids[start:start + 1000])
                        .annotate(latest=Subquery(latest)).values_list("latest", flat=True)) - {None}
        visit_ids -= set(ScoringJob.objects.filter(visit_id__in=visit_ids).values_list("visit_id", flat=True))
        jobs = ScoringJob.objects.bulk_create([ScoringJob(visit_id=v) for v in sorted(visit_ids, key=str)])
        recorded += [j.pk for j in jobs]
    if recorded:
        transaction.on_commit(lambda: jobs_send(recorded))
    return recorded


def scoring_job_record(visit: Visit, *, rescore=None) -> ScoringJob:
    """Record a pending job for the visit and send it to a worker once the transaction commits."""
    job = ScoringJob.objects.create(visit=visit, rescore=rescore)
    if not getattr(_local, "deferred", False):
        transaction.on_commit(lambda: job_send(job.pk))
    return job


def visit_stored_receive(sender, *, visit: Visit, **kwargs) -> None:
    """patients.services.visit_stored: a new or amended visit is scored (connected in RecommendationsConfig)."""
    if not getattr(_local, "held", False):
        scoring_job_record(visit)


def job_send(job_id: int) -> None:
    from recommendations.tasks import score_job

    try:
        score_job.delay(job_id)
    except Exception as exc:  # broker unreachable: the job stays pending and the sweep sends it later
        log.warning("scoring job %s not sent (%s); the sweep will retry", job_id, type(exc).__name__)


def jobs_claim(job_ids: list[int]) -> list[ScoringJob]:
    """Move pending jobs to running; a job another worker already claimed is skipped.

    A job that has used all its attempts is failed instead of run again, so a
    job that kills its worker cannot be redelivered forever.
    """
    now = timezone.now()
    ScoringJob.objects.filter(pk__in=job_ids, status=JobStatus.PENDING, attempts__gte=MAX_ATTEMPTS).update(
        status=JobStatus.FAILED, finished_at=now,
        reason=f"gave up after {MAX_ATTEMPTS} attempts (the worker failed or died each time)")
    if not job_ids:
        return []
    # One guarded UPDATE … RETURNING for the batch: of two workers handed the same job, only one gets it.
    table = ScoringJob._meta.db_table
    marks = ", ".join(["%s"] * len(job_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, started_at = %s "
            f"WHERE status = %s AND id IN ({marks}) RETURNING id",
            [JobStatus.RUNNING, connection.ops.adapt_datetimefield_value(now), JobStatus.PENDING, *job_ids],
        )
        claimed = [row[0] for row in cursor.fetchall()]
    return list(ScoringJob.objects.filter(pk__in=claimed).order_by("pk"))


def jobs_run(job_ids: list[int]) -> int:
    """Claim and score these jobs in one batch; returns how many were scored."""
    from recommendations.scoring import recommendations_compute

    jobs = jobs_claim(job_ids)
    if not jobs:
        return 0
    ids = [j.pk for j in jobs]
    try:
        # The recommendations and "done" commit together: a worker that dies in between leaves neither.
        with transaction.atomic():
            recommendations_compute(jobs)
            ScoringJob.objects.filter(pk__in=ids).update(status=JobStatus.DONE, finished_at=timezone.now(), reason="")
    except TRANSIENT_ERRORS:
        ScoringJob.objects.filter(pk__in=ids, status=JobStatus.RUNNING).update(status=JobStatus.PENDING)
        raise
    except Exception as exc:
        log.exception("scoring jobs %s failed", ids)
        ScoringJob.objects.filter(pk__in=ids).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), reason=f"{type(exc).__name__}: {exc}"[:1000])
        return 0
    return len(ids)


def jobs_sweep(*, now: dt.datetime | None = None, send: bool = True) -> list[int]:
    """Re-queue jobs left pending or running too long; returns the ids now pending and due."""
    now = now or timezone.now()
    ScoringJob.objects.filter(status=JobStatus.RUNNING, started_at__lt=now - STALE_RUNNING).update(
        status=JobStatus.PENDING, reason="re-queued: its worker stopped before finishing")
    due = list(ScoringJob.objects.filter(status=JobStatus.PENDING)
               .filter(Q(created_at__lt=now - STALE_PENDING) | Q(attempts__gt=0) | Q(started_at__isnull=False))
               .values_list("pk", flat=True)[:5000])
    if send:
        jobs_send(due)
    return due


def jobs_send(job_ids: list[int], *, batch: int = 200) -> None:
    """Send many jobs as batches: a backlog (after a broker outage) is scored in vectorised calls."""
    from recommendations.tasks import score_jobs

    for start in range(0, len(job_ids), batch):
        try:
            score_jobs.delay(job_ids[start:start + batch])
        except Exception as exc:  # broker still away: the next sweep tries again
            log.warning("%d scoring jobs not sent (%s); the next sweep retries", len(job_ids) - start,
                        type(exc).__name__)
            return


def jobs_run_pending(*, batch: int = 200) -> int:
    """Run every pending job in this process, in batches (embedded mode, demo loading)."""
    total = 0
    while True:
        ids = list(ScoringJob.objects.filter(status=JobStatus.PENDING, attempts__lt=MAX_ATTEMPTS)
                   .order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            # Fail what has exhausted its attempts so nothing stays pending forever.
            jobs_claim(list(ScoringJob.objects.filter(status=JobStatus.PENDING).values_list("pk", flat=True)))
            return total
        total += jobs_run(ids)
