"""Outcomes: what happened after each decided recommendation, by the model's own outcome definition.

Time zero is the decision visit's date. Each disease's outcome (package_manifest.OUTCOMES) is decided from
the patient's later visits of that disease inside a window around the model's horizon, or recorded by the
EHR when the visits cannot decide it. Until the window closes the outcome is awaiting; after it, without
evidence, it is unknown. Never "no response" for want of data.

The windows are this project's choice, wide enough for routine follow-up (clinic visits rarely fall on the
exact week): ±6 weeks around week 26 for IBD, ±4 weeks around month 6 for RA, ±3 months around
month 24 for MS. Each definition names the published criterion it applies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from patients.dictionary import Disease
from patients.models import Visit
from recommendations.models import (
    Decision,
    DecisionKind,
    OutcomeSource,
    OutcomeStatus,
    RecommendationItem,
    RecommendationOutcome,
)
from recommendations.package_manifest import OUTCOMES


@dataclass(frozen=True)
class Verdict:
    responded: bool
    evidence: dict


@dataclass(frozen=True)
class OutcomeDefinition:
    disease: str
    horizon_days: int
    before_days: int  # the window opens this many days before the horizon
    after_days: int  # ... and closes this many days after it
    source: str
    decide: Callable[[Visit, list[Visit]], Verdict | None]

    @property
    def text(self) -> str:
        return OUTCOMES[self.disease]

    def window(self, start: dt.date) -> tuple[dt.date, dt.date]:
        horizon = start + dt.timedelta(days=self.horizon_days)
        return horizon - dt.timedelta(days=self.before_days), horizon + dt.timedelta(days=self.after_days)

    def in_window(self, start: dt.date, visits: Iterable[Visit]) -> list[Visit]:
        """The visits of the window, the one closest to the horizon first."""
        lo, hi = self.window(start)
        horizon = start + dt.timedelta(days=self.horizon_days)
        return sorted((v for v in visits if lo <= v.visit_date <= hi),
                      key=lambda v: (abs((v.visit_date - horizon).days), v.visit_date))


def _score(visit: Visit, name: str) -> float | None:
    entry = (visit.scores or {}).get(name)
    return None if not entry or entry.get("value") is None else float(entry["value"])


def _evidence(visit: Visit, **values) -> dict:
    return {"visit": str(visit.pk), "visit_date": visit.visit_date.isoformat(), **values}


def _crohns(start_visit: Visit, later: list[Visit]) -> Verdict | None:
    # Clinical remission is HBI < 5 (Best WR, Inflamm Bowel Dis 2006;12:304–310; Vermeire S et al.,
    # Aliment Pharmacol Ther 2010;32:1053–1059).
    for visit in OUTCOME_DEFINITIONS[Disease.CROHNS_DISEASE].in_window(start_visit.visit_date, later):
        hbi = _score(visit, "hbi")
        if hbi is not None:
            return Verdict(hbi < 5, _evidence(visit, hbi=hbi))
    return None


MAYO_ITEMS = ("mayo_stool_frequency", "mayo_rectal_bleeding", "mayo_physician_global")


def _colitis(start_visit: Visit, later: list[Visit]) -> Verdict | None:
    # Remission by partial Mayo score: total ≤ 2 with no subscore > 1 (Lewis JD et al.,
    # Inflamm Bowel Dis 2008;14:1660–1666).
    for visit in OUTCOME_DEFINITIONS[Disease.ULCERATIVE_COLITIS].in_window(start_visit.visit_date, later):
        items = [visit.measurements.get(name) for name in MAYO_ITEMS]
        if all(i is not None for i in items):
            items = [float(i) for i in items]
            return Verdict(sum(items) <= 2 and max(items) <= 1, _evidence(visit, partial_mayo=sum(items)))
    return None


def _das28(visit: Visit) -> tuple[str, float] | None:
    for name in ("das28_esr", "das28_crp"):
        value = _score(visit, name)
        if value is not None:
            return name, value
    return None


def _arthritis(start_visit: Visit, later: list[Visit]) -> Verdict | None:
    # EULAR good response: DAS28 at follow-up ≤ 3.2 and improved by > 1.2 from baseline (van Gestel AM et al.,
    # Arthritis Rheum 1996;39:34–40; Fransen J, van Riel PLCM, Clin Exp Rheumatol 2005;23:S93–S99).
    # Baseline and follow-up must use the same DAS28 variant (ESR or CRP): they are not interchangeable.
    baseline = {name: _score(start_visit, name) for name in ("das28_esr", "das28_crp")}
    for visit in OUTCOME_DEFINITIONS[Disease.RHEUMATOID_ARTHRITIS].in_window(start_visit.visit_date, later):
        for name in ("das28_esr", "das28_crp"):
            after = _score(visit, name)
            if after is not None and baseline[name] is not None:
                improvement = round(baseline[name] - after, 2)
                return Verdict(after <= 3.2 and improvement > 1.2,
                               _evidence(visit, score=name, baseline=baseline[name], das28=after,
                                         improvement=improvement))
    return None


def _edss_worsened(baseline: float, value: float) -> bool:
    # Disability worsening: EDSS +1.0 from a baseline ≤ 5.5, +0.5 above it (OPERA I/II: Hauser SL et al.,
    # N Engl J Med 2017;376:221–234), confirmed at a visit at least 12 weeks later.
    return value - baseline >= (1.0 if baseline <= 5.5 else 0.5)


def _sclerosis(start_visit: Visit, later: list[Visit]) -> Verdict | None:
    # NEDA-3: no relapse, no confirmed disability worsening, no new T2 or gadolinium-enhancing lesion
    # (Havrdova E et al., Lancet Neurol 2009;8:254–260; Giovannoni G et al., Mult Scler Relat Disord
    # 2015;4:329–333). MRI activity is counted from month 3 on: lesions seen earlier may predate the drug.
    definition = OUTCOME_DEFINITIONS[Disease.MULTIPLE_SCLEROSIS]
    start = start_visit.visit_date
    _, end = definition.window(start)
    period = sorted((v for v in later if start < v.visit_date <= end), key=lambda v: v.visit_date)
    baseline = start_visit.measurements.get("edss")
    for i, visit in enumerate(period):
        m = visit.measurements
        days = (visit.visit_date - start).days
        if days >= 90 and ((m.get("new_t2_lesions") or 0) > 0 or (m.get("gd_lesions") or 0) > 0):
            return Verdict(False, _evidence(visit, reason="new MRI activity", new_t2_lesions=m.get("new_t2_lesions"),
                                            gd_lesions=m.get("gd_lesions")))
        # relapses_12m counts the last 12 months: only from month 12 on does it lie wholly under treatment.
        if days >= 365 and (m.get("relapses_12m") or 0) > 0:
            return Verdict(False, _evidence(visit, reason="relapse", relapses_12m=m["relapses_12m"]))
        if baseline is not None and m.get("edss") is not None and _edss_worsened(baseline, m["edss"]):
            confirmed = [v for v in period[i + 1:] if (v.visit_date - visit.visit_date).days >= 84
                         and v.measurements.get("edss") is not None
                         and _edss_worsened(baseline, v.measurements["edss"])]
            if confirmed:
                return Verdict(False, _evidence(confirmed[0], reason="confirmed EDSS worsening", baseline=baseline,
                                                edss=confirmed[0].measurements["edss"]))
    # No evidence of activity: NEDA-3 needs relapse counts covering both years, and MRI and EDSS at the end.
    year_one = [v for v in period if 275 <= (v.visit_date - start).days <= 455 and v.measurements.get("relapses_12m") == 0]
    final = [v for v in definition.in_window(start, period)
             if v.measurements.get("relapses_12m") == 0 and v.measurements.get("new_t2_lesions") == 0
             and v.measurements.get("gd_lesions") == 0 and v.measurements.get("edss") is not None]
    if year_one and final and baseline is not None:
        return Verdict(True, _evidence(final[0], year_one_visit=str(year_one[0].pk), edss=final[0].measurements["edss"],
                                       baseline=baseline))
    return None


OUTCOME_DEFINITIONS: dict[str, OutcomeDefinition] = {
    Disease.CROHNS_DISEASE: OutcomeDefinition(Disease.CROHNS_DISEASE, 182, 42, 42,
                                              "Best 2006; Vermeire 2010 (HBI < 5)", _crohns),
    Disease.ULCERATIVE_COLITIS: OutcomeDefinition(Disease.ULCERATIVE_COLITIS, 182, 42, 42,
                                                  "Lewis 2008 (partial Mayo ≤ 2, no subscore > 1)", _colitis),
    Disease.RHEUMATOID_ARTHRITIS: OutcomeDefinition(Disease.RHEUMATOID_ARTHRITIS, 182, 28, 28,
                                                    "van Gestel 1996 (EULAR good response)", _arthritis),
    Disease.MULTIPLE_SCLEROSIS: OutcomeDefinition(Disease.MULTIPLE_SCLEROSIS, 730, 90, 90,
                                                  "Havrdova 2009; Giovannoni 2015 (NEDA-3)", _sclerosis),
}


# --- services ------------------------------------------------------------------


def _latest_decisions(site_code: str | None) -> list[Decision]:
    """The latest decision of each decided recommendation (a clinician may change their mind)."""
    # A deferral names no treatment whose outcome could be followed: it is not a decision to link yet.
    qs = (Decision.objects.exclude(kind=DecisionKind.DEFER).select_related("visit", "recommendation")
          .order_by("recommendation_id", "-decided_at", "-pk"))
    if site_code:
        qs = qs.filter(visit__site__code=site_code)
    latest: dict[int, Decision] = {}
    for decision in qs:
        latest.setdefault(decision.recommendation_id, decision)
    return list(latest.values())


def outcomes_link(*, site_code: str | None = None) -> int:
    """Create the outcome row of every decided recommendation that has none, or follow a changed decision."""
    decisions = _latest_decisions(site_code)
    existing = {o.recommendation_id: o for o in RecommendationOutcome.objects.filter(
        recommendation_id__in=[d.recommendation_id for d in decisions])}
    probabilities = dict(
        ((rec, atc), p) for rec, atc, p in RecommendationItem.objects.filter(
            recommendation_id__in=[d.recommendation_id for d in decisions]).values_list(
            "recommendation_id", "drug_atc", "probability"))
    created = 0
    for d in decisions:
        row = existing.get(d.recommendation_id)
        if row is not None and row.decision_id == d.pk:
            continue
        fields = {"decision": d, "model_version_id": d.model_version_id, "disease": d.visit.disease,
                  "drug_atc": d.drug_atc, "followed": d.was_top,
                  "probability": probabilities.get((d.recommendation_id, d.drug_atc)),
                  "start_date": d.visit.visit_date}
        if row is None:
            RecommendationOutcome.objects.create(recommendation_id=d.recommendation_id, **fields)
            created += 1
        else:  # a changed decision: another drug, so the outcome is derived afresh
            RecommendationOutcome.objects.filter(pk=row.pk).update(
                **fields, status=OutcomeStatus.AWAITING, responded=None, source="", evidence={}, determined_at=None)
    return created


def outcomes_derive(*, site_code: str | None = None, today: dt.date | None = None) -> dict[str, int]:
    """Link decisions to outcome rows, then decide every open one from the patients' later visits.

    An outcome the EHR recorded is kept. Returns how many rows stand in each status afterwards.
    """
    today = today or timezone.localdate()
    outcomes_link(site_code=site_code)
    qs = RecommendationOutcome.objects.exclude(source=OutcomeSource.EHR).exclude(status=OutcomeStatus.KNOWN)
    if site_code:
        qs = qs.filter(recommendation__visit__site__code=site_code)
    rows = list(qs.select_related("recommendation__visit"))
    patients = {r.recommendation.visit.patient_id for r in rows}
    visits: dict[tuple, list[Visit]] = {}
    for v in Visit.objects.filter(patient_id__in=patients).only(
            "id", "patient_id", "disease", "visit_date", "measurements", "scores"):
        visits.setdefault((v.patient_id, v.disease), []).append(v)
    for row in rows:
        start_visit = row.recommendation.visit
        definition = OUTCOME_DEFINITIONS[row.disease]
        later = [v for v in visits.get((start_visit.patient_id, row.disease), []) if v.visit_date > row.start_date]
        verdict = definition.decide(start_visit, later)
        if verdict is not None:
            row.status, row.responded, row.evidence = OutcomeStatus.KNOWN, verdict.responded, verdict.evidence
            row.source, row.determined_at = OutcomeSource.VISITS, timezone.now()
        else:
            row.status = OutcomeStatus.UNKNOWN if today > definition.window(row.start_date)[1] else OutcomeStatus.AWAITING
        row.save(update_fields=["status", "responded", "evidence", "source", "determined_at"])
    counts = RecommendationOutcome.objects.all()
    if site_code:
        counts = counts.filter(recommendation__visit__site__code=site_code)
    return {status: counts.filter(status=status).count() for status in OutcomeStatus.values}


class OutcomeError(ValueError):
    def __init__(self, field: str, value, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.value, self.message = field, value, message


def outcome_record(*, visit: Visit, responded: bool, assessed_on: dt.date, actor: Actor,
                   note: str = "") -> RecommendationOutcome:
    """The EHR records the outcome of the decision taken at `visit`, when the visits cannot decide it.

    Refused (OutcomeError, nothing stored) when no decision was taken at that visit, when the visits have
    decided it already, or when the assessment falls outside the outcome window.
    """
    outcomes_link(site_code=visit.site.code)
    with transaction.atomic():
        row = (RecommendationOutcome.objects.select_for_update().filter(recommendation__visit=visit)
               .order_by("-start_date").first())
        if row is None:
            raise OutcomeError("visit", str(visit.pk), "no decision was recorded on a recommendation of this visit")
        if row.status == OutcomeStatus.KNOWN and row.source == OutcomeSource.VISITS:
            raise OutcomeError("responded", responded, "the later visits decide this outcome already "
                               f"({'responded' if row.responded else 'did not respond'}); it cannot be overwritten")
        lo, hi = OUTCOME_DEFINITIONS[row.disease].window(row.start_date)
        if not lo <= assessed_on <= hi:
            raise OutcomeError("assessed_on", assessed_on.isoformat(),
                               f"must lie in the outcome window {lo.isoformat()} to {hi.isoformat()} "
                               f"({OUTCOMES[row.disease]})")
        row.status, row.responded, row.source = OutcomeStatus.KNOWN, responded, OutcomeSource.EHR
        row.evidence = {"assessed_on": assessed_on.isoformat(), "note": note[:500]}
        row.recorded_by, row.determined_at = str(actor)[:100], timezone.now()
        row.save()
        audit_record(actor=actor, action="outcome_record", obj=row, patient_id=visit.patient_id,
                     site_code=visit.site.code, detail={"visit": str(visit.pk), "responded": responded,
                                                         "assessed_on": assessed_on.isoformat()})
    return row
