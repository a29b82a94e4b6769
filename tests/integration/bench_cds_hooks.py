"""Latency of the CDS Hooks patient-view call, end to end through Django (JWT, jti insert, patient, cards).

Not a test (timings vary by machine); run it by hand against a throwaway test database:

    .venv/bin/python -m tests.integration.bench_cds_hooks            # SQLite
    HTTPS=0 DATABASE_URL=postgres://... .venv/bin/python -m tests.integration.bench_cds_hooks

It prints p50 and p95 for a stored recommendation and for prefetched observations scored on the fly.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinnova.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-" + "x" * 20)
django.setup()

from django.db import connection  # noqa: E402  (Django must be set up first)
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

ROUNDS = 200


def main() -> None:
    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        _run()
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


def _run() -> None:
    from clinnova.audit import Actor
    from patients.models import Site
    from patients.services import PatientInput, visit_ingest
    from recommendations.jobs import jobs_run_pending
    from tests.conftest import RA_VISIT, model_version_install
    from tests.integration.cds_helpers import call, cds_ehr_register, patient_view

    site = Site.objects.create(code="LU", name="Luxembourg", country="LU")
    model_version_install("rheumatoid_arthritis")
    visit_ingest(site=site, disease="rheumatoid_arthritis", visit_date=dt.date.today() - dt.timedelta(days=3),
                 measurements=dict(RA_VISIT), actor=Actor(client="bench"),
                 patient_input=PatientInput(system="urn:bench", value="LU-0001", sex="female", birth_year=1968))
    jobs_run_pending()
    ehr = cds_ehr_register(Path(tempfile.mkdtemp()))
    client = Client()
    newer = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    observations = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Observation", "status": "final", "effectiveDateTime": newer,
                      "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
                      "valueQuantity": {"value": 3.1, "unit": "mg/dL", "code": "mg/dL",
                                        "system": "http://unitsofmeasure.org"}}}]}
    for label, body in (("stored recommendation", patient_view("LU-0001")),
                        ("prefetch scored on the fly", patient_view("LU-0001",
                                                                    prefetch={"observations": observations}))):
        call(client, ehr, body)  # warm: model loaded, keys parsed
        times = []
        for _ in range(ROUNDS):
            token = ehr.token()  # signing is the client's cost, not ours
            start = time.perf_counter()
            response = call(client, ehr, body, token=token)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200 and response.json()["cards"], (response.status_code, response.content)
        times.sort()
        print(f"{label:28} n={ROUNDS} p50={statistics.median(times):.1f} ms "
              f"p95={times[int(0.95 * len(times)) - 1]:.1f} ms ({connection.vendor})")


if __name__ == "__main__":
    main()
