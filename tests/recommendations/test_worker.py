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
