"""Per-drug logistic recalibration of a model package: margin' = intercept + slope · margin for each drug's rows.

One booster scores every candidate drug, and early stopping on the overall log-loss leaves some drugs' probabilities
too flat (calibration slope > 1) and others too extreme (< 1). Logistic recalibration refits, per drug, the intercept
and slope of the outcome on the model's own log-odds, on rows the booster did not train on, and leaves the trees
alone (Platt J. "Probabilistic outputs for support vector machines and comparisons to regularized likelihood
methods", in Advances in Large Margin Classifiers, MIT Press 1999: a sigmoid of the raw score fitted by maximum
likelihood on held-out data; Steyerberg EW. Clinical Prediction Models, 2nd ed., Springer 2019, "logistic
recalibration" among the updating methods; Van Calster B et al. "Calibration: the Achilles heel of predictive
analytics", BMC Med 2019;17:230, for the slope and intercept it corrects).

The manifest carries the result as JSON (optional; a package without it, or a drug absent from it, is scored
unchanged):

    "recalibration": {"method": "...", "source": "...",
                      "drugs": {"<ATC code of manifest.drugs>": {"intercept": a, "slope": b, "n": rows}}}

Applied at scoring time to the margin of the booster. The TreeSHAP values of a row are linear in its margin, so
they follow exactly: every contribution is multiplied by the slope and the row's base value becomes
intercept + slope · base; base + Σ values = margin' still holds.

Each ensemble member is a retraining and carries its own block, fitted as the booster's is on its own fresh draw
("ensemble": {"recalibration": [block or null per member]}). One block fitted to the booster and applied to every
member moved all members of a package together by that booster's own per-drug error (intercepts of ±0.1-0.19 logit
between retrained RA packages), a shift the members' spread never showed: top suggestions that four retrained
packages all repeated fell to 64-85 % in RA (docs/synthetic-cohort.md, "Top-suggestion agreement"). A package
whose ensemble has no blocks of its own (packages before them) applies manifest.recalibration to every member.

Fitting is split so that a federated run can do it from aggregates: recalibration_sums() gives, per drug, the row
count and the gradient and information matrix of the log-likelihood at the current estimate — sums over rows, so
the sums of several sites simply add up — and recalibration_fit() takes one Newton step from summed sums. Pooled
training iterates the two on its own held-out rows (recalibration_pooled).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

METHOD = "logistic recalibration per drug (Platt 1999): margin' = intercept + slope * margin, maximum likelihood"
# A slope is a shrinkage (< 1) or stretching (> 1) of the model's log-odds for one drug. Published external
# validations of clinical models report slopes of roughly 0.5-1.5 (Van Calster 2019); a slope of 0.25 flattens a
# drug's log-odds to a quarter and 4 stretches them fourfold: beyond that the model's within-drug order carries
# next to nothing, or the recalibration would invent signal, so such a block is refused rather than applied.
# A slope ≤ 0 would reverse the model's order within the drug: never sane.
SLOPE_RANGE = (0.25, 4.0)
# An intercept shifts one drug's log-odds; ±5 is an odds ratio of ~150, far beyond any plausible drift of a drug's
# response rate between cohorts.
INTERCEPT_LIMIT = 5.0
# At least 10 events per estimated parameter for the two of them, among the responders and among the others
# (Peduzzi P et al. J Clin Epidemiol 1996;49(12):1373-1379): fewer, and the drug is left unrecalibrated.
MIN_EVENTS = 20
SUM_KEYS = ("n", "g0", "g1", "h00", "h01", "h11")
DIGITS = 6


def recalibration_coefficients(recalibration: dict | None, drug_keys) -> tuple[np.ndarray, np.ndarray]:
    """(intercept, slope) per row: (0, 1) for a drug the block does not name, or without a block."""
    keys = np.asarray(drug_keys)
    intercept, slope = np.zeros(len(keys)), np.ones(len(keys))
    for drug, c in ((recalibration or {}).get("drugs") or {}).items():
        rows = keys == drug
        intercept[rows], slope[rows] = float(c["intercept"]), float(c["slope"])
    return intercept, slope


def members_coefficients(recalibration: dict | None, member_blocks: list | None, drugs: list[str], n_members: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """(intercept, slope), each (n_drugs, n_members) in manifest drug order: column k from member k's own block, or
    from the package's block for every member when the members carry none."""
    blocks = list(member_blocks) if member_blocks else [recalibration] * n_members
    if len(blocks) != n_members:
        raise ValueError(f"{len(blocks)} member recalibration blocks for {n_members} members")
    pairs = [recalibration_coefficients(block, drugs) for block in blocks]
    return np.stack([a for a, _ in pairs], axis=1), np.stack([b for _, b in pairs], axis=1)


