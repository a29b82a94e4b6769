"""Load and fault tests against the real stack: gunicorn, Celery workers, PostgreSQL and Redis, loopback only.

Simulated EHR clients post visits (10% exact duplicates, 10% invalid) for a
bounded time while a fault may strike halfway: Redis restarted, a worker
SIGKILLed, or PostgreSQL unreachable. Afterwards every accepted visit must be
stored exactly once and scored exactly once. `make loadtest` runs the long form;
the test suite runs each scenario for a few seconds.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from clinnova.stack import Stack, child_env, stack_running
from doors.loadtest_cpu import cpu_snapshot, cpu_spent
from patients.models import EHRClient, Site, Visit
from recommendations import jobs
from recommendations.models import JobStatus, Recommendation, ScoringJob

SCENARIOS = ("steady", "redis_restart", "worker_kill", "database_outage")


@dataclass
class Outcome:
    scenario: str
    seconds: float
    clients: int = 0
    raw: bool = False  # the raw limit (doors.loadtest_raw): nothing of the visit door's work to verify
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    accepted: dict = field(default_factory=dict)  # (client id, visit_id) -> visit uuid
    duplicates_same_visit: bool = True
    stored_once: bool = False
    scored_once: bool = False
    unscored: int = 0
    recovered: bool = True
    retry_after_on_503: bool = True
    accepted_at: list[float] = field(default_factory=list)  # monotonic times of 201 answers
    fault_ended: float | None = None
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of each part of the stack while clients ran
    load: tuple[float, float] = (0.0, 0.0)  # the machine's load average when clients started and stopped

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500)

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]

    @property
    def ok(self) -> bool:
        if self.raw:
            return self.server_errors == 0
        outage = self.scenario == "database_outage"
        unexpected_5xx = self.server_errors - (self.statuses[503] if outage else 0)
        if outage and self.statuses[503] == 0:
            return False  # the outage was never observed: nothing was tested
        return (unexpected_5xx == 0 and self.stored_once and self.scored_once and self.duplicates_same_visit
                and self.recovered and self.retry_after_on_503)


class PostgresProxy:
    """A TCP relay in front of PostgreSQL that can be cut: the database 'unreachable' for the stack only."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        self.open = False
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns.clear()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def _visit(rng: random.Random, run: str, client_no: int, i: int) -> dict:
    # A patient's sex and birth year are the same in every visit the EHR sends (a random sex per visit made
    # every second visit a correction: an UPDATE of the patient and an audit event the steady load never has).
    return {
        "visit_id": f"lt-{run}-{client_no}-{i}",
        "patient": {"id": f"LT-{run}-{client_no}-{i % 40}", "sex": ("female", "male")[(client_no + i % 40) % 2],
                    "birth_year": 1950 + (client_no * 7 + i % 40) % 50},
        "disease": "rheumatoid_arthritis",
        "date": (dt.date.today() - dt.timedelta(days=i % 300)).isoformat(),
        "measurements": {"tender_joint_count_28": rng.randint(0, 28), "swollen_joint_count_28": rng.randint(0, 20),
                         "esr": rng.randint(2, 90), "crp": round(rng.uniform(0.5, 80), 1),
                         "patient_global": rng.randint(0, 100), "rf_positive": rng.random() < 0.7},
    }


def _client_loop(out: Outcome, lock: threading.Lock, port: int, token: str, client_id: int, client_no: int,
                 run: str, deadline: float) -> None:
    rng = random.Random(f"{run}:{client_no}")
    sent: list[tuple[dict, str]] = []  # accepted bodies and the visit they created
    i = 0
    retry: dict | None = None  # a body answered 503: sent again as it was, as an EHR with an idempotency key does
    # After the deadline a client still resends a body answered 503 (bounded): an in-doubt visit is settled.
    while time.monotonic() < deadline or (retry is not None and time.monotonic() < deadline + 20):
        roll = rng.random()
        expected_visit = None
        if retry is not None:
            body, kind, retry = retry, "retry", None
        elif roll < 0.1 and sent:
            body, expected_visit = rng.choice(sent)
            kind = "duplicate"
        elif roll < 0.2:
            body, kind = _visit(rng, run, client_no, i), "invalid"
            body["measurements"]["crp"] = 9999  # out of range: a 400 naming measurements.crp
            body["visit_id"] += "-bad"
        else:
            body, kind = _visit(rng, run, client_no, i), "new"
        i += 1
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/api/v1/visits/", json.dumps(body),
                         {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            payload = response.read()
            retry_after = response.getheader("Retry-After")
            conn.close()
            status = response.status
        except OSError:
            status, payload, retry_after = 599, b"", None  # connection refused or reset: counted as a 5xx
        elapsed = time.perf_counter() - start
        with lock:
            out.statuses[status] += 1
            out.latencies.append(elapsed)
            if status == 503 and not retry_after:
                out.retry_after_on_503 = False
            # 201, or 200 for a retry whose first attempt was committed although its answer was lost.
            if status == 201 or (status == 200 and kind == "retry"):
                out.accepted_at.append(time.monotonic())
                visit = json.loads(payload)["visit"]
                out.accepted[(client_id, body["visit_id"])] = visit
                sent.append((body, visit))
            elif status == 200 and kind == "duplicate" and json.loads(payload)["visit"] != expected_visit:
                out.duplicates_same_visit = False
        if status == 503:
            retry = body
            time.sleep(0.2)  # Retry-After says 5 s; a bounded test backs off less


def _redis_restart() -> None:
    import redis

    url = settings.CELERY_BROKER_URL
    port = url.split(":")[2].split("/")[0]
    try:
        redis.Redis.from_url(url).shutdown(nosave=True)
    except redis.RedisError:
        pass
    time.sleep(1)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", port, "--save", "",
                    "--appendonly", "no"], check=True, stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            if redis.Redis.from_url(url).ping():
                return
        except redis.RedisError:
            time.sleep(0.1)


