"""Federated training as a job of the hub's model pages, and a site's answer to a model the hub offers.

The engine itself is exercised by the slow tests; here the pages, the job's states and the site's decisions.
"""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from clinnova.audit import Actor
from clinnova.models import AuditEvent
from network.distribution import DistributionError, offer_accept, offer_receive, offer_refuse
from network.models import FederatedRun, ModelOffer, OfferPolicy, RunKind, RunStatus
from network.site import participation
from network.training_requests import QUEUED, TrainingRequestError, training_request, trainings_sweep
from recommendations.models import ModelStatus, ModelVersion
from tests.conftest import model_version_install, package_copy, pretrained_bytes
from tests.trust.helpers import verified


@pytest.fixture
def hub(settings):
    settings.CLINNOVA_ROLE = "hub"
    settings.NETWORK_SUPERLINK = ""


def test_the_model_list_button_records_an_audited_training_job_with_csrf(hub, mia, django_capture_on_commit_callbacks):
    browser = Client(enforce_csrf_checks=True)
    verified(browser, mia)
    page = browser.get("/models/")
    assert b"Train Crohn&#x27;s disease federated" in page.content
    assert browser.post("/network/training/start/", {"disease": "crohns_disease"}).status_code == 403  # no token
    token = page.cookies["csrftoken"].value
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/network/training/start/", {"disease": "crohns_disease",
                                                             "csrfmiddlewaretoken": token})
    run = FederatedRun.objects.get(kind=RunKind.TRAINING)
    assert response.status_code == 302 and response.url == f"/network/training/{run.pk}/"
    assert AuditEvent.objects.filter(action="federated_training_request", object_id=str(run.pk), actor_user=mia).exists()
    # Without a SuperLink the job says so on the run, and nothing is registered.
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "NETWORK_SUPERLINK" in run.error
    assert not ModelVersion.objects.exists()
    detail = browser.get(f"/network/training/{run.pk}/")
    assert b"NETWORK_SUPERLINK" in detail.content and b"synthetic" in detail.content.lower()


def test_a_model_admin_cancels_a_run_and_nothing_is_registered(hub, client, mia):
    verified(client, mia)
    run = training_request(disease="crohns_disease", actor=Actor(user=mia), submit=False)
    assert run.config["weighted"] is True  # steps weighted by site share unless asked otherwise
    assert b"Cancel this run" in client.get(f"/network/training/{run.pk}/").content
    client.post(f"/network/training/{run.pk}/cancel/")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.model_version is None
    assert AuditEvent.objects.filter(action="federated_training_cancel", object_id=str(run.pk)).exists()
    # A cancelled run is never claimed by the ServerApp: a second training of the disease may start.
    assert training_request(disease="crohns_disease", actor=Actor(user=mia), submit=False).pk != run.pk


def test_it_refuses_a_second_run_of_a_disease_and_names_bad_fields(hub, mia):
    training_request(disease="crohns_disease", actor=Actor(user=mia), submit=False)
    with pytest.raises(TrainingRequestError, match="still pending"):
        training_request(disease="crohns_disease", actor=Actor(user=mia), submit=False)
    with pytest.raises(TrainingRequestError, match="disease: must be one of"):
        training_request(disease="gout", actor=Actor(user=mia), submit=False)
    with pytest.raises(TrainingRequestError, match="rounds"):
        training_request(disease="ulcerative_colitis", actor=Actor(user=mia), rounds=0, submit=False)


def test_the_sweep_resubmits_a_lost_job_and_fails_a_silent_server_app(hub, mia):
    lost = training_request(disease="crohns_disease", actor=Actor(user=mia), submit=False)
    FederatedRun.objects.filter(pk=lost.pk).update(flower_run_id=QUEUED,
                                                   created_at=timezone.now() - dt.timedelta(hours=1))
    silent = training_request(disease="multiple_sclerosis", actor=Actor(user=mia), submit=False)
    FederatedRun.objects.filter(pk=silent.pk).update(status=RunStatus.RUNNING,
                                                     started_at=timezone.now() - dt.timedelta(hours=1))
    swept = trainings_sweep()
    assert swept["resent"] == [lost.pk] and swept["failed"] == [silent.pk]
    silent.refresh_from_db()
    assert silent.status == RunStatus.FAILED and "ServerApp stopped" in silent.error and silent.model_version is None


