"""The real stack on this machine, for benchmarks and load tests: gunicorn and Celery workers as processes.

Used by `make bench` (end to end) and `make loadtest`. Loopback only; every
process is started here and stopped here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def services_ready() -> str:
    """'' when PostgreSQL and Redis back this process, else the reason they do not."""
    if connection.vendor != "postgresql":
        return "needs DATABASE_URL=postgres://… (the embedded SQLite database has no real concurrency)"
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        return "needs CELERY_BROKER_URL=redis://…"
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    url = f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = dict(os.environ, DATABASE_URL=url, CELERY_BROKER_URL=settings.CELERY_BROKER_URL, HTTPS="0", DEBUG="0",
               SECRET_KEY=settings.SECRET_KEY, LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


@dataclass
class Stack:
    port: int
    web: subprocess.Popen
    env: dict[str, str]
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_start(self, *, concurrency: int = 1) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinnova", "worker", "--loglevel=WARNING",
             f"--concurrency={concurrency}", "--without-heartbeat", "--without-mingle", "--without-gossip",
             "--prefetch-multiplier=1"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.workers.append(proc)
        return proc

    def worker_kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool children: nothing gets to clean up."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
        self.workers.remove(proc)


def _wait_http(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def stack_running(*, web_workers: int = 2, worker_concurrency: int = 1, env: dict[str, str] | None = None,
                  app: str = "clinnova.wsgi:application", workers: int = 1):
    """gunicorn and `workers` Celery workers on this database and broker (env overrides, e.g. a proxied
    database; app, another WSGI application such as the load test's raw limit)."""
    env = env or child_env()
    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
         "--workers", str(web_workers), "--threads", "4", "--timeout", "30", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    stack = Stack(port=port, web=web, env=env)
    try:
        _wait_http(f"{stack.url}/health/")
        for _ in range(workers):
            stack.worker_start(concurrency=worker_concurrency)
        yield stack
    finally:
        for proc in [web, *stack.workers]:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in [web, *stack.workers]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
