"""The model card's federated-evaluation button at the hub: a job in the database, run by a worker, audited."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from clinnova.models import AuditEvent
from network import evaluation
from network.evaluation import EvaluationError, evaluation_claim, evaluation_request, evaluations_sweep
from network.models import FederatedRun, RunKind, RunStatus
from tests.conftest import model_version_install
from tests.trust.helpers import verified

BUTTON = "Evaluate this version on every site"


@pytest.fixture
def hub(settings):
    settings.CLINNOVA_ROLE = "hub"
    settings.CLINNOVA_SITE = ""
    settings.NETWORK_SUPERLINK = ""


@pytest.fixture
def version(db):
    return model_version_install("crohns_disease")


@pytest.fixture
def mia_browser(mia):
    browser = Client()
    verified(browser, mia)
    return browser


def start(browser, version):
    return browser.post(f"/network/models/{version.pk}/evaluate/", follow=True)


def test_the_model_admin_at_the_hub_asks_from_the_model_card_and_a_worker_runs_the_job(
        hub, mia, mia_browser, version, django_capture_on_commit_callbacks, monkeypatch):
    submitted = []
    monkeypatch.setattr("network.tasks.run_submit", lambda run, **kw: submitted.append((run.pk, run.flower_run_id, kw)))
    assert BUTTON in mia_browser.get(f"/models/{version.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        page = start(mia_browser, version)
    assert len(callbacks) == 1  # the job is sent only once the request's transaction commits
    run = FederatedRun.objects.get()
    assert (run.kind, run.model_version, run.requested_by, run.status) == (RunKind.EVALUATION, version, mia, "pending")
    # The worker claimed it (guarded) and submitted it to the SuperLink without waiting for the round.
    assert submitted == [(run.pk, evaluation.QUEUED, {"wait": 0})]
    assert f"Evaluation {run.pk} of version 1 is queued" in page.content.decode()
    event = AuditEvent.objects.get(action="federated_evaluation_request")
    assert event.actor_user == mia and event.object_id == str(run.pk) and event.detail["model_version"] == version.pk


def test_without_a_superlink_the_job_fails_and_the_card_says_why(hub, mia_browser, version,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        start(mia_browser, version)
    page = mia_browser.get(f"/models/{version.pk}/").content.decode()
    run = FederatedRun.objects.get()
    assert run.status == RunStatus.FAILED and "NETWORK_SUPERLINK is not set" in run.error
    assert "Failed: NETWORK_SUPERLINK is not set" in page
    assert BUTTON in page  # a failed run does not block the next request


def test_a_second_request_while_one_is_queued_or_running_is_refused_with_a_clear_message(hub, mia, mia_browser,
                                                                                         version):
    first = evaluation_request(version=version, actor=evaluation_actor(mia), submit=False)
    page = start(mia_browser, version).content.decode()
    assert f"No evaluation started: Evaluation {first.pk} of version 1 is still queued" in page
    assert BUTTON not in page and "is still queued; another can be asked for once it ends" in page
    FederatedRun.objects.filter(pk=first.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
    with pytest.raises(EvaluationError, match="is still running"):
        evaluation_request(version=version, actor=evaluation_actor(mia), submit=False)
    assert FederatedRun.objects.count() == 1
    assert AuditEvent.objects.filter(action="federated_evaluation_request").count() == 1
    # Once it ends, another may be asked for, and another version's evaluation was never blocked.
    FederatedRun.objects.filter(pk=first.pk).update(status=RunStatus.DONE, finished_at=timezone.now())
    evaluation_request(version=version, actor=evaluation_actor(mia), submit=False)
    evaluation_request(version=model_version_install("crohns_disease", status="validated", version=2),
                       actor=evaluation_actor(mia), submit=False)
    assert FederatedRun.objects.count() == 3


def test_a_candidate_version_can_be_evaluated_but_not_one_rejected(hub, mia_browser, db):
    candidate = model_version_install("crohns_disease", status="validated", version=2)
    start(mia_browser, candidate)
    assert FederatedRun.objects.filter(model_version=candidate).count() == 1
    rejected = model_version_install("crohns_disease", status="rejected", version=3)
    page = mia_browser.get(f"/models/{rejected.pk}/").content.decode()
    assert BUTTON not in page and "Only validated, active or retired versions can be evaluated" in page
    assert "cannot be evaluated" in start(mia_browser, rejected).content.decode()
    assert not FederatedRun.objects.filter(model_version=rejected).exists()


def test_only_a_model_admin_may_ask_and_only_by_post_with_its_csrf_token(hub, alice, mia, version):
    clinician = Client()
    clinician.force_login(alice)
    assert clinician.post(f"/network/models/{version.pk}/evaluate/").status_code == 403
    admin = Client(enforce_csrf_checks=True)
    verified(admin, mia)
    assert admin.get(f"/network/models/{version.pk}/evaluate/").status_code == 405
    assert admin.post(f"/network/models/{version.pk}/evaluate/").status_code == 403  # no CSRF token
    assert not FederatedRun.objects.exists()
    assert admin.post("/network/models/999999/evaluate/",
                      {"csrfmiddlewaretoken": csrf_of(admin, version)}).status_code == 404


def test_a_site_node_shows_no_button_and_refuses_the_request(settings, mia_browser, version):
    settings.CLINNOVA_ROLE, settings.CLINNOVA_SITE = "site", "LU"
    page = mia_browser.get(f"/models/{version.pk}/").content.decode()
    assert "Federated evaluation on the sites" in page and BUTTON not in page
    assert mia_browser.post(f"/network/models/{version.pk}/evaluate/").status_code == 403
    assert not FederatedRun.objects.exists()


def test_the_card_shows_a_running_job_and_the_sites_that_did_not_answer(hub, mia, mia_browser, version):
    run = evaluation_request(version=version, actor=evaluation_actor(mia), submit=False)
    assert ">queued</strong>" in mia_browser.get(f"/models/{version.pk}/").content.decode()
    FederatedRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
    assert ">running</strong>" in mia_browser.get(f"/models/{version.pk}/").content.decode()
    FederatedRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE, finished_at=timezone.now(), result={"strata": {}},
        sites={"LU": "answered", "FR": "answered", "DE": "refused: DE: not taking part",
               "CH": "no answer within 120 s (slow or stopped)"})
    page = mia_browser.get(f"/models/{version.pk}/").content.decode()
    assert ">done</strong>" in page and "Sites that did not answer" in page
    assert "DE: refused: DE: not taking part" in page and "CH: no answer within 120 s" in page
    assert "LU: answered" not in page


def test_two_workers_never_submit_one_run_twice(hub, mia, version):
    run = evaluation_request(version=version, actor=evaluation_actor(mia), submit=False)
    assert evaluation_claim(run.pk).flower_run_id == evaluation.QUEUED
    assert evaluation_claim(run.pk) is None


def test_the_sweep_resends_lost_jobs_and_fails_runs_the_server_lost(hub, mia, version, settings, monkeypatch):
    sent = []
    monkeypatch.setattr(evaluation, "evaluation_send", sent.append)
    now = timezone.now()
    old = now - dt.timedelta(hours=1)
    other = model_version_install("crohns_disease", status="validated", version=2)
    third = model_version_install("crohns_disease", status="retired", version=3)
    fourth = model_version_install("crohns_disease", status="validated", version=4)
    unsent = evaluation_request(version=version, actor=evaluation_actor(mia), submit=False)  # broker was down
    lost = evaluation_request(version=other, actor=evaluation_actor(mia), submit=False)  # worker died in `flwr run`
    submitted = evaluation_request(version=third, actor=evaluation_actor(mia), submit=False)  # SuperLink lost it
    running = evaluation_request(version=fourth, actor=evaluation_actor(mia), submit=False)  # ServerApp died
    FederatedRun.objects.update(created_at=old)
    FederatedRun.objects.filter(pk=lost.pk).update(flower_run_id=evaluation.QUEUED, started_at=old)
    FederatedRun.objects.filter(pk=submitted.pk).update(flower_run_id="4242", started_at=old)
    FederatedRun.objects.filter(pk=running.pk).update(status=RunStatus.RUNNING, flower_run_id="4343", started_at=old)
    # A fresh request is left alone: its message may still be on the way.
    fresh = evaluation_request(version=model_version_install("crohns_disease", status="validated", version=5),
                               actor=evaluation_actor(mia), submit=False)
    swept = evaluations_sweep(now=now)
    assert sorted(swept["resent"]) == sorted([unsent.pk, lost.pk]) and sorted(sent) == sorted(swept["resent"])
    assert sorted(swept["failed"]) == sorted([submitted.pk, running.pk])
    assert "never started it" in FederatedRun.objects.get(pk=submitted.pk).error
    assert "ServerApp stopped" in FederatedRun.objects.get(pk=running.pk).error
    assert FederatedRun.objects.get(pk=fresh.pk).status == RunStatus.PENDING
    lost.refresh_from_db()
    assert lost.status == RunStatus.PENDING and lost.flower_run_id == "" and lost.config["submissions_lost"] == 1
    # A submission lost again and again ends failed rather than loop.
    for _ in range(evaluation.MAX_SUBMISSIONS - 1):
        FederatedRun.objects.filter(pk=lost.pk).update(flower_run_id=evaluation.QUEUED, started_at=old)
        evaluations_sweep(now=now)
    lost.refresh_from_db()
    assert lost.status == RunStatus.FAILED and "lost 3 times" in lost.error


def evaluation_actor(user):
    from clinnova.audit import Actor

    return Actor(user=user)


def csrf_of(browser, version):
    browser.get(f"/models/{version.pk}/")
    return browser.cookies["csrftoken"].value
