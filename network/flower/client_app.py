"""A site's Flower client: answers the hub's requests by calling the site-side functions of network.site.

Loaded by network/flowerapp (which sets Django up first). Refuses (Flower error 403) while the site's own admin has switched participation off; any failure is
answered as an error naming its kind, never with data.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import close_old_connections
from flwr.app import Context, Error, Message
from flwr.clientapp import ClientApp

from network.flower.records import FAILED, REFUSED, reply_content, training_reply_content
from network.monitoring import site_monitoring
from network.site import participation, site_evaluate
from network.training import TrainingError

log = logging.getLogger(__name__)
app = ClientApp()


def _answer(message: Message, work, *, content=reply_content) -> Message:
    close_old_connections()
    switch = participation()
    if not switch.taking_part:
        return Message(Error(code=REFUSED, reason=f"{settings.CLINNOVA_SITE}: not taking part"
                                                  + (f" ({switch.reason})" if switch.reason else "")),
                       reply_to=message)
    try:
        return Message(content(work(message.content["request"])),
                       reply_to=message)
    except Exception as exc:  # the hub learns the kind of failure, never a value
        log.exception("site request failed")
        # A refusal of ours (too few rows for a round) names its counts; any other failure only its kind.
        reason = str(exc) if isinstance(exc, TrainingError) else f"{settings.CLINNOVA_SITE}: {type(exc).__name__}"
        return Message(Error(code=FAILED, reason=reason), reply_to=message)


@app.query("evaluate")
def evaluate(message: Message, context: Context) -> Message:
    return _answer(message, lambda req: site_evaluate(package=bytes(req["package"]), site_code=settings.CLINNOVA_SITE,
                                                      min_cell=int(req["min_cell"])))


@app.query("monitor")
def monitor(message: Message, context: Context) -> Message:
    return _answer(message, lambda req: site_monitoring(site_code=settings.CLINNOVA_SITE,
                                                        min_cell=int(req["min_cell"])))


@app.query("distribute")
def distribute(message: Message, context: Context) -> Message:
    """The hub offers its active version: recorded, and decided by this site's own setting or admin."""
    from network.distribution import offer_receive  # noqa: PLC0415

    return _answer(message, lambda req: offer_receive(package=bytes(req["package"]), disease=str(req["disease"]),
                                                      hub_version=int(req["version"]),
                                                      site_code=settings.CLINNOVA_SITE))


@app.train("xgb")
def train(message: Message, context: Context) -> Message:
    """One round of federated training: this site's trees grown on the global model, and its validation loss.

    The rows are this node's own decided visits with their outcomes (network.training_data); a run measuring
    against pooled training ("data": "cohort") uses the node's share of the seeded synthetic cohort instead.
    """
    from network.training import site_train_round  # noqa: PLC0415 (xgboost only when a round asks for it)
    from network.training_data import min_site_rows

    def work(req):
        data = _run_data(req)
        return site_train_round(model=bytes(req["model"]), data=data, strategy=str(req["strategy"]),
                                seed=int(req["round_seed"]), train=bool(req["train"]),
                                min_rows=min_site_rows(int(req["min_rows"])), weight=float(req.get("weight", 1.0)),
                                count=bool(req.get("count", False)))
    return _answer(message, work, content=training_reply_content)


@app.query("calibrate")
def calibrate(message: Message, context: Context) -> Message:
    """After the last round: this site's per-drug recalibration sums of the chosen model on its validation rows."""
    import json  # noqa: PLC0415

    from network.training_calibration import site_recalibration_sums  # noqa: PLC0415

    return _answer(message, lambda req: site_recalibration_sums(
        model=bytes(req["model"]), data=_run_data(req), recalibration=json.loads(str(req["recalibration"]))))


def _run_data(req):
    """The rows a training run uses at this site: its own outcomes, or its share of the synthetic cohort."""
    from network.training_compare import site_share  # noqa: PLC0415

    if str(req.get("data", "nodes")) == "cohort":
        return site_share(disease=str(req["disease"]), seed=int(req["seed"]), n_patients=int(req["n_patients"]),
                          site=settings.CLINNOVA_SITE)
    return _node_data(disease=str(req["disease"]), seed=int(req["seed"]), run=str(req.get("run", "")))


_NODE_DATA: dict[tuple, object] = {}


def _node_data(*, disease: str, seed: int, run: str):
    """The node's rows for a run, kept while this ClientApp process lives (Flower may start one per message; the
    rows are then read again, the same rows, since the outcomes and the seeded patient split are the same)."""
    from network.training_data import node_site_data  # noqa: PLC0415

    key = (disease, seed, run)
    if key not in _NODE_DATA:
        _NODE_DATA.clear()
        _NODE_DATA[key] = node_site_data(disease=disease, seed=seed)
    return _NODE_DATA[key]
