"""The ranking a card shows: the stored recommendation of the latest visit, or one scored on the fly.

On the fly means without storing anything: when the EHR prefetched observations newer than the last
stored visit (or the stored recommendation is not ready yet), the latest visit's measurements are
overlaid with them and the active model is called directly, through the same public pieces the
scoring service uses (the patient state, feature_matrix, the loaded booster, the safety rules).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import prefetch_related_objects
from django.utils import timezone

from doors.fhir.observations import MappingError, observation_read
from doors.fhir.outbound import main_reasons
from patients import dictionary
from patients.dictionary import DictionaryError
from patients.drugs import BY_ATC
from patients.history import failed_classes
from patients.models import Patient, Visit, VisitSource
from patients.state import patient_state
from recommendations.conditions import Facts
from recommendations.features import FAILED_CLASSES_KEY, feature_matrix
from recommendations.models import ModelVersion, RecommendationItem, RecommendationStatus
from recommendations.scoring import (
    LoadedModel,
    active_versions,
    items_ranked,
    model_load,
    ranking_missing,
    rows_score,
    state_prefetches,
)
from recommendations.selectors import current_recommendation, explanation

# Cards explain the top drugs only; explaining all ten costs more than the rest of the call.
EXPLAINED = 3


@dataclass(frozen=True)
class RankedDrug:
    atc: str
    name: str
    class_label: str
    probability: float
    contraindicated: bool
    flags: list[dict]
    reasons: list[str]  # empty below the top EXPLAINED drugs
    interval: tuple[float, float] | None = None  # 90 % interval (recommendations.tiers); None without an ensemble
    tier: int | None = None
    top_suggestion: bool = False


@dataclass(frozen=True)
class Ranking:
    visit: Visit
    model_version: ModelVersion
    drugs: list[RankedDrug]  # best first
    as_of: dt.date
    live: bool  # scored on the fly, not stored
    overlaid: tuple[str, ...] = ()  # variables taken from prefetched observations
    recommendation_id: int | None = None  # the stored recommendation shown; None when scored on the fly
    # Inputs of the disease's minimum data set that are missing: the ranking names no top suggestion.
    missing_for_ranking: tuple[str, ...] = ()

    @property
    def rankable(self) -> bool:
        return not self.missing_for_ranking


def ranking_for(patient: Patient, *, prefetched: Any = None) -> Ranking | None:
    """The ranking for the patient's latest visit, with newer prefetched observations overlaid; None if none."""
    visit = patient.visits.select_related("patient").first()
    if visit is None:
        return None
    newer, as_of = newer_observations(visit, prefetched)
    if not newer:
        stored = _stored(visit)
        if stored is not None:
            return stored
    return _live(visit, newer, as_of or visit.visit_date)


def newer_observations(visit: Visit, prefetched: Any) -> tuple[dict[str, Any], dt.date | None]:
    """Dictionary values of prefetched Observations made after the visit (the newest per variable), cleaned.

    Prefetch is whatever the EHR holds: codes the dictionary does not know, values it refuses and
    undated observations are passed over, since nothing here is stored or blamed on anyone.
    """
    entries = prefetched.get("entry") if isinstance(prefetched, dict) else None
    found: dict[str, tuple[dt.date, Any]] = {}
    today = timezone.localdate()
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "Observation":
            continue
        try:
            measured = observation_read(resource)
        except (MappingError, AttributeError, TypeError):
            continue
        var, day = measured.variable, measured.effective
        if measured.value is None or day is None or not visit.visit_date < day <= today:
            continue
        if var.origin != dictionary.Origin.MEASURED or not var.used_for(visit.disease):
            continue
        try:
            value = dictionary.clean_value(var, measured.value)
        except DictionaryError:
            continue
        if var.name not in found or found[var.name][0] < day:
            found[var.name] = (day, value)
    as_of = max((day for day, _ in found.values()), default=None)
    return {name: value for name, (_, value) in found.items()}, as_of


def _stored(visit: Visit) -> Ranking | None:
    rec = current_recommendation(visit)
    if rec is None or rec.status != RecommendationStatus.READY:
        return None
    names = rec.model_version.manifest["features"]
    drugs = [RankedDrug(atc=it.drug_atc, name=it.drug.name, class_label=it.drug.class_label,
                        probability=it.probability, contraindicated=it.contraindicated, flags=it.flags,
                        reasons=main_reasons(explanation(it, rec.features, names, rec.base_value))
                        if it.rank <= EXPLAINED else [],
                        interval=None if it.probability_low is None else (it.probability_low, it.probability_high),
                        tier=it.tier, top_suggestion=it.top_suggestion)
             for it in rec.items.all()]
    return Ranking(visit=visit, model_version=rec.model_version, drugs=drugs, as_of=visit.visit_date, live=False,
                   recommendation_id=rec.pk, missing_for_ranking=tuple(rec.missing_for_ranking))


def _live(visit: Visit, newer: dict[str, Any], as_of: dt.date) -> Ranking | None:
    version = active_versions().get(visit.disease)
    if version is None:
        return None
    model = model_load(version)
    prefetch_related_objects([visit.patient], *state_prefetches())
    # The EHR's newer observations as an unsaved visit on their date, the latest record of the patient's state.
    draft = Visit(patient=visit.patient, site_id=visit.site_id, disease=visit.disease, visit_date=as_of,
                  measurements=newer, source=VisitSource.FHIR)
    state = patient_state(visit.patient, on=as_of, draft=draft, disease=visit.disease)
    values = state.known()
    failed = failed_classes(visit.patient.therapies.all(), as_of)
    rows = feature_matrix(values, model.features, model.drugs, failed_classes=failed)
    # One thread (rows_score): for ten rows, starting XGBoost's thread pool costs ~45 ms, building the matrix 0.1 ms.
    contribs, members = rows_score(model, rows)
    missing = ranking_missing(values, visit.disease)
    # The scoring service's flags, order, intervals and tiers.
    items = items_ranked(model, contribs, facts=Facts.of(state, disease=visit.disease), current=state.current_drugs,
                         members=members, rankable=not missing)
    features = {**{f: values.get(f) for f in model.features}, FAILED_CLASSES_KEY: sorted(failed)}
    base_value = float(contribs[0, -1])
    return Ranking(visit=visit, model_version=version,
                   drugs=[_ranked_drug(it, features, model, base_value) for it in items],
                   as_of=as_of, live=True, overlaid=tuple(sorted(newer)), missing_for_ranking=tuple(missing))


def _ranked_drug(it: dict, features: dict, model: LoadedModel, base_value: float) -> RankedDrug:
    drug = BY_ATC[it["drug_atc"]]
    reasons = []
    if it["rank"] <= EXPLAINED:
        # An unsaved item: explanation() reads its SHAP values the way it reads a stored one.
        item = RecommendationItem(drug_atc=drug.atc, shap=it["shap"], margin=it["margin"])
        reasons = main_reasons(explanation(item, features, model.features, base_value))
    interval = None if it.get("probability_low") is None else (it["probability_low"], it["probability_high"])
    return RankedDrug(atc=drug.atc, name=drug.name, class_label=drug.class_label, probability=it["probability"],
                      contraindicated=it["contraindicated"], flags=it["flags"], reasons=reasons, interval=interval,
                      tier=it.get("tier"), top_suggestion=it.get("top_suggestion", False))