def _fault(scenario: str, stack: Stack, proxy: PostgresProxy | None, outage_seconds: float, out: Outcome) -> None:
    if scenario == "redis_restart":
        _redis_restart()
    elif scenario == "worker_kill":
        stack.worker_kill(stack.workers[0])
        time.sleep(1)
        stack.worker_start()
    elif scenario == "database_outage" and proxy is not None:
        proxy.cut()
        time.sleep(outage_seconds)
        # On a busy machine requests may be slow to arrive: the outage lasts until clients have met it.
        limit = time.monotonic() + 10
        while out.statuses[503] == 0 and time.monotonic() < limit:
            time.sleep(0.1)
        proxy.restore()


def _clients_make(n: int, run: str) -> list[tuple[EHRClient, str]]:
    site = Site.objects.get_or_create(code="LOAD", defaults={"name": "Load-test site", "country": "LU"})[0]
    made = []
    for k in range(n):
        client = EHRClient(site=site, name=f"load-{run}-{k}")
        token = client.token_issue()
        client.save()
        made.append((client, token))
    return made


def raw_run(*, seconds: float = 60, clients: int = 50) -> Outcome:
    """The raw limit beside a scenario: the same clients and bodies against doors.loadtest_raw (a plain DRF
    endpoint that validates a visit's shape and inserts one row) on the same gunicorn and database."""
    from doors.loadtest_raw import TABLE_CREATE, TABLE_DROP

    run = f"raw{time.time_ns() % 10**10}"
    out = Outcome(scenario="raw limit", seconds=seconds, clients=clients, raw=True)
    with connection.cursor() as cursor:
        cursor.execute(TABLE_CREATE)
    lock = threading.Lock()
    try:
        with stack_running(app="doors.loadtest_raw:application", workers=0) as stack:
            deadline = time.monotonic() + seconds
            threads = [threading.Thread(target=_client_loop, args=(out, lock, stack.port, "-", k, k, run, deadline))
                       for k in range(clients)]
            before = _cpu_start(out, stack)
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            _cpu_stop(out, stack, before)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(TABLE_DROP)
    return out


def scenario_run(scenario: str, *, seconds: float = 60, clients: int = 50, outage_seconds: float = 4) -> Outcome:
    run = f"{scenario[:2]}{time.time_ns() % 10**10}"
    out = Outcome(scenario=scenario, seconds=seconds, clients=clients)
    ehr = _clients_make(clients, run)
    db = connection.settings_dict
    proxy = PostgresProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)) if scenario == "database_outage" else None
    env = child_env(DATABASE_URL=child_env()["DATABASE_URL"].replace(
        f":{db['PORT'] or 5432}/", f":{proxy.port}/")) if proxy else None
    lock = threading.Lock()
    try:
        with stack_running(env=env) as stack:
            deadline = time.monotonic() + seconds  # the clock starts once gunicorn answers
            threads = [threading.Thread(target=_client_loop, args=(out, lock, stack.port, token, c.pk, k, run, deadline))
                       for k, (c, token) in enumerate(ehr)]
            before = _cpu_start(out, stack)
            for t in threads:
                t.start()
            time.sleep(seconds / 3)
            _fault(scenario, stack, proxy, min(outage_seconds, seconds / 3), out)
            out.fault_ended = time.monotonic()
            for t in threads:
                t.join()
            _cpu_stop(out, stack, before)
            if scenario == "database_outage":
                # Recovered by itself: visits were accepted again after the database came back.
                out.recovered = any(t > out.fault_ended for t in out.accepted_at)
            # Stop every worker before the sweep, so no job it is running can be counted as lost, then let a
            # fresh worker score what was re-queued: exactly what beat's sweep does later in production.
            for proc in list(stack.workers):
                proc.terminate()
                proc.wait(timeout=60)
                stack.workers.remove(proc)
            jobs.jobs_sweep(now=timezone.now() + jobs.STALE_RUNNING * 2)
            stack.worker_start()
            # The backlog is scored in batches; a few thousand visits take a minute or two on two cores.
            _wait_scored(out, timeout=max(120.0, 5 * seconds))
    finally:
        if proxy is not None:
            proxy.close()
    _verify(out, ehr)
    return out


