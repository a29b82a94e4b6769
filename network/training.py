"""Federated training of a response model: what a site computes, what the hub combines.

Plain functions, as network.site's: a site's Flower client calls `site_train_round`, tests and the comparison
call them for four sites without the engine, and the hub's ServerApp calls `global_combine`.

Two of Flower's XGBoost strategies (flwr.serverapp.strategy, 1.42) are implemented with the same maths:

- bagging (`FedXgbBagging`): every site grows `local_rounds` trees on the global model with its own rows; the
  hub appends every site's new trees to the global model (Flower's own `aggregate_bagging`);
- cyclic (`FedXgbCyclic`): one site per round, in turn, grows its trees on the global model and the result
  becomes the global model.

What crosses from a site: the new trees as XGBoost JSON, stripped of what prediction and explanation do not
need (`trees_strip`), its number of training rows, and the log-loss sum of the global model it was sent on its
own validation rows (for early stopping at the hub). Never a row, a label or a prediction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import xgboost
from flwr.serverapp.strategy.strategy_utils import aggregate_bagging

from recommendations import training
from recommendations.features import DRUG_PREFIX

BAGGING = "bagging"
CYCLIC = "cyclic"
STRATEGIES = (BAGGING, CYCLIC)
# A site trains in a round only with at least this many rows (and min_child_weight keeps each leaf's hessian,
# hence ≥ 4 × 20 patients for a logistic loss, well above the evaluation's small-cell rule of 5).
MIN_SITE_ROWS = 200
# The settings of recommendations.training, with the intercept pinned: each site would otherwise estimate its
# own base_score (its response rate) and the first site's would become the network's.
BASE_SCORE = 0.5


def params(*, seed: int, weight: float = 1.0) -> dict:
    """recommendations.training's settings; `weight` scales the step (eta) of a site's trees in a bagging round."""
    base = {**training.PARAMS, "seed": seed, "base_score": BASE_SCORE}
    return base if weight == 1.0 else {**base, "eta": base["eta"] * weight}


def site_weights(counts: dict[str, int]) -> dict[str, float]:
    """Each site's share of the training rows: the step its trees take in a bagging round.

    Pooled boosting takes one step of size eta on the sum of all rows' gradients. A bagging round appends one
    tree per site, each a full eta step on its own rows: four sites step about four times as far, which
    overshoots (probabilities too extreme, calibration slopes below 1) and stops early. Weighting each site's
    step by its share makes the round's total step eta, the pooled step, to first order.
    """
    total = sum(counts.values())
    return {site: n / total for site, n in counts.items()} if total else {}


class TrainingError(ValueError):
    pass


@dataclass(frozen=True)
class SiteData:
    """One site's training and validation rows (never sent anywhere), as DMatrix."""

    site: str
    train: xgboost.DMatrix
    validation: xgboost.DMatrix
    # Each validation row's drug (ATC), for the per-drug recalibration sums (network.training_calibration).
    validation_drugs: np.ndarray | None = None

    @property
    def n_train(self) -> int:
        return int(self.train.num_row())


def site_data(*, site: str, X_train, y_train, X_validation, y_validation, columns: list[str]) -> SiteData:
    def matrix(X, y):
        return xgboost.DMatrix(X, label=y, missing=np.nan, feature_names=columns, nthread=1)
    return SiteData(site=site, train=matrix(X_train, y_train), validation=matrix(X_validation, y_validation),
                    validation_drugs=drug_keys(np.asarray(X_validation), columns))


def drug_keys(X: np.ndarray, columns: list[str]) -> np.ndarray:
    """Each row's drug (its one-hot drug column, as recommendations.features lays rows out)."""
    drugs = [c for c in columns if c.startswith(DRUG_PREFIX)]
    first = columns.index(drugs[0])
    return np.array([d.removeprefix(DRUG_PREFIX) for d in drugs])[np.argmax(X[:, first:first + len(drugs)], axis=1)]


# --- what is exchanged ------------------------------------------------------------

# Per node of a tree: what prediction needs (children, split feature and threshold, default direction; a leaf's
# value sits in split_conditions) and what TreeSHAP needs (sum_hessian: the cover weighting each branch's
# expected value). loss_changes (each split's gain) and the internal nodes' base_weights serve neither.
_ZEROED = ("loss_changes",)


