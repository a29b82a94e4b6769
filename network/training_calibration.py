"""Federated per-drug recalibration of a trained model: sites send sums, the hub takes Newton steps.

After the last training round the hub asks every site, for the chosen model and the current estimate, for the
per-drug sums of recommendations.recalibration (row count, gradient and information matrix of the logistic
log-likelihood in intercept and slope) over the site's validation rows: rows the trees were not grown on. The
sums of the sites add up to the pooled sums, so the hub's Newton step (recalibration_fit) is the pooled one;
a few steps converge (logistic likelihood, started at intercept 0 and slope 1). The result is the manifest's
"recalibration" block, applied at scoring (margin' = intercept + slope · margin, per drug).

What a site sends per drug: six sums over at least SITE_MIN_EVENTS responders and as many non-responders (the
site checks that; it does not send the counts of responders). The hub recalibrates a drug only when the sites
that sent it guarantee MIN_EVENTS of each between them, as recalibration_pooled requires of pooled rows.
"""

from __future__ import annotations

import numpy as np

from network.training import SiteData, booster_from
from recommendations.recalibration import (
    DIGITS,
    METHOD,
    MIN_EVENTS,
    recalibration_fit,
    recalibration_problem,
    recalibration_sums,
    sums_add,
)

# A site's floor per drug: half the network's, so that two sites reach MIN_EVENTS together, and ten patients of
# each outcome behind every released sum (twice the evaluation's small-cell rule of 5).
SITE_MIN_EVENTS = MIN_EVENTS // 2
# Newton steps on a logistic likelihood from (0, 1), each one exchange with the sites. Newton converges
# quadratically: after a step that moved no coefficient by 1e-2 the estimate is within 1e-3 of the converged one
# (0.0004 and 0.0007 on Crohn's disease and UC, 20,000 patients, seed 7: 3 steps where a 1e-4 tolerance took 4),
# far below a drug's standard error (0.05 or more), and the round trip is spared.
MAX_STEPS = 6
TOLERANCE = 1e-2
# Each drug's fitted (intercept, slope) is shrunk towards (0, 1), no recalibration, by an empirical-Bayes weight:
# component by component, estimate × τ² / (τ² + its variance), with the variance from the inverse of the drug's
# summed information matrix and τ², the true spread of the drugs' coefficients, estimated by the method of moments
# as mean(estimate²) − mean(variance), floored at 0 (a random-effects normal model with unequal variances: Efron B,
# Morris C. Data analysis using Stein's estimator and its generalizations, RAND report R-1394, 1973; Morris CN,
# Lysy M. Shrinkage estimation in multilevel normal models, Statistical Science 2012, arXiv:1203.5610; volume and
# pages not checked). A per-drug slope from a few hundred validation rows has a standard error of 0.2-0.3, and
# refitting on it made slopes worse on an independent draw; a Wald gate (test, then refit in full: Vergouwe Y et al.,
# Stat Med 2017;36(28):4529-4539) kept the harm small but corrected too little. Measured on the weighted federated
# runs (docs/federated-training.md), (drug, seed) pairs with a slope in 0.8-1.2 on an independent draw: 71 of 102
# shrunk, 64 gated, 66 unrecalibrated. The spread needs at least SHRINKAGE_MIN_DRUGS fitted drugs to be estimated.
SHRINKAGE_MIN_DRUGS = 3
SOURCE = ("per-drug sums of the sites' validation rows (not used to grow the trees), added at the hub: "
          "federated Newton steps")


def site_recalibration_sums(*, model: bytes, data: SiteData, recalibration: dict | None) -> dict:
    """What a site sends for one Newton step: per drug with enough of both outcomes here, the six sums."""
    booster = booster_from(model)
    margins = booster.predict(data.validation, output_margin=True)
    y = data.validation.get_label()
    keys = data.validation_drugs
    enough = [d for d in sorted(set(keys.tolist()))
              if min(y[keys == d].sum(), (1 - y[keys == d]).sum()) >= SITE_MIN_EVENTS]
    rows = np.isin(keys, enough)
    sums = recalibration_sums(margins[rows], y[rows], keys[rows], recalibration) if rows.any() else {}
    return {"site": data.site, "sums": sums}


