"""Benchmarks for `make bench`: the raw XGBoost limit, the scoring pipeline, and end to end.

Figures are printed, never asserted: speed is measured on the machine at hand.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time

import numpy as np
import xgboost as xgb

from clinnova.audit import Actor
from patients.models import Site
from patients.services import PatientInput, visit_ingest
from recommendations.features import feature_matrix
from recommendations.jobs import dispatch_deferred, jobs_run, jobs_run_batches, scoring_held
from recommendations.models import ModelStatus, ModelVersion, ScoringJob
from recommendations.scoring import model_load, patient_values, visits_for_scoring

DISEASE = "rheumatoid_arthritis"
BENCH_SYSTEM = "urn:clinnova:bench"


def bench_visits_make(n: int, *, seed: int = 1) -> list:
    """n RA visits of distinct synthetic patients at a bench site, stored through the visit service."""
    rng = random.Random(seed)
    site = Site.objects.get_or_create(code="BENCH", defaults={"name": "Benchmark site", "country": "LU"})[0]
    visits = []
    with scoring_held():  # no job: the pipeline below records its own
        for i in range(n):
            m = {"tender_joint_count_28": rng.randint(0, 28), "swollen_joint_count_28": rng.randint(0, 20),
                 "esr": rng.randint(2, 90), "crp": round(rng.uniform(0.5, 80), 1),
                 "patient_global": rng.randint(0, 100), "evaluator_global": rng.randint(0, 100),
                 "rf_positive": rng.random() < 0.7, "anti_ccp_positive": rng.random() < 0.6,
                 "smoking_status": rng.choice(["never", "former", "current"]),
                 "albumin": round(rng.uniform(30, 48), 1), "haemoglobin": rng.randint(100, 160)}
            visits.append(visit_ingest(
                site=site, disease=DISEASE, visit_date=dt.date.today(), measurements=m, actor=Actor(client="bench"),
                patient_input=PatientInput(system=BENCH_SYSTEM, value=f"B-{seed}-{i}", sex=rng.choice(["female", "male"]),
                                           birth_year=rng.randint(1940, 2000), diagnosed_on=dt.date(2015, 1, 1)),
                source_system=BENCH_SYSTEM, source_id=f"bench-{seed}-{i}-{time.time_ns()}"))
    return visits


def raw_limit(visits, *, repeat: int = 5) -> float:
    """Visits per second of XGBoost predict + SHAP contributions alone, features already in memory."""
    version = ModelVersion.objects.get(disease=DISEASE, status=ModelStatus.ACTIVE)
    model = model_load(version)
    full = visits_for_scoring([v.pk for v in visits])
    X = np.vstack([feature_matrix(patient_values(v), model.features, model.drugs) for v in full])
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        dm = xgb.DMatrix(X, missing=np.nan, nthread=1)
        model.contributions_of(dm)
        best = min(best, time.perf_counter() - start)
    return len(visits) / best


def interval_cost(visits, *, repeat: int = 50) -> dict | str:
    """Per visit (one visit's rows, as a request scores them): milliseconds of the booster's predict + SHAP, and of
    the bootstrap ensemble's members (one joined booster), median over `repeat` calls; plus the members."""
    version = ModelVersion.objects.get(disease=DISEASE, status=ModelStatus.ACTIVE)
    model = model_load(version)
    if model.ensemble is None:
        return "the active model version has no ensemble (no intervals)"
    full = visits_for_scoring([v.pk for v in visits[:repeat]])
    rows = [feature_matrix(patient_values(v), model.features, model.drugs) for v in full]
    single, members = [], []
    for X in rows:
        start = time.perf_counter()
        model.contributions_of(xgb.DMatrix(X, missing=np.nan, nthread=1))
        single.append(time.perf_counter() - start)
        start = time.perf_counter()
        model.members_of(xgb.DMatrix(X, missing=np.nan, nthread=1))
        members.append(time.perf_counter() - start)
    return {"members": model.ensemble.size, "single_ms": 1000 * percentile(single, 50),
            "ensemble_ms": 1000 * percentile(members, 50)}


def pipeline(visits, *, batch: int = 200, repeat: int = 3, overlapped: bool = True) -> float:
    """Visits per second re-scoring through the real code path: database read, features, predict, SHAP,
    rules, database write. `overlapped`: each batch's write on its own connection while the next batch is
    built (jobs_run_batches; outside a transaction only); otherwise one batch after another on one connection."""
    best = float("inf")
    for _ in range(repeat):
        with dispatch_deferred():
            jobs = ScoringJob.objects.bulk_create([ScoringJob(visit_id=v.pk) for v in visits])
        ids = [j.pk for j in jobs]
        batches = [ids[i:i + batch] for i in range(0, len(ids), batch)]
        start = time.perf_counter()
        if overlapped:
            jobs_run_batches(batches)
        else:
            for b in batches:
                jobs_run(b)
        best = min(best, time.perf_counter() - start)
    return len(visits) / best


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(latencies: list[float]) -> dict:
    return {"n": len(latencies), "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * percentile(latencies, 95)}


def end_to_end(*, n: int = 300, warmup: int = 10) -> dict | str:
    """Latency from POSTing a visit to the JSON API until its recommendation is stored, through gunicorn,
    Redis, a Celery worker and PostgreSQL. Returns the reason instead when those services are not configured."""
    import http.client
    import json

    from clinnova.stack import services_ready, stack_running
    from patients.models import EHRClient
    from recommendations.models import Recommendation

    reason = services_ready()
    if reason:
        return reason
    site = Site.objects.get_or_create(code="BENCH", defaults={"name": "Benchmark site", "country": "LU"})[0]
    client = EHRClient(site=site, name=f"bench-{time.time_ns()}")
    token = client.token_issue()
    client.save()
    run = time.time_ns()
    latencies: list[float] = []
    with stack_running() as stack:
        for i in range(warmup + n):
            body = {"visit_id": f"e2e-{run}-{i}", "patient": {"id": f"E2E-{run}-{i}", "sex": "female",
                                                               "birth_year": 1960 + i % 40},
                    "disease": DISEASE, "date": dt.date.today().isoformat(),
                    "measurements": {"tender_joint_count_28": i % 28, "swollen_joint_count_28": i % 17,
                                     "esr": 5 + i % 80, "crp": round(0.5 + (i % 60) * 1.3, 1),
                                     "patient_global": i % 100, "rf_positive": i % 3 == 0}}
            start = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)  # a new connection, as EHRs do
            conn.request("POST", "/api/v1/visits/", json.dumps(body),
                         {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            payload = json.loads(response.read())
            conn.close()
            if response.status != 201:
                raise RuntimeError(f"POST answered {response.status}: {payload}")
            # The warm-up visits also wait for the worker to start and load the model, joining its ensemble (tens of
            # seconds on a busy machine): not timed.
            deadline = start + (10 if i >= warmup else 120)
            while not Recommendation.objects.filter(visit_id=payload["visit"], superseded_at__isnull=True).exists():
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"visit {payload['visit']} not scored within 10 s")
                time.sleep(0.002)
            if i >= warmup:
                latencies.append(time.perf_counter() - start)
    return summary(latencies)
