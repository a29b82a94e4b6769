"""A recommendation polled while it is being stored is read as one: never "ready" without its drugs."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from patients.models import Visit
from recommendations.jobs import jobs_run_pending
from recommendations.selectors import recommendation_payload
from tests.conftest import model_version_install, services_missing
from tests.integration.fhir_helpers import post_bundle, ra_bundle


@pytest.mark.django_db(transaction=True)
def test_a_reader_polling_while_scoring_commits_never_sees_ready_without_drugs(client, ehr_lu, monkeypatch):
    if connection.vendor == "sqlite":
        services_missing("a concurrent reader needs PostgreSQL")
    model_version_install("rheumatoid_arthritis")
    ehr, token = ehr_lu
    # The broker's worker is this test: the job waits until the reader is between its queries.
    monkeypatch.setattr("recommendations.jobs.job_send", lambda job_id: None)
    assert post_bundle(client, token, ra_bundle(ehr.identifier_system)).status_code == 200
    visit = Visit.objects.get()
    read_recommendation, scored = threading.Event(), threading.Event()
    answers = []

    def pause_after_the_recommendation_is_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if 'FROM "recommendations_recommendation"' in sql and not read_recommendation.is_set():
            # The writer commits the recommendation, its items and its job's "done" between this read and the next.
            read_recommendation.set()
            assert scored.wait(30)
        return result

    def reader():
        try:
            with connections["default"].execute_wrapper(pause_after_the_recommendation_is_read):
                answers.append(recommendation_payload(Visit.objects.get(pk=visit.pk)))
        finally:
            read_recommendation.set()
            connections.close_all()

    thread = threading.Thread(target=reader)
    thread.start()
    assert read_recommendation.wait(30)
    assert jobs_run_pending() == 1  # the recommendation commits while the reader is between its queries
    scored.set()
    thread.join(30)
    [seen] = answers
    assert not (seen["status"] == "ready" and not seen.get("drugs")), seen
    assert seen["status"] == "pending"  # the reader's one snapshot was taken before the commit
    after = recommendation_payload(visit)
    assert after["status"] == "ready" and after["drugs"]
