"""The bulk import's rate for `make bench`, beside the raw limit of inserting the same visit rows.

Figures are printed, never asserted. Everything is rolled back afterwards.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import time

from django.db import transaction

from clinnova.audit import Actor
from doors.bulk.models import ImportFormat
from doors.bulk.service import import_claim, import_create, import_run
from patients.models import EHRClient, Patient, Site, Visit
from recommendations.jobs import jobs_run_batches
from recommendations.models import JobStatus, ScoringJob

VISITS_PER_PATIENT = 5


def bench_file(n: int, *, seed: int = 1) -> bytes:
    """n RA visits of n / 5 patients, one line each, oldest first."""
    rng = random.Random(seed)
    today = dt.date.today()
    run = time.time_ns()
    lines = []
    for i in range(n):
        p, v = divmod(i, VISITS_PER_PATIENT)
        lines.append(json.dumps({
            "visit_id": f"bulk-{run}-{i}", "disease": "rheumatoid_arthritis",
            "date": (today - dt.timedelta(days=30 * (VISITS_PER_PATIENT - v))).isoformat(),
            "patient": {"id": f"BULK-{run}-{p}", "sex": rng.choice(["female", "male"]),
                        "birth_year": rng.randint(1940, 2000), "diagnosed_on": "2010-01-01"},
            "measurements": {"tender_joint_count_28": rng.randint(0, 28), "swollen_joint_count_28": rng.randint(0, 20),
                             "esr": rng.randint(2, 90), "crp": round(rng.uniform(0.5, 80), 1),
                             "patient_global": rng.randint(0, 100), "rf_positive": rng.random() < 0.7},
        }))
    return ("\n".join(lines) + "\n").encode()


def bulk_rate(n: int) -> dict:
    """Visits per second of the import (file stored, every visit through the door, latest visits' jobs
    recorded), the time to score those latest visits in this process (the import is done only when they are),
    and a plain bulk INSERT of as many visit rows (the database's pace for this row shape)."""
    site = Site.objects.get_or_create(code="BENCH", defaults={"name": "Benchmark site", "country": "LU"})[0]
    data = bench_file(n)
    with transaction.atomic():
        client = EHRClient(site=site, name=f"bulk-{time.time_ns()}")
        client.token_issue()
        client.save()
        actor = Actor(client="bench")
        start = time.perf_counter()
        job = import_create(client=client, format=ImportFormat.VISITS, stream=io.BytesIO(data), actor=actor)
        job = import_run(import_claim(job.pk), actor=actor)
        elapsed = time.perf_counter() - start
        stored = job.stored
        latest = list(ScoringJob.objects.filter(status=JobStatus.PENDING, visit__patient__in=job.patients.values(
            "patient_id")).order_by("pk").values_list("pk", flat=True))
        start = time.perf_counter()
        scored = jobs_run_batches([latest[i:i + 200] for i in range(0, len(latest), 200)])
        scoring = time.perf_counter() - start
        job.data.storage.delete(job.data.name)
        patient = Patient.objects.create(site=site, sex="female", birth_year=1970)
        rows = [Visit(patient=patient, site=site, disease="rheumatoid_arthritis", visit_date=dt.date.today(),
                      measurements={"crp": 1.0 + i % 50, "esr": 10}, source="api") for i in range(n)]
        start = time.perf_counter()
        Visit.objects.bulk_create(rows, batch_size=1000)
        raw = time.perf_counter() - start
        transaction.set_rollback(True)
    return {"n": n, "stored": stored, "rate": stored / elapsed, "raw": n / raw, "latest": len(latest),
            "scored": scored, "scoring_s": scoring, "total_rate": stored / (elapsed + scoring)}
