"""The hub's arithmetic: pooled performance from the sites' released cells, each figure with its interval.

Pooled means computed over the union of the sites' patients from summed counts, never an average of site
figures. Inputs are the stratum summaries of network.disclosure (merged bins of a shared grid, cells of
0 or ≥ 5 patients with sums of logit, logit², p, p², squared error and its square).

- AUC: each site's own responder/non-responder pairs are counted exactly at the site (Mann–Whitney);
  pairs across two sites are compared cell by cell, each cell's logits taken as normal with the cell's
  mean and variance, P(X > Y) = Φ((μx − μy) / √(σx² + σy²)). 95 % interval by Hanley JA, McNeil BJ,
  Radiology 1982;143:29–36.
- Brier score: exact from the summed squared errors; interval from their variance (normal approximation).
- Calibration: intercept (calibration-in-the-large, logit offset with slope 1) and slope of the logistic
  recalibration y ~ a + b·logit(p) (Cox DR, Biometrika 1958;45:562–565; Van Calster B et al., BMC Med
  2019;17:230), fitted by Newton–Raphson on the cells with each patient's logit replaced by the cell
  mean; 95 % intervals from the observed information.
- Observed/expected: O = responders, E = Σp; 95 % interval exp(±1.96·√((1 − O/N)/O)) on the log scale
  (Debray TPA et al., BMJ 2017;356:i6460).
- Reliability diagram: the cells grouped into ten bins of predicted probability, each point the mean
  predicted against the observed share with its Wilson interval (Wilson EB, JASA 1927;22:209–212).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy.special import expit
from scipy.stats import norm

Z = 1.959963984540054  # two-sided 95 %


def _cells(summaries: Iterable[dict]) -> list[dict]:
    return [cell for s in summaries for b in s["bins"] for cell in b["cells"]]


def _moments(cells: list[dict]) -> np.ndarray:
    """Rows of (n, mean logit, variance of logit) per cell."""
    rows = []
    for c in cells:
        mean = c["sum_logit"] / c["n"]
        rows.append((c["n"], mean, max(c["sum_logit2"] / c["n"] - mean * mean, 0.0)))
    return np.array(rows, dtype=float).reshape(-1, 3)


def _cross_pairs(pos: np.ndarray, neg: np.ndarray) -> float:
    if not len(pos) or not len(neg):
        return 0.0
    diff = pos[:, 1][:, None] - neg[:, 1][None, :]
    sd = np.sqrt(pos[:, 2][:, None] + neg[:, 2][None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(sd > 0, norm.cdf(diff / np.where(sd > 0, sd, 1.0)), np.sign(diff) * 0.5 + 0.5)
    return float((pos[:, 0][:, None] * neg[:, 0][None, :] * p).sum())


def pooled_auc(summaries: list[dict]) -> dict | None:
    """AUC over all sites' patients from their summaries (one per site), with a 95 % interval."""
    summaries = [s for s in summaries if s]
    n_pos = sum(s["events"] for s in summaries)
    n_neg = sum(s["n"] - s["events"] for s in summaries)
    if not n_pos or not n_neg:
        return None
    pairs = sum(s["concordant_pairs"] for s in summaries)
    for i, a in enumerate(summaries):
        pos = _moments([c for c in _cells([a]) if c["y"] == 1])
        for j, b in enumerate(summaries):
            if i != j:
                pairs += _cross_pairs(pos, _moments([c for c in _cells([b]) if c["y"] == 0]))
    auc = pairs / (n_pos * n_neg)
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    se = math.sqrt(max(var, 0.0))
    return _estimate(auc, max(0.0, auc - Z * se), min(1.0, auc + Z * se))


def _estimate(value: float, low: float, high: float) -> dict:
    return {"value": round(float(value), 4), "low": round(float(low), 4), "high": round(float(high), 4)}


def brier(cells: list[dict]) -> dict | None:
    n = sum(c["n"] for c in cells)
    if not n:
        return None
    mean = sum(c["sum_se"] for c in cells) / n
    var = max(sum(c["sum_se2"] for c in cells) / n - mean * mean, 0.0)
    se = math.sqrt(var / n)
    return _estimate(mean, max(0.0, mean - Z * se), mean + Z * se)