def recalibration_step(*, replies: list[dict], recalibration: dict | None) -> tuple[dict, float]:
    """The hub's Newton step from the sites' sums: the next block and how far its coefficients moved.

    A drug is fitted only when enough sites sent it (each guarantees SITE_MIN_EVENTS of both outcomes)."""
    senders: dict[str, int] = {}
    for reply in replies:
        for drug in reply["sums"]:
            senders[drug] = senders.get(drug, 0) + 1
    fitted = {d for d, k in senders.items() if k * SITE_MIN_EVENTS >= MIN_EVENTS}
    step = recalibration_fit([{d: s for d, s in r["sums"].items() if d in fitted} for r in replies], recalibration,
                             source=SOURCE, method=METHOD)
    before = (recalibration or {}).get("drugs") or {}
    moved = max((max(abs(c["intercept"] - before.get(d, {"intercept": 0.0})["intercept"]),
                     abs(c["slope"] - before.get(d, {"slope": 1.0})["slope"])) for d, c in step["drugs"].items()),
                default=0.0)
    return step, moved


def shrinkage_weights(estimates: dict[str, tuple[float, float]], variances: dict[str, tuple[float, float]]
                      ) -> dict[str, tuple[float, float]]:
    """Per drug, the weights (intercept, slope) that keep τ² / (τ² + variance) of its deviation from (0, 1)."""
    deviations = np.array([(a, b - 1.0) for a, b in estimates.values()])
    spread = np.array([variances[d] for d in estimates])
    tau = np.maximum(0.0, np.mean(deviations ** 2, axis=0) - np.mean(spread, axis=0))
    return {d: tuple(float(t / (t + v)) if t > 0 else 0.0 for t, v in zip(tau, variances[d])) for d in estimates}


def recalibration_final(block: dict | None, drugs: list[str], replies: list[dict]) -> dict | None:
    """The block as the manifest holds it: each drug's estimate shrunk towards (0, 1) (shrinkage_weights, with the
    variances of `replies`, the last step's sums), rounded, without a drug shrunk to nothing or outside the sane
    range (scored unchanged rather than the package refused, as recalibration_pooled does); None when no drug is
    left or fewer than SHRINKAGE_MIN_DRUGS were fitted."""
    if not block:
        return None
    total = sums_add(r["sums"] for r in replies)
    estimates, variances = {}, {}
    for drug, c in block["drugs"].items():
        if drug not in total:
            continue
        _, _, _, h00, h01, h11 = total[drug]
        det = h00 * h11 - h01 * h01
        if det <= 0:
            continue
        estimates[drug] = (float(c["intercept"]), float(c["slope"]))
        variances[drug] = (h11 / det, h00 / det)  # the diagonal of the inverse information matrix
    if len(estimates) < SHRINKAGE_MIN_DRUGS:
        return None
    kept = {}
    for drug, (wa, wb) in shrinkage_weights(estimates, variances).items():
        a, b = estimates[drug]
        c = {"intercept": round(a * wa, DIGITS), "slope": round(1.0 + (b - 1.0) * wb, DIGITS),
             "n": block["drugs"][drug]["n"]}
        if (c["intercept"], c["slope"]) != (0.0, 1.0) and recalibration_problem({**block, "drugs": {drug: c}},
                                                                                 drugs) is None:
            kept[drug] = c
    return {**block, "drugs": kept} if kept else None


def federated_recalibrate(*, model: bytes, sites: dict[str, SiteData], drugs: list[str]) -> dict:
    """The hub's loop in one process (the comparison's): Newton steps on the sites' summed sums."""
    block, steps = None, 0
    for steps in range(1, MAX_STEPS + 1):
        replies = [site_recalibration_sums(model=model, data=data, recalibration=block) for data in sites.values()]
        block, moved = recalibration_step(replies=replies, recalibration=block)
        if moved < TOLERANCE:
            break
    return {"recalibration": recalibration_final(block, drugs, replies), "steps": steps}