def members_recalibrate(margins, drug_index, coefficients: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """(n_rows, n_members) margins after each member's own recalibration; drug_index is each row's manifest drug
    position, coefficients come from members_coefficients."""
    intercept, slope = coefficients
    index = np.asarray(drug_index)
    return intercept[index] + slope[index] * np.asarray(margins, dtype=np.float64)


def margins_recalibrate(margins, drug_keys, recalibration: dict | None) -> np.ndarray:
    """intercept + slope · margin for each row (the row's drug in `drug_keys`), as float64."""
    a, b = recalibration_coefficients(recalibration, drug_keys)
    m = np.asarray(margins, dtype=np.float64)
    return a.reshape((-1,) + (1,) * (m.ndim - 1)) + b.reshape((-1,) + (1,) * (m.ndim - 1)) * m


def contributions_recalibrate(contribs, drug_keys, recalibration: dict | None) -> np.ndarray:
    """XGBoost pred_contribs rows (features…, base value last) after recalibration: every value × slope, the base
    value intercept + slope · base, so each row still sums to its (recalibrated) margin."""
    c = np.asarray(contribs, dtype=np.float64)
    if recalibration is None or not recalibration.get("drugs"):
        return c
    a, b = recalibration_coefficients(recalibration, drug_keys)
    out = c * b[:, None]
    out[:, -1] += a
    return out


def recalibration_sums(margins, outcomes, drug_keys, recalibration: dict | None = None) -> dict[str, list[float]]:
    """Per drug [n, g0, g1, h00, h01, h11] of the logistic log-likelihood of the outcomes in (intercept, slope),
    at the current estimate (`recalibration`, or intercept 0 and slope 1):

        q = sigmoid(a + b·m),  g0 = Σ (y − q),  g1 = Σ (y − q)·m,
        h00 = Σ q(1 − q),  h01 = Σ q(1 − q)·m,  h11 = Σ q(1 − q)·m²

    g is the gradient; h is the information matrix, i.e. the Hessian with its sign turned (positive definite),
    so the Newton step is h⁻¹ g. Sums over rows: the sums of several sites add up to the pooled sums. The
    responders' count Σ y is not sent; recalibration_fit needs only these six numbers.
    """
    m = np.asarray(margins, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    keys = np.asarray(drug_keys)
    if not (m.shape == y.shape == keys.shape) or m.ndim != 1:
        raise ValueError(f"margins {m.shape}, outcomes {y.shape} and drug_keys {keys.shape} must be equal 1-D shapes")
    if not np.all(np.isfinite(m)):
        raise ValueError("margins must be finite")
    current = (recalibration or {}).get("drugs") or {}
    sums = {}
    for drug in sorted(set(keys.tolist())):
        rows = keys == drug
        c = current.get(drug, {"intercept": 0.0, "slope": 1.0})
        x, t = m[rows], y[rows]
        q = 1.0 / (1.0 + np.exp(-(float(c["intercept"]) + float(c["slope"]) * x)))
        r, w = t - q, q * (1.0 - q)
        sums[drug] = [float(rows.sum()), float(r.sum()), float((r * x).sum()), float(w.sum()), float((w * x).sum()),
                      float((w * x * x).sum())]
    return sums


def sums_add(sums_iterable: Iterable[dict[str, list[float]]]) -> dict[str, list[float]]:
    """Element-wise sum of several recalibration_sums results (e.g. one per site), per drug."""
    total: dict[str, list[float]] = {}
    for sums in sums_iterable:
        for drug, values in sums.items():
            if len(values) != len(SUM_KEYS) or not all(math.isfinite(float(v)) for v in values):
                raise ValueError(f"the sums of {drug!r} must be {len(SUM_KEYS)} finite numbers ({', '.join(SUM_KEYS)})")
            before = total.get(drug, [0.0] * len(SUM_KEYS))
            total[drug] = [p + float(v) for p, v in zip(before, values)]
    return total


def recalibration_fit(sums_iterable: Iterable[dict[str, list[float]]], recalibration: dict | None = None, *,
                      source: str, method: str = METHOD) -> dict:
    """The manifest block after one Newton step from `recalibration` (or intercept 0, slope 1) with the summed
    sums, all computed at that same estimate. A drug whose information matrix is singular keeps its estimate."""
    total = sums_add(sums_iterable)
    current = (recalibration or {}).get("drugs") or {}
    drugs = {}
    for drug, (n, g0, g1, h00, h01, h11) in sorted(total.items()):
        c = current.get(drug, {"intercept": 0.0, "slope": 1.0})
        a, b = float(c["intercept"]), float(c["slope"])
        det = h00 * h11 - h01 * h01
        if det > 1e-12 * max(1.0, h00 * h11):
            a += (h11 * g0 - h01 * g1) / det
            b += (h00 * g1 - h01 * g0) / det
        drugs[drug] = {"intercept": a, "slope": b, "n": int(round(n))}
    return {"method": method, "source": source, "drugs": drugs}


def recalibration_pooled(margins, outcomes, drug_keys, *, source: str, max_steps: int = 25,
                         tolerance: float = 1e-9) -> dict:
    """The maximum-likelihood recalibration of held-out rows in one place: Newton steps until they stop moving.

    Drugs with fewer than MIN_EVENTS responders or non-responders are left out (scored unchanged), and so is a drug
    whose estimate falls outside the sane range recalibration_problem enforces: better unrecalibrated than refused.
    """
    y = np.asarray(outcomes, dtype=np.float64)
    keys = np.asarray(drug_keys)
    enough = [d for d in sorted(set(keys.tolist()))
              if min(y[keys == d].sum(), (1 - y[keys == d]).sum()) >= MIN_EVENTS]
    rows = np.isin(keys, enough)
    block = {"method": METHOD, "source": source, "drugs": {}}
    if not enough:
        return block
    m, y, keys = np.asarray(margins, dtype=np.float64)[rows], y[rows], keys[rows]
    for _ in range(max_steps):
        step = recalibration_fit([recalibration_sums(m, y, keys, block)], block, source=source)
        moved = max(max(abs(step["drugs"][d]["intercept"] - block["drugs"].get(d, {"intercept": 0.0})["intercept"]),
                        abs(step["drugs"][d]["slope"] - block["drugs"].get(d, {"slope": 1.0})["slope"]))
                    for d in step["drugs"])
        block = step
        if moved < tolerance:
            break
    block["drugs"] = {d: {"intercept": round(c["intercept"], DIGITS), "slope": round(c["slope"], DIGITS), "n": c["n"]}
                      for d, c in block["drugs"].items()
                      if _coefficient_problem(c["intercept"], c["slope"]) is None}
    return block


# --- validation of a manifest block ------------------------------------------------------------------------------


def recalibration_problem(block, drugs: list[str], *, path: str = "manifest.recalibration") -> str | None:
    """The first way a manifest's "recalibration" block is malformed, as a sentence naming the key; None if fine.

    `drugs` are manifest.drugs: a block may only name them. `path` names the block in the message (a member's own
    block is manifest.ensemble.recalibration[k]).
    """
    if not isinstance(block, dict):
        return f"{path} must be an object, got {type(block).__name__}"
    for key in block:
        if key not in ("method", "source", "drugs") and not str(key).startswith("x_"):
            return f"{path}.{key} is not a known key (method, source, drugs; extensions must start with 'x_')"
    for key in ("method", "source"):
        if not isinstance(block.get(key), str) or not block[key].strip():
            return f"{path}.{key} must be a non-empty string"
    entries = block.get("drugs")
    if not isinstance(entries, dict):
        return f"{path}.drugs must be an object keyed by the manifest's drugs"
    for drug, c in entries.items():
        where = f"{path}.drugs.{drug}"
        if drug not in drugs:
            return f"{where}: {drug!r} is not one of manifest.drugs"
        if not isinstance(c, dict) or set(c) - {"intercept", "slope", "n"} or not {"intercept", "slope", "n"} <= set(c):
            return f"{where} must hold exactly intercept, slope and n"
        for key in ("intercept", "slope", "n"):
            v = c[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                return f"{where}.{key} must be a finite number, got {v!r}"
        if not (float(c["n"]).is_integer() and c["n"] >= 1):
            return f"{where}.n must be a whole number ≥ 1, got {c['n']!r}"
        if problem := _coefficient_problem(c["intercept"], c["slope"]):
            return f"{where}.{problem}"
    return None


def _coefficient_problem(intercept: float, slope: float) -> str | None:
    low, high = SLOPE_RANGE
    if not low <= slope <= high:
        return (f"slope {slope!r} is outside {low}–{high}: a slope that far from 1 would flatten the model's "
                "order within the drug to nothing, stretch it beyond anything observed, or reverse it")
    if abs(intercept) > INTERCEPT_LIMIT:
        return f"intercept {intercept!r} is outside ±{INTERCEPT_LIMIT} log-odds (an odds ratio beyond ~150)"
    return None
