"""The network's Celery tasks: thin, each loads by id or role and calls a service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from network.engine import SubmitError, run_submit
from network.evaluation import evaluation_claim, evaluations_sweep
from network.models import FederatedRun, RunKind, RunStatus
from network.monitoring import site_snapshot_store
from recommendations.outcomes import outcomes_derive


@shared_task(time_limit=900, soft_time_limit=840)
def monitoring_refresh() -> None:
    """The beat job: a site derives its outcomes and stores its summary; the hub asks the sites for theirs."""
    if settings.CLINNOVA_ROLE == "site":
        outcomes_derive(site_code=settings.CLINNOVA_SITE or None)
        site_snapshot_store(site_code=settings.CLINNOVA_SITE)
        return
    if settings.NETWORK_SUPERLINK:
        federated_run.delay(FederatedRun.objects.create(kind=RunKind.MONITORING).pk)


@shared_task(time_limit=300, soft_time_limit=270)
def federated_evaluation(run_id: int) -> None:
    """Submit an evaluation the model card asked for; the hub's ServerApp carries it out and stores the result."""
    run = evaluation_claim(run_id)
    if run is None:
        return  # already submitted, finished, or claimed by another worker
    _submit(run, wait=0)


@shared_task
def sweep_federated_evaluations() -> None:
    evaluations_sweep()


@shared_task(time_limit=900, soft_time_limit=840)
def federated_run(run_id: int) -> None:
    run = FederatedRun.objects.filter(pk=run_id, status=RunStatus.PENDING).first()
    if run is None:
        return  # already carried out, or claimed by another worker
    _submit(run)


@shared_task(time_limit=300, soft_time_limit=270)
def federated_training(run_id: int) -> None:
    """Submit a training run to the SuperLink; the hub's ServerApp carries it out and registers the version."""
    from network.training_requests import training_claim  # noqa: PLC0415

    run = training_claim(run_id)
    if run is None:
        return  # cancelled, already submitted, or claimed by another worker
    _submit(run, wait=0)


@shared_task
def sweep_federated_training() -> None:
    from network.training_requests import trainings_sweep  # noqa: PLC0415

    trainings_sweep()


def _submit(run, **kwargs) -> None:
    try:
        run_submit(run, **kwargs)
    except SubmitError:
        pass  # the run row holds the reason
