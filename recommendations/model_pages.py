"""Reads for the model admin pages: versions per disease, model cards, metrics side by side, re-scoring progress."""

from __future__ import annotations

from dataclasses import dataclass

from patients import dictionary
from patients.dictionary import Disease
from patients.drugs import BY_ATC
from recommendations.models import ModelStatus, ModelVersion, RescoreRun
from recommendations.registry import latest_visits

# The model card sections of a package manifest, in the order of Mitchell et al., "Model Cards for Model
# Reporting" (FAT* 2019).
CARD_SECTIONS = (
    ("model_details", "Model details"),
    ("intended_use", "Intended use"),
    ("factors", "Factors"),
    ("metrics", "Metrics"),
    ("evaluation_data", "Evaluation data"),
    ("training_data", "Training data"),
    ("ethical_considerations", "Ethical considerations"),
    ("caveats_and_recommendations", "Caveats and recommendations"),
)


def _versions():
    return ModelVersion.objects.defer("package").select_related("uploaded_by", "activated_by")


def model_versions_by_disease() -> dict:
    """Every version grouped by disease, newest first, with the latest re-scoring run of each disease."""
    versions = list(_versions())
    groups = []
    for value, label in Disease.choices:
        mine = [v for v in versions if v.disease == value]
        run = (RescoreRun.objects.filter(model_version__disease=value).select_related("model_version", "started_by")
               .defer("model_version__package").order_by("-created_at").first())
        groups.append({
            "disease": value, "label": label, "versions": mine,
            "active": next((v for v in mine if v.status == ModelStatus.ACTIVE), None),
            "rescore": {"run": run, **run.progress()} if run else None,
        })
    return {"groups": groups, "unreadable": [v for v in versions if not v.disease]}


def model_version_page(version: ModelVersion) -> dict:
    """A version's card: validation report, model card, metrics against the active version, re-scoring."""
    active = _active(version.disease) if version.disease else None
    run = (RescoreRun.objects.filter(model_version=version).select_related("model_version", "started_by")
           .defer("model_version__package").order_by("-created_at").first())
    manifest = version.manifest or {}
    card = manifest.get("model_card") or {}
    report = version.validation_report or []
    return {
        "v": version,
        "m": manifest,
        "active": active if active and active.pk != version.pk else None,
        "card": [(title, card[key]) for key, title in CARD_SECTIONS if card.get(key)],
        "report": report,
        "report_counts": {
            "passed": sum(1 for c in report if c.get("passed") is True),
            "failed": sum(1 for c in report if c.get("passed") is False),
            "not_run": sum(1 for c in report if c.get("passed") is None),
        },
        "features": [(name, dictionary.label(name)) for name in manifest.get("features", [])],
        "per_drug": _per_drug(version, active if active and active.pk != version.pk else None),
        "comparison": metrics_comparison(version, active) if active and active.pk != version.pk else [],
        "rescore": {"run": run, **run.progress()} if run else None,
        "rollback_to": _rollback_target(version) if version.status == ModelStatus.ACTIVE else None,
    }


def activation_preview(version: ModelVersion) -> dict:
    """What activating this version will do: which version it replaces and how many patients are re-scored."""
    active = _active(version.disease)
    return {
        "v": version,
        "active": active,
        "rollback": bool(active and version.version < active.version),
        "patients": len(latest_visits(version.disease)),
        "comparison": metrics_comparison(version, active) if active and active.pk != version.pk else [],
    }


def _active(disease: str) -> ModelVersion | None:
    return _versions().filter(disease=disease, status=ModelStatus.ACTIVE).first()


def _rollback_target(active: ModelVersion) -> ModelVersion | None:
    """The version that was active before this one: the newest older version that was not rejected."""
    return (_versions().filter(disease=active.disease, version__lt=active.version)
            .exclude(status=ModelStatus.REJECTED).order_by("-version").first())


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


def metrics_comparison(candidate: ModelVersion, active: ModelVersion | None) -> list[MetricRow]:
    if active is None:
        return []
    a, b = candidate.test_metrics, active.test_metrics
    return [_row(label, key, a.get(key), b.get(key), hint) for key, label, hint in METRICS]


def _row(label: str, key: str, cand, act, hint: str) -> MetricRow:
    if cand is None or act is None:
        return MetricRow(label, cand, act, "—", "", hint)
    diff = cand - act
    goodness = {"auc": diff, "brier": -diff, "calibration_slope": abs(act - 1) - abs(cand - 1),
                "calibration_intercept": abs(act) - abs(cand)}.get(key)
    if goodness is None or abs(goodness) < 5e-4:
        verdict = "same" if goodness is not None else ""
    else:
        verdict = "better" if goodness > 0 else "worse"
    text = f"{diff:+.0f}" if key == "n" else f"{diff:+.3f}"
    return MetricRow(label, cand, act, text, verdict, hint)


def _per_drug(version: ModelVersion, active: ModelVersion | None) -> list[dict]:
    mine = (version.manifest.get("metrics") or {}).get("per_drug") or {}
    theirs = ((active.manifest.get("metrics") or {}).get("per_drug") or {}) if active else {}
    rows = []
    for atc in list(mine) + [a for a in theirs if a not in mine]:
        drug = BY_ATC.get(atc)
        row = {"atc": atc, "name": drug.name if drug else atc, "this": mine.get(atc) or {},
               "active": theirs.get(atc) or {}}
        if row["this"].get("auc") is not None and row["active"].get("auc") is not None:
            row["auc_difference"] = row["this"]["auc"] - row["active"]["auc"]
        rows.append(row)
    return rows