_OFFERED = {}


def offered(version_number=2):
    # One package per number: a copy written a second later has other bytes (zip timestamps).
    if version_number not in _OFFERED:
        _OFFERED[version_number] = package_copy(pretrained_bytes("crohns_disease"), x_copy=version_number)
    return _OFFERED[version_number]


def test_a_site_set_to_review_holds_an_offer_until_its_admin_accepts_it(db, mia):
    model_version_install("crohns_disease")
    reply = offer_receive(package=offered(), disease="crohns_disease", hub_version=2, site_code="LU")
    assert reply == {"site": "LU", "status": "offered", "reason": "", "local_version": None, "decided_at": None}
    offer = ModelOffer.objects.get()
    offer = offer_accept(offer=offer, actor=Actor(user=mia), reason="the network's model, checked by the site")
    local = ModelVersion.objects.get(sha256=offer.sha256)
    assert local.version == 2 and local.status == ModelStatus.ACTIVE, local.rejection_reason
    assert offer.local_version == local
    assert ModelVersion.objects.get(disease="crohns_disease", version=1).status == ModelStatus.RETIRED
    assert AuditEvent.objects.filter(action="model_activate", object_id=str(local.pk)).exists()
    # The hub learns the decision at its next offer.
    again = offer_receive(package=offered(), disease="crohns_disease", hub_version=2, site_code="LU")
    assert again["status"] == "accepted" and again["local_version"] == 2


def test_a_site_refuses_an_offer_with_a_reason_and_keeps_its_active_version(db, mia):
    active = model_version_install("crohns_disease")
    offer_receive(package=offered(), disease="crohns_disease", hub_version=2, site_code="FR")
    offer = ModelOffer.objects.get()
    with pytest.raises(DistributionError, match="say why"):
        offer_refuse(offer=offer, actor=Actor(user=mia), reason=" ")
    offer_refuse(offer=offer, actor=Actor(user=mia), reason="awaiting our ethics committee")
    reply = offer_receive(package=offered(), disease="crohns_disease", hub_version=2, site_code="FR")
    assert reply["status"] == "refused" and reply["reason"] == "awaiting our ethics committee"
    active.refresh_from_db()
    assert active.status == ModelStatus.ACTIVE and ModelVersion.objects.count() == 1


def test_a_site_set_to_accept_refuses_what_its_own_validation_rejects(db):
    switch = participation()
    switch.model_offers = OfferPolicy.ACCEPT
    switch.save()
    model_version_install("crohns_disease", version=2)  # the hub's number is taken here by another package
    reply = offer_receive(package=offered(3), disease="crohns_disease", hub_version=2, site_code="DE")
    assert reply["status"] == "refused" and "already taken" in reply["reason"]


def test_the_offers_page_is_the_site_admins(client, mia):
    verified(client, mia)
    offer_receive(package=offered(), disease="crohns_disease", hub_version=2, site_code="LU")
    page = client.get("/network/offers/")
    assert b"Crohn" in page.content and b"Accept and activate" in page.content
    response = client.post(f"/network/offers/{ModelOffer.objects.get().pk}/decide/", {"decision": "refuse", "reason": ""})
    assert response.status_code == 400 and b"say why" in response.content
    client.post("/network/offers/policy/", {"model_offers": "refuse"})
    assert participation().model_offers == "refuse"
    assert AuditEvent.objects.filter(action="model_offer_policy").exists()


def test_only_the_hubs_active_version_is_offered_to_the_sites(hub, client, mia, django_capture_on_commit_callbacks):
    verified(client, mia)
    candidate = model_version_install("crohns_disease", status="validated")
    client.post(f"/network/distribute/{candidate.pk}/")
    assert not FederatedRun.objects.filter(kind=RunKind.DISTRIBUTION).exists()
    active = model_version_install("crohns_disease", version=2)
    assert b"Offer this version to the site nodes" in client.get(f"/models/{active.pk}/").content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/network/distribute/{active.pk}/")
    run = FederatedRun.objects.get(kind=RunKind.DISTRIBUTION)
    assert run.model_version == active and run.status == RunStatus.FAILED and "NETWORK_SUPERLINK" in run.error
    assert AuditEvent.objects.filter(action="model_distribute", object_id=str(run.pk)).exists()
