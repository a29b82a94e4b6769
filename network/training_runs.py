"""The hub's side of federated training: rounds over the grid, every message logged, sites that drop out.

Called by run_execute for a TRAINING run. Each round sends the global model to every connected site (those
not training this round only report their validation loss) and combines the trees that come back. A site
that fails or stays silent is dropped and named in FederatedRun.sites; with fewer than MIN_SITES left the
run stops with a clear message. A run whose row is set to CANCELLED stops at the next round. The run ends
with the best global model stored on the row; nothing is registered here.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.utils import timezone
from flwr.app import Message
from flwr.serverapp import Grid

from network.flower.records import (
    CALIBRATE,
    TRAIN,
    message_shape,
    message_size,
    reply_payload,
    request_content,
    training_reply,
)
from network.models import ANSWERED, Direction, FederatedRun, MessageLog, RunStatus
from network.training import MIN_SITE_ROWS, Progress, global_combine, network_loss, round_sites, site_weights
from network.training_calibration import MAX_STEPS, TOLERANCE, recalibration_final, recalibration_step
from network.training_compare import PATIENCE
from patients.drugs import candidates_for


def _site_of_error(reason: str) -> str:
    # A site's refusal starts with its code ("CH: 20 training rows, …"); only a configured code is believed.
    code = (reason or "").split(":", 1)[0].strip()
    return code if code in settings.CLINNOVA_NETWORK_SITES else ""

MIN_SITES = 2


class TrainingStopped(RuntimeError):
    pass


def _log_reply(run: FederatedRun, reply: Message, node: str, payload: dict | None, *,
               message_type: str = TRAIN) -> None:
    content = payload
    if payload is not None and "trees" in payload:
        # The trees are kept as received (XGBoost JSON) so that anyone can check what left the site.
        content = {**{k: v for k, v in payload.items() if k != "trees"},
                   "trees": json.loads(payload["trees"]) if payload["trees"] else None}
    site = (payload or {}).get("site") or ("" if payload else _site_of_error(reply.error.reason))
    MessageLog.objects.create(run=run, direction=Direction.FROM_SITE, site_code=site,
                              node_id=node, message_type=message_type, shape=message_shape(reply) if payload else {},
                              size_bytes=message_size(reply), content=content,
                              error="" if payload is not None else (reply.error.reason or ""))


def training_execute(*, run: FederatedRun, grid: Grid) -> dict:
    """Train over the grid; returns the run's result and stores the best booster on the row."""
    cfg = run.config
    strategy, seed = cfg["strategy"], int(cfg["seed"])
    nodes = sorted(grid.get_node_ids())
    node_site: dict[int, str] = {}
    sites: dict[str, str] = {}
    progress = Progress(patience=int(cfg.get("patience") or PATIENCE))
    model, bytes_to, bytes_from, rounds = b"", 0, 0, 0
    max_rounds = int(cfg["rounds"])
    # Weighted bagging first asks every site for its count: a round in which nobody trains, not one of `rounds`.
    weighted, counts = bool(cfg.get("weighted")), {}
    extra = 1 if weighted else 0
    for r in range(1, max_rounds + 2 + extra):
        if FederatedRun.objects.filter(pk=run.pk, status=RunStatus.CANCELLED).exists():
            raise TrainingStopped(f"cancelled before round {max(1, r - extra)}")
        if len(nodes) < MIN_SITES:
            named = ", ".join(f"{k}: {v}" for k, v in sorted(sites.items()))
            raise TrainingStopped(f"{len(nodes)} site(s) left in round {max(1, r - extra)}, fewer than the "
                                  f"{MIN_SITES} a federated model needs; {named}")
        final = r == max_rounds + 1 + extra
        counting = weighted and not counts
        # What a drop-out message names: training rounds count from 1 after the count round.
        when = "the count round" if counting else f"round {r - extra}"
        trainers = (set() if final or counting
                    else set(round_sites(strategy=strategy, sites=nodes, round_number=r - extra)))
        weights = site_weights({n: counts[n] for n in nodes if n in counts}) if weighted else {}
        outgoing = []
        for node in nodes:
            request = request_content(model=model, disease=cfg["disease"], strategy=strategy, seed=seed,
                                      round_seed=seed + r - extra, n_patients=int(cfg.get("n_patients", 0)),
                                      data=str(cfg.get("data", "nodes")), run=str(run.pk),
                                      weight=float(weights.get(node, 1.0)), train=node in trainers,
                                      count=counting, min_rows=int(cfg.get("min_rows", MIN_SITE_ROWS)))
            message = Message(request, dst_node_id=node, message_type=TRAIN)
            size = message_size(message)
            bytes_to += size
            MessageLog.objects.create(run=run, direction=Direction.TO_SITE, node_id=str(node), message_type=TRAIN,
                                      shape=message_shape(message), size_bytes=size)
            outgoing.append(message)
        replies = list(grid.send_and_receive(outgoing, timeout=settings.NETWORK_ROUND_TIMEOUT))
        # The SuperLink answers for a node that went away (its error names the SuperLink as sender): such a reply
        # is matched to its node by the message it answers.
        asked = {key: message.metadata.dst_node_id for message in outgoing
                 for key in (message.metadata.message_id, message.object_id) if key}
        answered, payloads = set(), []
        for reply in replies:
            node = reply.metadata.src_node_id
            if node not in nodes:
                node = asked.get(reply.metadata.reply_to_message_id, node)
            answered.add(node)
            bytes_from += message_size(reply)
            if reply.has_error():
                _log_reply(run, reply, str(node), None)
                site = node_site.get(node) or _site_of_error(reply.error.reason) or f"node {node}"
                sites[site] = f"dropped in {when}: {reply.error.reason}"
                if node in nodes:
                    nodes.remove(node)
                continue
            payload = training_reply(reply)
            counts[node] = int(payload["n_train"])
            node_site[node] = payload["site"]
            sites[payload["site"]] = ANSWERED
            _log_reply(run, reply, str(node), payload)
            payloads.append(payload)
        for node in [n for n in nodes if n not in answered]:
            sites[node_site.get(node, f"node {node}")] = (f"dropped in {when}: no answer within "
                                                          f"{settings.NETWORK_ROUND_TIMEOUT} s")
            nodes.remove(node)
        if counting:
            continue  # the starting model's loss is recorded with the first training round
        stop = progress.record(round_number=r - 1 - extra, model_before=model, loss=network_loss(payloads))
        FederatedRun.objects.filter(pk=run.pk).update(sites=sites, result={
            "round": r - extra, "of": max_rounds, "loss": network_loss(payloads), "best_round": progress.best_round,
            "bytes": bytes_to + bytes_from})
        if stop or final:
            break
        # Cyclic: the trainer that dropped out grew nothing this round, and the model stays as it was.
        model = global_combine(model=model, replies=[p for p in payloads if p.get("trees")], strategy=strategy)
        rounds = r - extra
    for code in settings.CLINNOVA_NETWORK_SITES:
        sites.setdefault(code, "not connected")
    if not progress.best_model:
        raise TrainingStopped("no round improved on the starting model: nothing to package")
    calibrated = _calibrate(run=run, grid=grid, nodes=nodes, model=progress.best_model, node_site=node_site,
                            sites=sites)
    FederatedRun.objects.filter(pk=run.pk).update(booster=progress.best_model, sites=sites)
    return {"rounds": progress.best_round, "rounds_run": rounds, "validation_logloss": round(progress.best_loss, 5),
            "recalibration": calibrated["recalibration"], "recalibration_steps": calibrated["steps"],
            "bytes_to_sites": bytes_to + calibrated["bytes_to"], "bytes_from_sites": bytes_from + calibrated["bytes_from"],
            "finished": timezone.now().isoformat()}


