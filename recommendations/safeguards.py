"""Safeguards on activating a model version: on which validation figures it is worse than the active one
(held-out AUC, Brier and calibration, and the ranking report: gain captured, mean regret, top-suggestion
agreement, worst per-drug calibration slope), and how many patients' top suggestion would change.

A candidate worse on any figure may still be activated, with a typed reason
that the audit trail keeps. The count of changed top suggestions is computed,
not estimated: the latest visit of every patient of the disease is scored with
the candidate (probabilities and safety rules, no SHAP values) and its top drug
compared with the one the clinician sees now.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import xgboost as xgb

from patients.history import failed_classes
from recommendations.conditions import Facts
from recommendations.features import feature_matrix
from recommendations.models import ModelVersion, RecommendationItem, RecommendationStatus
from recommendations.scoring import model_load, ranked_by_probability, ranking_missing, visit_state, visits_for_scoring

# Visits scored per vectorised call; the preview reads and scores batch after batch.
PREVIEW_BATCH = 500
# The preview runs while the admin waits: about 0.8 ms a patient on the project's 2-core machine (2,000
# patients in 1.5 s), so at most this many patients (~8 s); a disease with more is not previewed (never guessed).
PREVIEW_MAX_PATIENTS = 10_000


@dataclass(frozen=True)
class MetricRow:
    label: str
    candidate: float | None
    active: float | None
    difference: str
    verdict: str  # better, worse, same, or "" when a value is missing
    hint: str


# (key, label, what "better" means) for the held-out test metrics.
METRICS = (
    ("auc", "AUC", "higher is better"),
    ("brier", "Brier score", "lower is better"),
    ("calibration_slope", "Calibration slope", "closer to 1 is better"),
    ("calibration_intercept", "Calibration intercept", "closer to 0 is better"),
    ("n", "Test patients", ""),
)
# The ranking report (manifest metrics.x_evaluation, recommendations.validation): what the page's order is worth.
RANKING_METRICS = (
    ("gain_captured", "Gain captured", "higher is better"),
    ("mean_regret", "Mean regret", "lower is better"),
    ("top_agreement", "Top-suggestion agreement", "higher is better"),
    ("worst_slope", "Worst per-drug calibration slope", "closer to 1 is better"),
)
# Differences smaller than these are "same": AUC, Brier and calibration move in the 4th decimal between
# retrainings; the ranking figures are shares measured on 20,000 patients (about ±1 point).
SAME_WITHIN = {"gain_captured": 0.01, "mean_regret": 0.0005, "top_agreement": 0.01}


def ranking_figures(version: ModelVersion) -> dict:
    """The ranking report's figures of a version ({} for a package without one); worst_slope is the per-drug
    calibration slope (fresh cohort, else test split) farthest from 1."""
    metrics = (version.manifest or {}).get("metrics") or {}
    report = metrics.get("x_evaluation") or {}
    figures = {key: report.get(key) for key, _, _ in RANKING_METRICS if key != "worst_slope"}
    slopes = [c.get("calibration_slope") for c in (report.get("per_drug") or {}).values()]
    if not slopes:
        slopes = [(m.get("x_calibration") or {}).get("calibration_slope")
                  for m in (metrics.get("per_drug") or {}).values()]
    slopes = [x for x in slopes if isinstance(x, (int, float))]
    figures["worst_slope"] = max(slopes, key=lambda x: abs(x - 1)) if slopes else None
    return figures


def metrics_comparison(candidate: ModelVersion, active: ModelVersion | None) -> list[MetricRow]:
    if active is None:
        return []
    a, b = candidate.test_metrics, active.test_metrics
    rows = [_row(label, key, a.get(key), b.get(key), hint) for key, label, hint in METRICS]
    ra, rb = ranking_figures(candidate), ranking_figures(active)
    return rows + [_row(label, key, ra.get(key), rb.get(key), hint) for key, label, hint in RANKING_METRICS]


def _row(label: str, key: str, cand, act, hint: str) -> MetricRow:
    if cand is None or act is None:
        return MetricRow(label, cand, act, "—", "", hint)
    diff = cand - act
    goodness = {"auc": diff, "brier": -diff, "calibration_slope": abs(act - 1) - abs(cand - 1),
                "calibration_intercept": abs(act) - abs(cand), "gain_captured": diff, "mean_regret": -diff,
                "top_agreement": diff, "worst_slope": abs(act - 1) - abs(cand - 1)}.get(key)
    if goodness is None or abs(goodness) < SAME_WITHIN.get(key, 5e-4):
        verdict = "same" if goodness is not None else ""
    else:
        verdict = "better" if goodness > 0 else "worse"
    text = f"{diff:+.0f}" if key == "n" else f"{diff:+.3f}"
    return MetricRow(label, cand, act, text, verdict, hint)


def worse_figures(candidate: ModelVersion, active: ModelVersion | None) -> list[str]:
    """The validation figures on which the candidate is worse than the active version ([] without one)."""
    if active is None or active.pk == candidate.pk:
        return []
    return [row.label for row in metrics_comparison(candidate, active) if row.verdict == "worse"]


@dataclass(frozen=True)
class TopChanges:
    patients: int  # patients of the disease with a visit
    scored: int  # of them, those whose latest visit the candidate scored
    changed: int  # whose top suggestion would change
    without_ranking: int  # who have no current ranking now (they would get one)
    seconds: float

    @property
    def took(self) -> str:
        return f"{self.seconds * 1000:.0f} ms" if self.seconds < 1 else f"{self.seconds:.1f} s"


def top_changes(candidate: ModelVersion, visit_ids: list) -> TopChanges | None:
    """Score these visits (each patient's latest) with the candidate; count the top suggestions that change.

    None when there are more than PREVIEW_MAX_PATIENTS visits: the count is computed or not shown.
    """
    if len(visit_ids) > PREVIEW_MAX_PATIENTS:
        return None
    started = time.perf_counter()
    current = dict(
        RecommendationItem.objects.filter(recommendation__visit_id__in=visit_ids, rank=1,
                                          recommendation__superseded_at__isnull=True,
                                          recommendation__status=RecommendationStatus.READY)
        .values_list("recommendation__visit_id", "drug_atc"))
    model = model_load(candidate)
    changed = scored = 0
    for start in range(0, len(visit_ids), PREVIEW_BATCH):
        visits = visits_for_scoring(visit_ids[start:start + PREVIEW_BATCH])
        tops = _top_drugs(model, visits)
        for visit, top in zip(visits, tops):
            scored += 1
            if visit.pk in current and current[visit.pk] != top:
                changed += 1
    return TopChanges(patients=len(visit_ids), scored=scored, changed=changed,
                      without_ranking=sum(1 for v in visit_ids if v not in current),
                      seconds=time.perf_counter() - started)


def _top_drugs(model, visits) -> list[str]:
    """The rank-1 drug of each visit under this model: one predict call for the batch and its members (no SHAP
    values), then the scoring service's own flags, tiers and order (scoring.ranked_by_probability)."""
    if not visits:
        return []
    states = [visit_state(v) for v in visits]
    values = [state.known() for state in states]
    matrices = [feature_matrix(vals, model.features, model.drugs,
                               failed_classes=sorted(failed_classes(v.patient.therapies.all(), v.visit_date)))
                for v, vals in zip(visits, values)]
    matrix = xgb.DMatrix(np.vstack(matrices), missing=np.nan, nthread=1)
    probs, members = model.probabilities_of(matrix), model.members_of(matrix)
    n = len(model.drugs)
    return [ranked_by_probability(model, probs[i * n:(i + 1) * n], facts=Facts.of(state, disease=visit.disease),
                                  current=state.current_drugs,
                                  members=None if members is None else members[i * n:(i + 1) * n],
                                  rankable=not ranking_missing(vals, visit.disease))[0]["drug_atc"]
            for i, (visit, state, vals) in enumerate(zip(visits, states, values))]