def trees_strip(model: bytes) -> bytes:
    """A booster's JSON with each split's gain zeroed, internal nodes' weights zeroed and covers rounded.

    sum_hessian is kept, rounded to whole units: explanations (pred_contribs) weight branches by it, and
    min_child_weight already keeps every node's at ≥ 20. Rounding hides the fine sums of p(1−p) that could
    otherwise be matched against a guessed patient.
    """
    doc = json.loads(model)
    for tree in doc["learner"]["gradient_booster"]["model"]["trees"]:
        for key in _ZEROED:
            tree[key] = [0.0] * len(tree[key])
        left = tree["left_children"]
        tree["base_weights"] = [w if left[i] == -1 else 0.0 for i, w in enumerate(tree["base_weights"])]
        tree["sum_hessian"] = [float(round(h)) for h in tree["sum_hessian"]]
    return json.dumps(doc, separators=(",", ":")).encode()


def booster_bytes(booster: xgboost.Booster) -> bytes:
    return bytes(booster.save_raw("json"))


def booster_from(model: bytes) -> xgboost.Booster | None:
    if not model:
        return None
    booster = xgboost.Booster(model_file=bytearray(model))
    booster.set_param({"nthread": 1})
    return booster


# --- a site's round -----------------------------------------------------------------


def validation_loss(*, model: bytes, data: SiteData) -> dict:
    """The log-loss sum of the global model on this site's validation rows, and their number (aggregates)."""
    y = data.validation.get_label()
    booster = booster_from(model)
    p = np.full(len(y), BASE_SCORE) if booster is None else booster.predict(data.validation)
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return {"loss_sum": float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).sum()), "n_validation": int(len(y))}


def site_train_round(*, model: bytes, data: SiteData, strategy: str, seed: int, local_rounds: int = 1,
                     train: bool = True, min_rows: int = MIN_SITE_ROWS, weight: float = 1.0,
                     count: bool = False) -> dict:
    """What this site sends back for one round: the global model's validation loss here, and (when asked to
    train and holding at least min_rows rows) the trees it grew on the global model, stripped.

    bagging sends only the new trees (with the model's header); cyclic sends the whole model, new trees included.
    `weight` (bagging): this site's share of the network's training rows, scaling its trees' step.
    `count`: weighted bagging's first round, in which a site only reports its row count; a site below its floor
    refuses there already, so its count is never sent.
    """
    if not 0 < weight <= 1:
        raise TrainingError(f"{data.site}: weight {weight} outside (0, 1]")
    if (train or count) and data.n_train < min_rows:
        raise TrainingError(f"{data.site}: {data.n_train} training rows, fewer than the {min_rows} a round requires")
    reply = {"site": data.site, **validation_loss(model=model, data=data), "n_train": data.n_train, "trees": b""}
    if not train:
        return reply
    base = booster_from(model)
    booster = xgboost.train(params(seed=seed, weight=weight), data.train, num_boost_round=local_rounds, xgb_model=base,
                            verbose_eval=False)
    if strategy == BAGGING:
        done = booster.num_boosted_rounds()
        booster = booster[done - local_rounds: done]
    reply["trees"] = trees_strip(booster_bytes(booster))
    return reply


# --- the hub --------------------------------------------------------------------------


def global_combine(*, model: bytes, replies: list[dict], strategy: str) -> bytes:
    """The next global model from the sites' trees (replies without trees change nothing)."""
    grown = [r["trees"] for r in replies if r.get("trees")]
    if strategy == CYCLIC:
        return grown[-1] if grown else model
    for trees in grown:
        model = aggregate_bagging(model, trees)  # Flower's FedXgbBagging aggregation, appending the trees
    return model


def network_loss(replies: list[dict]) -> float | None:
    n = sum(r["n_validation"] for r in replies)
    return sum(r["loss_sum"] for r in replies) / n if n else None


def round_sites(*, strategy: str, sites: list[str], round_number: int) -> list[str]:
    """The sites that train in this round: all (bagging) or the next in turn (cyclic)."""
    return list(sites) if strategy == BAGGING else [sites[(round_number - 1) % len(sites)]]


@dataclass
class Progress:
    """The hub's early stopping on the network's validation loss, as model_train stops on its own."""

    patience: int
    best_loss: float = float("inf")
    best_model: bytes = b""
    best_round: int = 0
    since_best: int = 0

    def record(self, *, round_number: int, model_before: bytes, loss: float | None) -> bool:
        """Record the loss of the model the sites were sent; True when training should stop."""
        if loss is not None and loss < self.best_loss - 1e-9:
            self.best_loss, self.best_model, self.best_round, self.since_best = loss, model_before, round_number, 0
        else:
            self.since_best += 1
        return self.since_best >= self.patience


def final_booster(model: bytes) -> xgboost.Booster:
    """The global model as a booster (JSON parsed by XGBoost itself), ready for a package."""
    booster = booster_from(model)
    if booster is None:
        raise TrainingError("no site trained a tree: nothing to package")
    return booster
