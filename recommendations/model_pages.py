"""Reads for the model admin pages: versions per disease, model cards, metrics side by side, re-scoring progress."""

from __future__ import annotations

from patients import dictionary
from patients.dictionary import Disease
from patients.drugs import BY_ATC
from recommendations.models import ModelStatus, ModelVersion, RescoreRun
from recommendations.registry import latest_visits
from recommendations.safeguards import PREVIEW_MAX_PATIENTS, metrics_comparison, top_changes, worse_figures

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
        row = {"atc": atc, "name": drug.name if drug else atc, "this": mine.get(atc) or {},
               "active": theirs.get(atc) or {}}
        if row["this"].get("auc") is not None and row["active"].get("auc") is not None:
            row["auc_difference"] = row["this"]["auc"] - row["active"]["auc"]
        rows.append(row)
    return rows
