"""The bootstrap ensemble of a model package, scored in one XGBoost call instead of one call per member.

A package's members (recommendations.package, members/NN.ubj) are binary:logistic boosters with the
same column layout. Predicting each separately costs one XGBoost call per member, and the fixed
cost of a call dominates for the ten rows of one visit (measured: 20 calls ≈ 7–15 ms against ≈ 0.6 ms
for one call). So the members are joined once per process into one booster whose trees each add to one
output column: a multi:softprob model with one "class" per member (XGBoost's tree_info names the output
each tree adds to). Its raw margins, plus each member's own intercept, are the members' margins; the
join is checked against the members themselves on reference rows before it is used.

Only packages that passed validation reach this module (scoring loads active versions); uploads are
parsed in recommendations.sandbox.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import xgboost

# float32 trees summed in another order: the joined margins agree with the members' to ~1e-6.
JOIN_TOLERANCE = 1e-4


class EnsembleJoinError(ValueError):
    pass


@dataclass(frozen=True)
class Ensemble:
    booster: xgboost.Booster  # one output column per member
    offsets: np.ndarray  # per member: its margin minus the joined booster's raw output (its intercept)

    @property
    def size(self) -> int:
        return len(self.offsets)

    def margins(self, matrix: xgboost.DMatrix) -> np.ndarray:
        """(n_rows, n_members) log-odds, one column per member."""
        margins = self.booster.predict(matrix, output_margin=True).reshape(matrix.num_row(), self.size)
        return margins.astype(np.float64) + self.offsets

    def probabilities(self, matrix: xgboost.DMatrix) -> np.ndarray:
        """(n_rows, n_members) probabilities, one column per member."""
        return 1.0 / (1.0 + np.exp(-self.margins(matrix)))


def ensemble_join(members: list[xgboost.Booster], *, reference: np.ndarray) -> Ensemble:
    """The members joined into one booster, checked against each member on the `reference` rows."""
    if len(members) < 2:
        raise EnsembleJoinError(f"an ensemble needs at least 2 members, got {len(members)}")
    docs = [json.loads(bytes(m.save_raw("json"))) for m in members]
    trees_of = [d["learner"]["gradient_booster"]["model"]["trees"] for d in docs]
    rounds = len(trees_of[0])
    if any(len(t) != rounds for t in trees_of):
        raise EnsembleJoinError("ensemble members have different numbers of trees")
    n = len(members)
    joined = docs[0]
    trees, info = [], []
    # Round by round, member by member: XGBoost's layout for a model with n outputs (n trees per round).
    for r in range(rounds):
        for k in range(n):
            tree = dict(trees_of[k][r])
            tree["id"] = len(trees)
            trees.append(tree)
            info.append(k)
    model = joined["learner"]["gradient_booster"]["model"]
    model["trees"], model["tree_info"] = trees, info
    model["gbtree_model_param"]["num_trees"] = str(len(trees))
    model["iteration_indptr"] = list(range(0, len(trees) + 1, n))
    params = joined["learner"]["learner_model_param"]
    params["num_class"] = str(n)
    # The intercepts are put back as offsets (each member has its own), so the joined base is neutral.
    params["base_score"] = "[" + ",".join(["5E-1"] * n) + "]"
    joined["learner"]["objective"] = {"name": "multi:softprob", "softmax_multiclass_param": {"num_class": str(n)}}
    joined["learner"]["feature_names"], joined["learner"]["feature_types"] = [], []
    booster = xgboost.Booster(params={"nthread": 1})
    booster.load_model(bytearray(json.dumps(joined).encode()))
    booster.set_param({"nthread": 1})

    dm = xgboost.DMatrix(reference, missing=np.nan, nthread=1)
    raw = booster.predict(dm, output_margin=True).reshape(len(reference), n).astype(np.float64)
    own = np.column_stack([m.predict(dm, output_margin=True) for m in members]).astype(np.float64)
    offsets = (own - raw).mean(axis=0)
    gap = float(np.max(np.abs(raw + offsets - own)))
    if gap > JOIN_TOLERANCE:
        raise EnsembleJoinError(f"the joined ensemble differs from its members by {gap:.2g} log-odds")
    return Ensemble(booster=booster, offsets=offsets)
