"""A web process sends its scoring jobs through one sender thread: ids that gather meanwhile leave as one message."""

import base64
import json
import logging
import os
import time

import pytest
import redis

from recommendations.dispatch import JobSender

pytestmark = [pytest.mark.services]


@pytest.fixture
def broker():
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://...")
    from clinnova.celery import app

    app.control.purge()
    app.conf.task_always_eager = False
    yield redis.Redis.from_url(url)
    app.control.purge()


def sent(broker) -> list[tuple[str, list]]:
    """(task name, arguments) of each message waiting in the queue, oldest first."""
    messages = [json.loads(m) for m in reversed(broker.lrange("celery", 0, -1))]
    return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages]


def wait_sent(broker, n: int) -> list:
    for _ in range(100):
        if len(found := sent(broker)) >= n:
            return found
        time.sleep(0.05)
    return sent(broker)


def test_one_job_alone_is_sent_as_score_job_which_takes_the_backlog_behind_it(broker):
    JobSender().enqueue(41)
    assert wait_sent(broker, 1) == [("recommendations.tasks.score_job", [41])]


def test_jobs_that_gather_while_the_sender_is_busy_leave_together_as_one_message(broker):
    sender = JobSender()
    with sender._ready:  # the sender thread cannot take anything until the three ids are in
        for job_id in (7, 8, 9):
            sender.enqueue(job_id)
    assert wait_sent(broker, 1) == [("recommendations.tasks.score_jobs", [[7, 8, 9]])]


def test_a_broker_error_leaves_the_jobs_pending_for_the_sweep_and_the_sender_goes_on(broker, monkeypatch, caplog):
    from recommendations.tasks import score_job

    real = score_job.apply_async
    calls = []

    def fails_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise ConnectionError("broker away")
        return real(*args, **kwargs)

    monkeypatch.setattr(score_job, "apply_async", fails_once)
    sender = JobSender()
    with caplog.at_level(logging.WARNING, logger="recommendations.dispatch"):
        sender.enqueue(1)
        for _ in range(100):
            if "not sent" in caplog.text:
                break
            time.sleep(0.05)
    assert "1 scoring job(s) not sent (ConnectionError); the sweep will retry" in caplog.text
    sender.enqueue(2)
    assert wait_sent(broker, 1) == [("recommendations.tasks.score_job", [2])]


def test_score_job_delay_runs_in_place_when_there_is_no_broker(db, monkeypatch):
    from recommendations import dispatch
    from recommendations.tasks import score_job

    handed = []
    monkeypatch.setattr(dispatch.sender, "enqueue", handed.append)
    assert score_job.app.conf.task_always_eager  # the test suite's default: tasks run in place
    score_job.delay(10**9)  # an id no job has: nothing to score, but it ran here and then
    assert handed == []
