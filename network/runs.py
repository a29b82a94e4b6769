"""The hub's side of a federated run: ask every connected site, log each message, combine what came back.

A site that is down, slow or refusing does not hold the others up: the round waits at most
NETWORK_ROUND_TIMEOUT seconds, then completes with the sites that answered and records, per site, why the
others did not.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from flwr.app import Message
from flwr.serverapp import Grid

from network.disclosure import MIN_CELL
from network.distribution import distribution_combine
from network.evaluation import evaluation_combine
from network.flower.records import (
    DISTRIBUTE,
    EVALUATE,
    MONITOR,
    REFUSED,
    message_shape,
    message_size,
    reply_payload,
    request_content,
)
from network.models import ANSWERED, Direction, FederatedRun, MessageLog, RunKind, RunStatus
from network.monitoring import monitoring_combine, network_snapshot_store

log = logging.getLogger(__name__)


def _request(run: FederatedRun) -> tuple[str, dict]:
    if run.kind in (RunKind.EVALUATION, RunKind.DISTRIBUTION):
        package = bytes(type(run.model_version).objects.values_list("package", flat=True).get(pk=run.model_version_id))
    if run.kind == RunKind.DISTRIBUTION:
        return DISTRIBUTE, {"package": package, "disease": run.model_version.disease,
                            "version": run.model_version.version}
    if run.kind == RunKind.EVALUATION:
        return EVALUATE, {"package": package, "disease": run.model_version.disease,
                          "version": run.model_version.version, "sha256": run.model_version.sha256,
                          "min_cell": MIN_CELL}
    return MONITOR, {"min_cell": MIN_CELL}


def _site_of_error(reason: str) -> str:
    code = (reason or "").split(":", 1)[0].strip()
    return code if code in settings.CLINNOVA_NETWORK_SITES else ""


def run_execute(*, run: FederatedRun, grid: Grid) -> FederatedRun:
    """Carry out the run over the grid; the run row ends DONE (with results) or FAILED (with the reason)."""
    # A training run is claimed only while pending: a second submission of it (a re-sent job) does nothing.
    claimable = [RunStatus.PENDING] if run.kind == RunKind.TRAINING else [RunStatus.PENDING, RunStatus.RUNNING]
    claimed = FederatedRun.objects.filter(pk=run.pk, status__in=claimable).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), flower_run_id=str(grid.run.run_id))
    if claimed != 1:
        return run
    run.refresh_from_db()
    if run.kind == RunKind.TRAINING:
        return _train(run, grid)
    try:
        message_type, request = _request(run)
        nodes = list(grid.get_node_ids())
        outgoing = [Message(request_content(**request), dst_node_id=node, message_type=message_type) for node in nodes]
        for message in outgoing:
            MessageLog.objects.create(run=run, direction=Direction.TO_SITE, node_id=str(message.metadata.dst_node_id),
                                      message_type=message_type, shape=message_shape(message),
                                      size_bytes=message_size(message))
        replies = list(grid.send_and_receive(outgoing, timeout=settings.NETWORK_ROUND_TIMEOUT))
        payloads, sites = {}, {}
        for reply in replies:
            node = str(reply.metadata.src_node_id)
            if reply.has_error():
                site = _site_of_error(reply.error.reason)
                kind = "refused" if reply.error.code == REFUSED else "failed"
                sites[site or f"node {node}"] = f"{kind}: {reply.error.reason}"
                MessageLog.objects.create(run=run, direction=Direction.FROM_SITE, site_code=site, node_id=node,
                                          message_type=message_type, shape={}, size_bytes=message_size(reply),
                                          error=reply.error.reason or "")
                continue
            payload = reply_payload(reply)
            site = payload.get("site", "")
            payloads[site] = payload
            sites[site] = ANSWERED
            MessageLog.objects.create(run=run, direction=Direction.FROM_SITE, site_code=site, node_id=node,
                                      message_type=message_type, shape=message_shape(reply),
                                      size_bytes=message_size(reply), content=payload)
        silent = len(nodes) - len(replies)
        for code in settings.CLINNOVA_NETWORK_SITES:
            if code not in sites:
                sites[code] = (f"no answer within {settings.NETWORK_ROUND_TIMEOUT} s (slow or stopped)" if silent
                               else "not connected")
        result = _combine(run, payloads)
        with transaction.atomic():
            FederatedRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE, finished_at=timezone.now(),
                                                          sites=sites, result=result)
    except Exception as exc:
        log.exception("federated run %s failed", run.pk)
        FederatedRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, finished_at=timezone.now(),
                                                      error=f"{type(exc).__name__}: {exc}"[:2000])
    run.refresh_from_db()
    return run


def _train(run: FederatedRun, grid: Grid) -> FederatedRun:
    """Train, then register the booster as a model version; the row ends DONE naming it, or FAILED/CANCELLED
    with no booster and no version (nothing half-registered)."""
    from network.training_package import training_run_register  # noqa: PLC0415 (xgboost when training)
    from network.training_runs import TrainingStopped, training_execute  # noqa: PLC0415

    try:
        result = training_execute(run=run, grid=grid)
        # The last chance to cancel: once registration starts, the version is recorded whole or not at all.
        if not FederatedRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(result=result):
            raise TrainingStopped("cancelled after the last round, before registration")
        run.refresh_from_db()
        version = training_run_register(run)
        if version.status != "validated":
            raise RuntimeError(f"the package was rejected by validation: {version.rejection_reason}")
        FederatedRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE, finished_at=timezone.now(),
                                                      model_version=version)
    except TrainingStopped as exc:
        cancelled = FederatedRun.objects.filter(pk=run.pk, status=RunStatus.CANCELLED).exists()
        FederatedRun.objects.filter(pk=run.pk).update(
            status=RunStatus.CANCELLED if cancelled else RunStatus.FAILED, finished_at=timezone.now(),
            error=str(exc)[:2000], booster=b"")
    except Exception as exc:
        log.exception("federated training run %s failed", run.pk)
        FederatedRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, finished_at=timezone.now(),
                                                      error=f"{type(exc).__name__}: {exc}"[:2000], booster=b"")
    run.refresh_from_db()
    return run


def _combine(run: FederatedRun, payloads: dict[str, dict]) -> dict:
    if run.kind == RunKind.DISTRIBUTION:
        return distribution_combine(payloads)
    if run.kind == RunKind.EVALUATION:
        return evaluation_combine(payloads)
    summary = monitoring_combine(payloads)
    network_snapshot_store(summary)
    return {"months": len(summary.get("models", {}))}