def _cpu_start(out: Outcome, stack: Stack):
    out.load = (os.getloadavg()[0], 0.0)
    return _cpu_read(stack)


def _cpu_stop(out: Outcome, stack: Stack, before) -> None:
    out.cpu = cpu_spent(before, _cpu_read(stack))
    out.load = (out.load[0], os.getloadavg()[0])


def _cpu_read(stack: Stack):
    # A side measurement: a process gone or a failed read gives no figures, never a failed run.
    try:
        return cpu_snapshot(stack)
    except Exception:
        return None


def _wait_scored(out: Outcome, *, timeout: float) -> None:
    visits = list(out.accepted.values())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        open_jobs = ScoringJob.objects.filter(visit__in=visits, status__in=[JobStatus.PENDING, JobStatus.RUNNING])
        if not open_jobs.exists():
            return
        time.sleep(0.5)


def _verify(out: Outcome, ehr: list[tuple[EHRClient, str]]) -> None:
    systems = [c.identifier_system for c, _ in ehr]
    stored = Counter(Visit.objects.filter(source_system__in=systems).values_list("source_system", "source_id"))
    out.stored_once = len(stored) == len(out.accepted) and set(stored.values()) <= {1}
    visits = list(out.accepted.values())
    recs = dict(Recommendation.objects.filter(visit__in=visits).values_list("visit").annotate(n=Count("id")))
    out.unscored = len(visits) - len(recs)
    out.scored_once = out.unscored == 0 and set(recs.values()) <= {1}


def table(outcomes: list[Outcome]) -> str:
    head = (f"{'scenario':<17}{'clients':>8}{'s':>4}{'requests':>9}{'req/s':>7}{'p50 ms':>8}{'p95 ms':>8}"
            f"{'p99 ms':>8}{'5xx':>5}{'503':>5}{'accepted':>9}{'stored 1×':>10}{'scored 1×':>10}{'unscored':>9}"
            f"  result")
    lines = [head, "-" * len(head)]
    for o in outcomes:
        verified = "-" if o.raw else None
        lines.append(
            f"{o.scenario:<17}{o.clients:>8}{o.seconds:>4.0f}{o.requests:>9}{o.requests / o.seconds:>7.0f}"
            f"{o.percentile(50):>8.0f}{o.percentile(95):>8.0f}{o.percentile(99):>8.0f}{o.server_errors:>5}"
            f"{o.statuses[503]:>5}{len(o.accepted):>9}"
            f"{verified or ('yes' if o.stored_once else 'NO'):>10}{verified or ('yes' if o.scored_once else 'NO'):>10}"
            f"{verified or o.unscored:>9}  "
            f"{'ok' if o.ok else 'FAILED'}")
    return "\n".join(lines)


def cpu_table(outcomes: list[Outcome]) -> str:
    """CPU milliseconds per request of each part of the stack while the clients ran, with the load average: the
    figure to compare between runs on a shared machine (the worker's backlog scored afterwards is not in it)."""
    parts = ("gunicorn", "worker", "postgres", "generator")
    head = f"{'scenario':<17}{'clients':>8}" + "".join(f"{p:>11}" for p in parts) + f"{'all':>8}   load average"
    lines = ["CPU ms per request", head, "-" * len(head)]
    for o in outcomes:
        if not o.cpu or not o.requests:
            continue
        per = {p: 1000 * o.cpu.get(p, 0.0) / o.requests for p in parts}
        lines.append(f"{o.scenario:<17}{o.clients:>8}" + "".join(f"{per[p]:>11.1f}" for p in parts)
                     + f"{sum(per.values()):>8.1f}   {o.load[0]:.1f} → {o.load[1]:.1f}")
    return "\n".join(lines)
