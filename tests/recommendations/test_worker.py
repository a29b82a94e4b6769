"""A real `celery worker` process, through the real Redis, against the real PostgreSQL."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from clinnova.audit import Actor
from patients.services import PatientInput, visit_ingest
from recommendations.models import JobStatus, Recommendation, ScoringJob
from tests.conftest import RA_VISIT, model_version_install, services_missing

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_services():
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if connection.vendor != "postgresql" or not broker.startswith("redis://"):
        services_missing("needs DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://...")
    import redis

    try:
        redis.Redis.from_url(broker).ping()
    except redis.RedisError:
        services_missing(f"Redis at {broker} is not reachable")
    from clinnova.celery import app

    app.control.purge()
    app.conf.task_always_eager = False
    yield broker


def worker_start() -> subprocess.Popen:
    s = connection.settings_dict
    env = dict(os.environ, DATABASE_URL=f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}")
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "clinnova", "worker", "--pool=solo",
                             "--loglevel=WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(predicate, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def store_visit(site, value):
    return visit_ingest(site=site, disease="rheumatoid_arthritis", visit_date=dt.date.today(),
                        measurements=dict(RA_VISIT), actor=Actor(client="test-ehr"),
                        patient_input=PatientInput(system="urn:test", value=value, sex="male", birth_year=1971))


def test_a_real_worker_scores_a_stored_visit_through_redis(real_services, site_lu):
    model_version_install("rheumatoid_arthritis")
    worker = worker_start()
    try:
        visit = store_visit(site_lu, "W-1")
        assert wait_for(lambda: Recommendation.objects.filter(visit=visit).exists()), worker.stderr.read1().decode()
        assert ScoringJob.objects.get(visit=visit).status == JobStatus.DONE
        assert Recommendation.objects.get(visit=visit).items.count() == 10
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


def test_a_visit_stored_while_no_worker_runs_is_scored_once_one_starts(real_services, site_lu):
    model_version_install("rheumatoid_arthritis")
    visit = store_visit(site_lu, "W-2")
    time.sleep(0.5)
    assert ScoringJob.objects.get(visit=visit).status == JobStatus.PENDING
    worker = worker_start()
    try:
        assert wait_for(lambda: Recommendation.objects.filter(visit=visit).exists())
        time.sleep(1)
        assert Recommendation.objects.filter(visit=visit).count() == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


def many_visits(site, n, prefix):
    from recommendations.jobs import dispatch_deferred

    with dispatch_deferred():
        return [store_visit(site, f"{prefix}-{i}") for i in range(n)]


def exactly_one_current_each(visits) -> bool:
    from django.db.models import Count

    counts = dict(Recommendation.objects.filter(visit__in=visits, superseded_at__isnull=True)
                  .values_list("visit").annotate(n=Count("id")))
    return len(counts) == len(visits) and set(counts.values()) == {1}


def test_a_worker_killed_in_the_middle_loses_no_visit(real_services, site_lu):
    from recommendations import jobs
    from recommendations.tasks import score_jobs

    model_version_install("rheumatoid_arthritis")
    visits = many_visits(site_lu, 240, "K")
    ids = list(ScoringJob.objects.filter(visit__in=visits).values_list("pk", flat=True))
    worker = worker_start()
    for start in range(0, len(ids), 20):
        score_jobs.delay(ids[start:start + 20])
    # Kill it as soon as it has started: some batches done or running, others still queued.
    assert wait_for(lambda: ScoringJob.objects.filter(pk__in=ids, status=JobStatus.DONE).exists(), timeout=60)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert ScoringJob.objects.filter(pk__in=ids).exclude(status=JobStatus.DONE).exists()

    from clinnova.celery import app

    app.control.purge()  # what Redis still holds would come back after the visibility timeout; the sweep is faster
    worker = worker_start()
    try:
        later = ScoringJob.objects.order_by("-created_at").first().created_at + jobs.STALE_RUNNING * 2
        jobs.jobs_sweep(now=later)
        assert wait_for(lambda: not ScoringJob.objects.filter(pk__in=ids).exclude(status=JobStatus.DONE).exists())
        assert exactly_one_current_each(visits)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


def redis_restart(broker: str) -> None:
    """Restart Redis the way CI starts it: nothing is kept on disk, so queued messages are lost."""
    import redis

    port = broker.split(":")[2].split("/")[0]
    try:
        redis.Redis.from_url(broker).shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # shutdown closes the connection
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", port, "--save", "",
                    "--appendonly", "no"], check=True)
    assert wait_for(lambda: _ping(broker), timeout=20)


def _ping(broker):
    import redis

    try:
        return redis.Redis.from_url(broker).ping()
    except redis.RedisError:
        return False


def test_visits_queued_when_redis_restarts_are_all_scored_after_the_sweep(real_services, site_lu):
    import shutil

    from recommendations import jobs

    if shutil.which("redis-server") is None:
        services_missing("redis-server is needed to restart Redis")
    model_version_install("rheumatoid_arthritis")
    visits = [store_visit(site_lu, f"R-{i}") for i in range(30)]  # each sent to the queue on commit
    redis_restart(real_services)
    worker = worker_start()
    try:
        time.sleep(1)
        assert ScoringJob.objects.filter(visit__in=visits, status=JobStatus.PENDING).count() == 30  # queue was lost
        later = ScoringJob.objects.order_by("-created_at").first().created_at + jobs.STALE_PENDING * 2
        jobs.jobs_sweep(now=later)
        assert wait_for(lambda: exactly_one_current_each(visits))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