def oe_ratio(observed: float | None, expected: float | None, n: int | None) -> dict | None:
    """Observed/expected with its 95 % interval (Debray 2017, see above): for the pooled cells and for a
    monitoring month's calibration-in-the-large alike. None when O, E or n is zero or withheld."""
    if not observed or not expected or not n:
        return None
    ratio = observed / expected
    se = math.sqrt(max((1 - observed / n) / observed, 0.0))
    return _estimate(ratio, ratio * math.exp(-Z * se), ratio * math.exp(Z * se))


def observed_expected(cells: list[dict]) -> dict | None:
    observed = sum(c["n"] for c in cells if c["y"] == 1)
    expected = sum(c["sum_p"] for c in cells)
    estimate = oe_ratio(observed, expected, sum(c["n"] for c in cells))
    return estimate and {**estimate, "observed": observed, "expected": round(expected, 1)}


def _logistic_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, *, offset: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """Weighted logistic regression: (a, b) of y ~ a + b·x, or a alone with x as offset; (coef, se)."""
    design = np.ones((len(x), 1)) if offset else np.column_stack([np.ones(len(x)), x])
    off = x if offset else np.zeros(len(x))
    beta = np.zeros(design.shape[1])
    for _ in range(50):
        p = expit(design @ beta + off)
        info = design.T @ (design * (w * p * (1 - p))[:, None])
        grad = design.T @ (w * (y - p))
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return None
        beta = beta + step
        if np.abs(step).max() < 1e-10:
            break
    p = expit(design @ beta + off)
    info = design.T @ (design * (w * p * (1 - p))[:, None])
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None
    return beta, np.sqrt(np.diag(cov))


def calibration(cells: list[dict]) -> dict:
    """Calibration intercept (slope fixed at 1) and slope, each with a 95 % interval, or None each."""
    if not cells or len({c["y"] for c in cells}) < 2:
        return {"intercept": None, "slope": None}
    x = np.array([c["sum_logit"] / c["n"] for c in cells])
    y = np.array([float(c["y"]) for c in cells])
    w = np.array([float(c["n"]) for c in cells])
    out = {"intercept": None, "slope": None}
    fit = _logistic_fit(x, y, w, offset=True)
    if fit is not None:
        (a,), (se,) = fit
        out["intercept"] = _estimate(a, a - Z * se, a + Z * se)
    fit = _logistic_fit(x, y, w, offset=False)
    if fit is not None and len(set(np.round(x, 9))) > 1:
        b, se = fit[0][1], fit[1][1]
        out["slope"] = _estimate(b, b - Z * se, b + Z * se)
    return out


def _wilson(k: float, n: float) -> tuple[float, float]:
    centre = (k + Z * Z / 2) / (n + Z * Z)
    half = Z * math.sqrt(k * (n - k) / n + Z * Z / 4) / (n + Z * Z)
    return max(0.0, centre - half), min(1.0, centre + half)


def reliability(summaries: list[dict], *, groups: int = 10) -> list[dict]:
    """Points of the reliability diagram: merged bins grouped by predicted probability into `groups` bands."""
    bands: dict[int, dict] = {}
    for s in summaries:
        for b in s["bins"]:
            n = sum(c["n"] for c in b["cells"])
            mean_p = sum(c["sum_p"] for c in b["cells"]) / n
            band = bands.setdefault(min(groups - 1, int(mean_p * groups)), {"n": 0, "events": 0, "sum_p": 0.0})
            band["n"] += n
            band["events"] += sum(c["n"] for c in b["cells"] if c["y"] == 1)
            band["sum_p"] += sum(c["sum_p"] for c in b["cells"])
    points = []
    for key in sorted(bands):
        band = bands[key]
        low, high = _wilson(band["events"], band["n"])
        points.append({"predicted": round(band["sum_p"] / band["n"], 4),
                       "observed": round(band["events"] / band["n"], 4),
                       "low": round(low, 4), "high": round(high, 4), "n": band["n"]})
    return points


def stratum_metrics(summaries: list[dict]) -> dict | None:
    """Every figure for one stratum pooled over the given site summaries (None entries are skipped)."""
    summaries = [s for s in summaries if s]
    if not summaries:
        return None
    cells = _cells(summaries)
    return {"n": sum(s["n"] for s in summaries), "events": sum(s["events"] for s in summaries),
            "sites": len(summaries), "auc": pooled_auc(summaries), "brier": brier(cells),
            **calibration(cells), "oe": observed_expected(cells), "reliability": reliability(summaries)}
