"""Reads for the model admin pages: versions per disease, model cards, metrics side by side, re-scoring progress."""

from __future__ import annotations

from patients import dictionary
from patients.dictionary import Disease
from patients.drugs import BY_ATC
from recommendations.models import ModelStatus, ModelVersion, RescoreRun
from recommendations.registry import latest_visits
from recommendations.safeguards import (
    PREVIEW_MAX_PATIENTS,
    metrics_comparison,
    ranking_figures,
    top_changes,
    worse_figures,
)

# What each validation figure means, one sentence each, shown beside it on the model card.
MEANINGS = {
    "auc": "How well the model separates patients who respond from those who do not on the drug they took "
           "(0.5 is chance, 1 perfect); it says nothing about whether drugs are ranked right.",
    "brier": "The mean squared error of the predicted probabilities (0 is perfect; lower is better).",
    "gain_captured": "Of the extra responses that choosing the truly best drug per patient would bring over giving "
                     "everyone the single best drug, the share the model's first-ranked drugs bring.",
    "mean_regret": "How many percentage points of response a patient loses on average by taking the model's "
                   "first-ranked drug instead of their truly best one.",
    "top_agreement": "When the page shows a top suggestion, how often four independently retrained models would put "
                     "the same drug first.",
    "calibration": "Per drug: a slope of 1 and an intercept of 0 mean predicted probabilities match observed "
                   "response rates; observed/expected (O/E) above 1 means the model predicts too low.",
}

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
        "ranking": _ranking(manifest),
        "meanings": MEANINGS,
        "comparison": metrics_comparison(version, active) if active and active.pk != version.pk else [],
        "rescore": {"run": run, **run.progress()} if run else None,
        "rollback_to": _rollback_target(version) if version.status == ModelStatus.ACTIVE else None,
    }


def activation_preview(version: ModelVersion) -> dict:
    """What activating this version will do: which version it replaces, how many patients are re-scored, on
    which figures it is worse than the active version, and how many top suggestions would change."""
    active = _active(version.disease)
    visit_ids = [v.pk for v in latest_visits(version.disease)]
    return {
        "v": version,
        "active": active,
        "rollback": bool(active and version.version < active.version),
        "patients": len(visit_ids),
        "comparison": metrics_comparison(version, active) if active and active.pk != version.pk else [],
        "worse_on": worse_figures(version, active),
        "changes": top_changes(version, visit_ids) if active and visit_ids else None,
        "preview_limit": PREVIEW_MAX_PATIENTS,
    }


def _ranking(manifest: dict) -> dict | None:
    """The ranking report of the manifest (metrics.x_evaluation) for the card, None if the package has none."""
    report = (manifest.get("metrics") or {}).get("x_evaluation")
    if not report:
        return None
    drug = BY_ATC.get(report.get("one_drug_for_all") or "")
    span = report.get("gain_captured_range")
    return {
        **report,
        "one_drug_name": drug.name if drug else report.get("one_drug_for_all"),
        "gain_text": _pct(report.get("gain_captured")),
        "range_text": f"{_pct(span[0])} to {_pct(span[1])}" if span else "",
        "regret_text": "—" if report.get("mean_regret") is None else f"{report['mean_regret'] * 100:.2f} points",
        "agreement_text": "not measured" if report.get("top_agreement") is None else _pct(report["top_agreement"]),
        "with_top_text": _pct(report.get("with_top_suggestion")),
        "worst_slope": ranking_figures(ModelVersion(manifest=manifest)).get("worst_slope"),
    }


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _active(disease: str) -> ModelVersion | None:
    return _versions().filter(disease=disease, status=ModelStatus.ACTIVE).first()


def _rollback_target(active: ModelVersion) -> ModelVersion | None:
    """The version that was active before this one: the newest older version that was not rejected."""
    return (_versions().filter(disease=active.disease, version__lt=active.version)
            .exclude(status=ModelStatus.REJECTED).order_by("-version").first())


def _per_drug(version: ModelVersion, active: ModelVersion | None) -> list[dict]:
    mine = (version.manifest.get("metrics") or {}).get("per_drug") or {}
    theirs = ((active.manifest.get("metrics") or {}).get("per_drug") or {}) if active else {}
    rows = []
    for atc in list(mine) + [a for a in theirs if a not in mine]:
        drug = BY_ATC.get(atc)
        this = mine.get(atc) or {}
        fresh = (((version.manifest.get("metrics") or {}).get("x_evaluation") or {}).get("per_drug") or {}).get(atc)
        row = {"atc": atc, "name": drug.name if drug else atc, "this": this, "active": theirs.get(atc) or {},
               "calibration": this.get("x_calibration") or {}, "fresh": fresh or {}}
        if row["this"].get("auc") is not None and row["active"].get("auc") is not None:
            row["auc_difference"] = row["this"]["auc"] - row["active"]["auc"]
        rows.append(row)
    return rows
