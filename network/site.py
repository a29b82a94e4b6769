"""Site-side work: plain functions of the project that a site's Flower client calls (tests call them directly).

Each reads only this node's database through the project's services and returns only aggregates that obey
network.disclosure: merged bins whose cells hold 0 or ≥ 5 patients, counts of 1–4 withheld (None).
"""

from __future__ import annotations

import numpy as np
import xgboost as xgb
from django.conf import settings

from network.disclosure import MIN_CELL, Unit, binned_counts
from network.models import Participation
from patients.models import Sex
from recommendations.features import FAILED_CLASSES_KEY, feature_matrix
from recommendations.models import OutcomeStatus, RecommendationOutcome
from recommendations.outcomes import outcomes_derive
from recommendations.package import package_load
from recommendations.recalibration import margins_recalibrate

AGE_BANDS = ((0, 40, "under 40"), (40, 60, "40 to 59"), (60, 200, "60 and over"))


def participation() -> Participation:
    """This node's switch (created taking part)."""
    return Participation.objects.order_by("pk").first() or Participation.objects.create()


def protected(count: int, *, min_cell: int = MIN_CELL) -> int | None:
    """A count as it may leave the site: 1 to min_cell-1 is withheld (None)."""
    return count if count == 0 or count >= min_cell else None


def _age_band(age: int) -> str:
    return next(label for lo, hi, label in AGE_BANDS if lo <= age < hi)


def evaluation_units(*, manifest: dict, booster: xgb.Booster, site_code: str | None) -> tuple[list, dict]:
    """(units with their strata, coverage counts) for every known outcome of the model's disease at this site."""
    outcomes_derive(site_code=site_code)
    rows = RecommendationOutcome.objects.filter(disease=manifest["disease"]).select_related(
        "recommendation__visit__patient")
    if site_code:
        rows = rows.filter(recommendation__visit__site__code=site_code)
    coverage = {"decisions": 0, "awaiting": 0, "unknown": 0, "known": 0, "drug_not_in_model": 0}
    known, matrices = [], []
    for row in rows:
        coverage["decisions"] += 1
        coverage[row.status] += 1
        if row.status != OutcomeStatus.KNOWN:
            continue
        if row.drug_atc not in manifest["drugs"]:
            coverage["drug_not_in_model"] += 1
            continue
        features = row.recommendation.features
        block = feature_matrix(features, manifest["features"], manifest["drugs"],
                               failed_classes=features.get(FAILED_CLASSES_KEY) or ())
        matrices.append(block[manifest["drugs"].index(row.drug_atc)])
        known.append(row)
    if not known:
        return [], coverage
    # The probability the page showed: with the package's per-drug recalibration, if it has one.
    margins = booster.predict(xgb.DMatrix(np.vstack(matrices), missing=np.nan, nthread=1), output_margin=True)
    p = 1.0 / (1.0 + np.exp(-margins_recalibrate(margins, [row.drug_atc for row in known],
                                                  manifest.get("recalibration"))))
    units = []
    for row, prob in zip(known, p):
        visit = row.recommendation.visit
        patient = visit.patient
        strata = ["overall", f"drug:{row.drug_atc}", "followed" if row.followed else "overridden",
                  f"age:{_age_band(patient.age_on(visit.visit_date))}"]
        if patient.sex in (Sex.FEMALE, Sex.MALE):
            strata.append(f"sex:{patient.sex}")
        units.append((Unit(str(patient.pk), float(prob), bool(row.responded)), strata))
    return units, coverage


def site_evaluate(*, package: bytes, site_code: str | None, min_cell: int = MIN_CELL) -> dict:
    """Evaluate a model package on this site's real outcomes: binned counts per stratum, nothing per patient."""
    manifest, booster = package_load(package, max_bytes=max(len(package) + 1, settings.MODEL_UPLOAD_MAX_BYTES))
    booster.set_param({"nthread": 1})
    units, coverage = evaluation_units(manifest=manifest, booster=booster, site_code=site_code)
    by_stratum: dict[str, list[Unit]] = {}
    for unit, strata in units:
        for name in strata:
            by_stratum.setdefault(name, []).append(unit)
    return {
        "site": site_code or "",
        "disease": manifest["disease"],
        "min_cell": min_cell,
        "coverage": {k: protected(v, min_cell=min_cell) for k, v in coverage.items()},
        # A stratum that cannot be released under the small-cell rule is None: the hub says "suppressed".
        "strata": {name: binned_counts(members, min_cell=min_cell) for name, members in sorted(by_stratum.items())},
    }
