"""The scoring pipeline: batches whose writes overlap the next batch's build, and a worker that scores the
jobs queued behind its own. Every job ends scored once, failed with its reason, or pending for the sweep."""

import datetime as dt

import pytest
from django.db import OperationalError, connection
from django.db.models import Count

from clinnova.audit import Actor
from patients.services import PatientInput, visit_ingest
from recommendations import jobs, scoring
from recommendations.models import JobStatus, Recommendation, ScoringJob
from tests.conftest import RA_VISIT, model_version_install, services_missing

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def on_postgresql():
    if connection.vendor != "postgresql":
        services_missing("the overlapped writer runs on PostgreSQL only (DATABASE_URL=postgres://...)")
    model_version_install("rheumatoid_arthritis")


def pending_visits(site, n: int, prefix: str = "PL") -> list[int]:
    """n visits whose jobs are recorded but not sent; their job ids."""
    with jobs.dispatch_deferred():
        visits = [visit_ingest(site=site, disease="rheumatoid_arthritis", visit_date=dt.date.today(),
                               measurements=dict(RA_VISIT), actor=Actor(client="test"),
                               patient_input=PatientInput(system="urn:test", value=f"{prefix}-{i}", sex="female",
                                                          birth_year=1960 + i % 30))
                  for i in range(n)]
    return list(ScoringJob.objects.filter(visit__in=visits).order_by("pk").values_list("pk", flat=True))


def current_per_visit(job_ids) -> dict:
    visits = ScoringJob.objects.filter(pk__in=job_ids).values_list("visit", flat=True)
    return dict(Recommendation.objects.filter(visit__in=visits, superseded_at__isnull=True).values_list("visit")
                .annotate(n=Count("id")).values_list("visit", "n"))


def test_batches_written_while_the_next_is_built_score_every_visit_once(on_postgresql, site_lu):
    ids = pending_visits(site_lu, 25)
    assert jobs.jobs_run_batches([ids[i:i + 10] for i in range(0, 25, 10)]) == 25
    assert set(ScoringJob.objects.filter(pk__in=ids).values_list("status", flat=True)) == {JobStatus.DONE}
    counts = current_per_visit(ids)
    assert len(counts) == 25 and set(counts.values()) == {1}


def test_a_batch_that_cannot_be_built_fails_alone_with_its_reason(on_postgresql, site_lu, monkeypatch):
    ids = pending_visits(site_lu, 9)
    build = scoring.recommendations_build
    calls = []

    def second_breaks(batch):
        calls.append(batch)
        if len(calls) == 2:
            raise ValueError("model produced a non-finite probability")
        return build(batch)

    monkeypatch.setattr(scoring, "recommendations_build", second_breaks)
    assert jobs.jobs_run_batches([ids[0:3], ids[3:6], ids[6:9]]) == 6
    status = dict(ScoringJob.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [status[i] for i in ids[3:6]] == [JobStatus.FAILED] * 3
    assert all(status[i] == JobStatus.DONE for i in ids[:3] + ids[6:])
    assert "non-finite" in ScoringJob.objects.get(pk=ids[3]).reason
    assert len(current_per_visit(ids)) == 6


def test_a_database_error_while_writing_leaves_the_jobs_pending_for_the_sweep_and_nothing_half_written(
        on_postgresql, site_lu, monkeypatch):
    ids = pending_visits(site_lu, 9)
    store = scoring._store
    writes = []

    def second_loses_the_database(recs, items):
        writes.append(recs)
        store(recs, items)  # written, then the connection drops before the commit
        if len(writes) == 2:
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(scoring, "_store", second_loses_the_database)
    with pytest.raises(OperationalError):
        jobs.jobs_run_batches([ids[0:3], ids[3:6], ids[6:9]])
    status = dict(ScoringJob.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert all(status[i] == JobStatus.DONE for i in ids[:3])
    assert all(status[i] == JobStatus.PENDING for i in ids[3:])
    assert set(current_per_visit(ids)) == set(ScoringJob.objects.filter(pk__in=ids[:3]).values_list("visit", flat=True))
    later = ScoringJob.objects.get(pk=ids[-1]).created_at + jobs.STALE_PENDING * 2
    assert sorted(jobs.jobs_sweep(now=later, send=False)) == ids[3:]


def test_a_worker_handed_one_job_scores_the_jobs_queued_behind_it(site_lu, ra_model):
    ids = pending_visits(site_lu, 5)
    assert jobs.jobs_run_with_backlog(ids[2]) == 5
    assert set(ScoringJob.objects.filter(pk__in=ids).values_list("status", flat=True)) == {JobStatus.DONE}
    # The messages of the others then find nothing to claim: no visit is scored twice.
    assert all(jobs.jobs_run_with_backlog(i) == 0 for i in ids)
    assert set(current_per_visit(ids).values()) == {1}


def test_a_worker_leaves_jobs_that_used_their_attempts_to_the_sweep(site_lu, ra_model):
    ids = pending_visits(site_lu, 3)
    ScoringJob.objects.filter(pk=ids[0]).update(attempts=jobs.MAX_ATTEMPTS)
    assert jobs.jobs_run_with_backlog(ids[1]) == 2
    assert ScoringJob.objects.get(pk=ids[0]).status == JobStatus.PENDING
