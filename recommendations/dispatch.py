"""Scoring jobs to the broker from a web process: one sender thread per process, the ids coalesced.

Every visit a door stores sends its job's id once its transaction commits. Publishing one Celery message
costs about 0.5 ms of the web process's CPU (1,700 Python calls in Celery and kombu), and each message costs
the worker a task of its own, most of which find their job already claimed by the batch of an earlier one.
Here the request thread only appends the id to a list; the sender thread sends what has gathered since its
last send as one message: one job as `score_job` (which takes the backlog behind it), several as
`score_jobs`. With one visit at a time the id leaves 2 ms later; under load, the ids that arrive within
those 2 ms, or while a message is being sent, leave together in the next.

The database stays the source of truth: an id that is never sent (the broker away, the process stopped
before its sender ran) leaves its job pending, and the sweep sends it again (recommendations.jobs).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

log = logging.getLogger(__name__)

# At most this many ids in one message: a worker scores them in sub-batches (recommendations.tasks).
MESSAGE_MAX = 100
# Once an id waits, the sender lets the ids of concurrent requests join it for this long before it sends: at
# four threads posting, 0.60–0.68 messages per visit instead of 0.83–0.87 without the wait (1.00 before).
# A visit alone is sent this much later, far below the time its scoring takes.
GATHER_S = 0.002


class JobSender:
    def __init__(self) -> None:
        self._ids: list[int] = []
        self._ready = threading.Condition()
        self._pid: int | None = None  # the process whose thread runs: a forked child starts its own

    def enqueue(self, job_id: int) -> None:
        with self._ready:
            self._ids.append(job_id)
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="scoring-job-sender", daemon=True).start()
            self._ready.notify()

    def flush(self) -> None:
        """Send what waits now, in this thread (at exit: what the sender thread has not sent yet)."""
        while batch := self._take():
            self._send(batch)

    def _take(self) -> list[int]:
        with self._ready:
            batch, self._ids = self._ids[:MESSAGE_MAX], self._ids[MESSAGE_MAX:]
            return batch

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._ids:
                    self._ready.wait()
            time.sleep(GATHER_S)
            if batch := self._take():  # empty only if an exit's flush sent it meanwhile
                self._send(batch)

    @staticmethod
    def _send(batch: list[int]) -> None:
        from recommendations.tasks import score_job, score_jobs

        try:
            if len(batch) == 1:
                score_job.apply_async((batch[0],))
            else:
                score_jobs.apply_async((batch,))
        except Exception as exc:  # broker unreachable: the jobs stay pending and the sweep sends them later
            log.warning("%d scoring job(s) not sent (%s); the sweep will retry", len(batch), type(exc).__name__)


sender = JobSender()
atexit.register(sender.flush)