def _calibrate(*, run: FederatedRun, grid: Grid, nodes: list[int], model: bytes, node_site: dict, sites: dict) -> dict:
    """Newton steps of the per-drug recalibration on the sites' summed sums (network.training_calibration), each
    step one exchange logged like a round. A site that fails here is named and left out of the later steps; the
    model is then recalibrated from the others' sums, or not at all when none answered."""
    cfg = run.config
    drugs = [d.atc for d in candidates_for(cfg["disease"])]
    block, steps, bytes_to, bytes_from = None, 0, 0, 0
    for steps in range(1, MAX_STEPS + 1):
        if FederatedRun.objects.filter(pk=run.pk, status=RunStatus.CANCELLED).exists():
            raise TrainingStopped(f"cancelled in recalibration step {steps}")
        outgoing = []
        for node in nodes:
            request = request_content(model=model, disease=cfg["disease"], seed=int(cfg["seed"]),
                                      n_patients=int(cfg.get("n_patients", 0)), data=str(cfg.get("data", "nodes")),
                                      run=str(run.pk), recalibration=json.dumps(block))
            message = Message(request, dst_node_id=node, message_type=CALIBRATE)
            size = message_size(message)
            bytes_to += size
            MessageLog.objects.create(run=run, direction=Direction.TO_SITE, node_id=str(node),
                                      message_type=CALIBRATE, shape=message_shape(message), size_bytes=size)
            outgoing.append(message)
        payloads = []
        for reply in grid.send_and_receive(outgoing, timeout=settings.NETWORK_ROUND_TIMEOUT):
            node = reply.metadata.src_node_id
            bytes_from += message_size(reply)
            if reply.has_error():
                _log_reply(run, reply, str(node), None, message_type=CALIBRATE)
                site = node_site.get(node) or _site_of_error(reply.error.reason) or f"node {node}"
                sites[site] = f"left out of recalibration step {steps}: {reply.error.reason}"
                if node in nodes:
                    nodes.remove(node)
                continue
            payload = reply_payload(reply)
            _log_reply(run, reply, str(node), payload, message_type=CALIBRATE)
            payloads.append(payload)
        if not payloads:
            return {"recalibration": None, "steps": steps, "bytes_to": bytes_to, "bytes_from": bytes_from}
        block, moved = recalibration_step(replies=payloads, recalibration=block)
        if moved < TOLERANCE:
            break
    return {"recalibration": recalibration_final(block, drugs, payloads), "steps": steps, "bytes_to": bytes_to,
            "bytes_from": bytes_from}
