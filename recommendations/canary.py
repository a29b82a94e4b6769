"""Canary scoring of an uploaded model: a few reference patients scored, SHAP checked against the margin.

With the manifest's per-drug recalibration applied, as scoring applies it (recommendations.recalibration).

Runs only inside the sandbox child (recommendations.sandbox), never in a web or Celery worker.
"""

from __future__ import annotations

import numpy as np


def reference_rows(features: list[str], drugs: list[str]) -> np.ndarray:
    """A few reference patients: nothing recorded, every value at its minimum, middle and maximum."""
    from patients.dictionary import BY_NAME, Kind
    from recommendations.features import column_names

    def at(where: str) -> list[float]:
        row = []
        for name in features:
            var = BY_NAME[name]
            if var.kind == Kind.BOOLEAN:
                row.append({"min": 0.0, "mid": 0.0, "max": 1.0}[where])
            elif var.kind == Kind.CODE:
                row.append({"min": 0.0, "mid": float(len(var.codes) // 2), "max": float(len(var.codes) - 1)}[where])
            else:
                lo, hi = var.minimum or 0.0, var.maximum if var.maximum is not None else 1.0
                row.append({"min": lo, "mid": (lo + hi) / 2, "max": hi}[where])
        return row

    n = len(column_names(features, drugs))
    rows = []
    for base in ([np.nan] * len(features), at("min"), at("mid"), at("max")):
        for d in range(len(drugs)):
            indicator = [0.0] * len(drugs)
            indicator[d] = 1.0
            rows.append(base + indicator)
    matrix = np.array(rows, dtype=np.float32)
    assert matrix.shape[1] == n
    return matrix


def canary_check(data: bytes, *, parsed: dict | None = None) -> tuple[bool, str]:
    """Score the reference rows; `parsed` (manifest and booster the checks just read) saves reading them again."""
    import shap
    import xgboost as xgb

    from recommendations.package import package_load
    from recommendations.recalibration import contributions_recalibrate, margins_recalibrate

    if parsed and parsed.get("booster") is not None:
        manifest, booster = parsed["manifest"], parsed["booster"]
    else:
        manifest, booster = package_load(data, max_bytes=len(data) + 1)
    features, drugs = manifest["features"], manifest["drugs"]
    X = reference_rows(features, drugs)
    dm = xgb.DMatrix(X, missing=np.nan, nthread=1)
    raw = booster.predict(dm, output_margin=True)
    contribs = booster.predict(dm, pred_contribs=True)
    explained = shap.TreeExplainer(booster).shap_values(X[: len(drugs)])
    if float(np.max(np.abs(explained - contribs[: len(drugs), :-1]))) > 1e-3:
        return False, "shap.TreeExplainer disagrees with the booster's own SHAP values"
    gap = float(np.max(np.abs(contribs.sum(axis=1) - raw)))
    if gap > 1e-3:
        return False, f"SHAP values do not sum to the model margin (largest gap {gap:.2g})"
    recalibration = manifest.get("recalibration")
    keys = np.tile(np.asarray(drugs), len(X) // len(drugs))
    margin = margins_recalibrate(raw, keys, recalibration)
    prob = 1.0 / (1.0 + np.exp(-margin))
    if not np.all(np.isfinite(prob)) or prob.min() < 0 or prob.max() > 1:
        return False, "the model gives probabilities that are not finite numbers in [0, 1]"
    gap = float(np.max(np.abs(contributions_recalibrate(contribs, keys, recalibration).sum(axis=1) - margin)))
    if gap > 1e-3:
        return False, f"recalibrated SHAP values do not sum to the recalibrated margin (largest gap {gap:.2g})"
    recalibrated = f", {len(recalibration['drugs'])} drugs recalibrated" if recalibration else ""
    return True, (f"{len(X)} reference rows scored: probabilities in [{prob.min():.3f}, {prob.max():.3f}], SHAP sums "
                  f"match{recalibrated}")
