"""Scoring jobs: recorded with the visit, claimed with a guarded update, retried a bounded number of times.

The database is the source of truth; the broker only carries job ids. A job
whose message is lost (broker down, worker killed) is found by the sweep and
queued again, so every accepted visit ends with exactly one current
recommendation.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
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
    return jobs_run_batches([job_ids])


# How many jobs a worker handed one job scores with it (see jobs_run_with_backlog).
BACKLOG_BATCH = 100


def jobs_run_with_backlog(job_id: int) -> int:
    """Score this job and the jobs queued behind it, in one batch.

    Under load every POST queues one job; scored one at a time, each pays a batch's fixed cost (claim, five
    reads, one predict call, one transaction) and the worker falls behind the door. A worker handed one job
    also claims up to BACKLOG_BATCH - 1 other pending jobs, oldest first, with the same guarded update: a job
    another worker claimed meanwhile is skipped, and the message of a job scored here finds nothing to claim.
    When nothing else waits, the batch is this one job and the latency is unchanged.
    """
    others = list(ScoringJob.objects.filter(status=JobStatus.PENDING, attempts__lt=MAX_ATTEMPTS)
                  .exclude(pk=job_id).order_by("pk").values_list("pk", flat=True)[:BACKLOG_BATCH - 1])
    return jobs_run([job_id, *others])


def jobs_run_batches(batches: list[list[int]]) -> int:
    """Claim and score batch after batch; returns how many jobs were scored.

    Outside a transaction (a worker, a command), each batch's write (its recommendations and "done", committed
    together) runs on a thread of its own, with its own connection, while this thread reads and predicts the
    next batch: the database works on one core while XGBoost and the rules work on the other. Inside a
    transaction (tests, a caller's atomic block) a second connection could not see the caller's rows, and on
    SQLite the two would only take turns at its one write lock, so there the batches run one after another.
    """
    batches = [ids for ids in batches if ids]
    if len(batches) < 2 or connection.in_atomic_block or connection.vendor != "postgresql":
        return sum(_batch_write(*_batch_build(ids)) for ids in batches)
    handoff: queue.Queue = queue.Queue(maxsize=1)  # at most one built batch waits: memory stays bounded
    state = {"done": 0, "error": None}
    writer = threading.Thread(target=_writer_loop, args=(handoff, state), name="scoring-writer", daemon=True)
    writer.start()
    try:
        for ids in batches:
            if state["error"] is not None:
                break  # the database went away under the writer: leave the rest pending for the sweep
            handoff.put(_batch_build(ids))
    finally:
        handoff.put(None)
        writer.join()
    if state["error"] is not None:
        raise state["error"]
    return state["done"]


def _writer_loop(handoff: queue.Queue, state: dict) -> None:
    try:
        while (batch := handoff.get()) is not None:
            if state["error"] is None:
                try:
                    state["done"] += _batch_write(*batch)
                except TRANSIENT_ERRORS as exc:
                    state["error"] = exc
            elif batch[1] is not None:
                # Claimed but not written: pending again, and due for the sweep at once (attempts > 0).
                _batches_release(batch[0])
    finally:
        connection.close()


def _batch_build(job_ids: list[int]) -> tuple[list[int], tuple | None]:
    """Claim the jobs and build their recommendations: (claimed ids, what to store or None)."""
    from recommendations.scoring import recommendations_build

    jobs = jobs_claim(job_ids)
    if not jobs:
        return [], None
    ids = [j.pk for j in jobs]
    try:
        return ids, recommendations_build(jobs)
    except Exception as exc:
        _batch_failed(ids, exc)
        return ids, None


def _batch_write(ids: list[int], built: tuple | None) -> int:
    """Store a built batch; the recommendations and "done" commit together (a worker that dies in between
    leaves neither)."""
    from recommendations.scoring import recommendations_store

    if built is None:
        return 0
    try:
        with transaction.atomic():
            recommendations_store(*built)
            ScoringJob.objects.filter(pk__in=ids).update(status=JobStatus.DONE, finished_at=timezone.now(), reason="")
    except Exception as exc:
        _batch_failed(ids, exc)
        return 0
    return len(ids)


def _batch_failed(ids: list[int], exc: Exception) -> None:
    """A transient error puts the jobs back to pending and is raised again (the task retries); anything else is
    a bug or a bad model: the jobs fail with the reason."""
    if isinstance(exc, TRANSIENT_ERRORS):
        _batches_release(ids)
        raise exc
    log.error("scoring jobs %s failed", ids, exc_info=exc)
    ScoringJob.objects.filter(pk__in=ids).update(
        status=JobStatus.FAILED, finished_at=timezone.now(), reason=f"{type(exc).__name__}: {exc}"[:1000])


def _batches_release(ids: list[int]) -> None:
    ScoringJob.objects.filter(pk__in=ids, status=JobStatus.RUNNING).update(status=JobStatus.PENDING)


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


def jobs_run_pending(*, batch: int = 200, batches: int = 10) -> int:
    """Run every pending job in this process, in batches (embedded mode, demo loading), `batches` at a time
    through the pipeline of jobs_run_batches."""
    total = 0
    while True:
        ids = list(ScoringJob.objects.filter(status=JobStatus.PENDING, attempts__lt=MAX_ATTEMPTS)
                   .order_by("pk").values_list("pk", flat=True)[:batch * batches])
        if not ids:
            # Fail what has exhausted its attempts so nothing stays pending forever.
            jobs_claim(list(ScoringJob.objects.filter(status=JobStatus.PENDING).values_list("pk", flat=True)))
            return total
        total += jobs_run_batches([ids[i:i + batch] for i in range(0, len(ids), batch)])
