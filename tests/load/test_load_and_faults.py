"""The short form of `make loadtest`: a few seconds per scenario against the real stack.

Each scenario posts visits from simulated EHR clients (10% duplicates, 10% invalid)
through gunicorn while a fault strikes; afterwards every accepted visit is stored
exactly once and scored exactly once.
"""

import shutil

import pytest
from django.db import connection

from doors.loadtest import scenario_run
from tests.conftest import model_version_install, services_missing

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_stack(settings):
    import redis

    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis://"):
        services_missing("needs DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://...")
    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL).ping()
    except redis.RedisError:
        services_missing("Redis is not reachable")
    from clinnova.celery import app

    app.control.purge()
    app.conf.task_always_eager = False
    model_version_install("rheumatoid_arthritis")


def assert_nothing_lost(outcome):
    assert outcome.accepted, "no visit was accepted at all"
    assert outcome.stored_once, "an accepted visit is missing or stored twice"
    assert outcome.scored_once, f"{outcome.unscored} accepted visits have no recommendation, or one has two"
    assert outcome.duplicates_same_visit, "a duplicate post answered with another visit"
    assert outcome.statuses[400] > 0, "the invalid posts were not refused"


def test_steady_load_answers_no_5xx_and_loses_nothing(real_stack):
    outcome = scenario_run("steady", seconds=4, clients=8)
    assert outcome.server_errors == 0, outcome.statuses
    assert_nothing_lost(outcome)
    # What each part of the stack spent while the clients ran, read from /proc (the figure make loadtest prints).
    assert outcome.cpu["gunicorn"] > 0 and outcome.cpu["postgres"] > 0 and outcome.cpu["generator"] > 0


def test_a_redis_restart_in_the_middle_loses_no_visit(real_stack):
    if shutil.which("redis-server") is None:
        services_missing("redis-server is needed to restart Redis")
    outcome = scenario_run("redis_restart", seconds=4, clients=8)
    assert outcome.server_errors == 0, outcome.statuses
    assert_nothing_lost(outcome)


def test_a_worker_killed_in_the_middle_loses_no_visit(real_stack):
    outcome = scenario_run("worker_kill", seconds=4, clients=8)
    assert outcome.server_errors == 0, outcome.statuses
    assert_nothing_lost(outcome)


def test_a_database_outage_answers_503_with_retry_after_and_recovers_by_itself(real_stack):
    outcome = scenario_run("database_outage", seconds=6, clients=8, outage_seconds=2)
    assert outcome.statuses[503] > 0 and outcome.retry_after_on_503
    assert outcome.server_errors == outcome.statuses[503], outcome.statuses  # no 500s
    assert outcome.recovered, "no visit was accepted after the database came back"
    assert_nothing_lost(outcome)
