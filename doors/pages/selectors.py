"""Reads the clinician pages share: the clinical record composed with its recommendations.

The record itself is read by patients.selectors; recommendations and decisions
by the recommendations app. Each read here runs in a bounded number of queries.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest

from doors.pages.charts import activity_charts, lab_charts
from doors.pages.record import flowsheet, state_sections, therapy_lines
from doors.pages.targets import SEVERITY_ORDER, TARGET_LABELS
from patients import dictionary
from patients.access import patients_for_user
from patients.dictionary import Disease
from patients.drugs import BY_ATC, DRUGS
from patients.history import same_class_failed
from patients.models import Diagnosis, Patient, PatientIdentifier, TherapyExposure, Visit
from patients.selectors import diagnosis_of, patient_record, years_between
from patients.state import patient_state
from recommendations.decisions import card_responses_for_patient, decisions_for_patient
from recommendations.explanations import comparison, sigmoid, waterfall, waterfall_domain
from recommendations.models import Decision, JobStatus, Recommendation, ScoringJob
from recommendations.selectors import recommendation_payload

# Decision status of a row, most in need of the clinician first (the order "Decision" sorts by).
DECISION_STATUSES = (
    ("new_ranking", "New ranking since the last decision"),
    ("review_due", "Deferred decision due"),
    ("pending", "Decision pending"),
    ("deferred", "Deferred"),
    ("decided", "Decided"),
)
ACTIVITY_FILTERS = (("above", "Above target"), ("at", "At target"), ("none", "No target or no score"))
LIST_SORTS = {
    # key: (label, order_by)
    "recent": ("Latest visit, newest first", ("-latest_visit_date", "id")),
    "decision": ("Decision needed first", ("decision_rank", "-latest_visit_date", "id")),
    "activity": ("Most active first", ("activity_rank", "-latest_visit_date", "id")),
    "therapy": ("Current therapy A–Z", ("current_therapy_name", "-latest_visit_date", "id")),
    "change": ("Longest since a therapy change first", ("last_change", "-latest_visit_date", "id")),
}


def _label_case(field: str, mapping: dict, default) -> Case:
    return Case(*(When(**{field: key}, then=Value(value)) for key, value in mapping.items()),
                default=Value(default), output_field=CharField() if isinstance(default, str) else IntegerField())


def patient_list(*, user, disease: str = "", site: str = "", query: str = "", therapy: str = "",
                 activity: str = "", decision: str = "", sort: str = "recent",
                 today: dt.date | None = None) -> QuerySet[Patient]:
    """The user's patients for triage, one query for a page of rows however many patients there are.

    Each row carries its EHR id, the latest visit (date, disease, activity and whether it is at the disease's
    target), the current therapy with the date of the last therapy change, the ranking's status and the
    decision status: "pending" (a ranking, no decision yet), "new_ranking" (the patient's last decision was
    taken on an earlier ranking), "deferred"/"review_due" (a deferral, before or after its date), "decided".
    """
    today = today or dt.date.today()
    latest = Visit.objects.filter(patient=OuterRef("pk")).order_by("-visit_date", "-created_at")
    first_identifier = PatientIdentifier.objects.filter(patient=OuterRef("pk")).order_by("id")
    latest_job = ScoringJob.objects.filter(visit_id=OuterRef("latest_visit_id")).order_by("-created_at", "-pk")
    current = Recommendation.objects.filter(visit_id=OuterRef("latest_visit_id"), superseded_at__isnull=True)
    last_decision = Decision.objects.filter(visit__patient=OuterRef("pk")).order_by("-decided_at", "-pk")
    on_therapy = TherapyExposure.objects.filter(patient=OuterRef("pk"), stopped_on__isnull=True)
    therapies = TherapyExposure.objects.filter(patient=OuterRef("pk")).order_by().values("patient")
    qs = (
        patients_for_user(user)
        .select_related("site")
        .annotate(
            ehr_id=Subquery(first_identifier.values("value")[:1]),
            latest_visit_id=Subquery(latest.values("id")[:1]),
            latest_visit_date=Subquery(latest.values("visit_date")[:1]),
            latest_disease=Subquery(latest.values("disease")[:1]),
            latest_activity=Subquery(latest.values("activity_score")[:1]),
            latest_activity_label=Subquery(latest.values("activity_label")[:1]),
            latest_activity_category=Subquery(latest.values("activity_category")[:1]),
            latest_job_status=Subquery(latest_job.values("status")[:1]),
            current_recommendation_status=Subquery(current.values("status")[:1]),
            current_recommendation_id=Subquery(current.filter(status="ready").values("pk")[:1]),
            last_decision_recommendation=Subquery(last_decision.values("recommendation_id")[:1]),
            last_decision_kind=Subquery(last_decision.values("kind")[:1]),
            last_decision_review_on=Subquery(last_decision.values("review_on")[:1]),
            current_therapy_atc=Subquery(on_therapy.order_by("-started_on", "-id").values("drug_atc")[:1]),
            current_therapy_count=Subquery(on_therapy.order_by().values("patient")
                                           .annotate(n=Count("id")).values("n")[:1]),
            # The latest start or stop: when the therapy last changed.
            last_change=Greatest(
                Subquery(therapies.annotate(d=Max("started_on")).values("d")[:1]),
                Coalesce(Subquery(therapies.annotate(d=Max("stopped_on")).values("d")[:1]),
                         Subquery(therapies.annotate(d=Max("started_on")).values("d")[:1])),
            ),
        )
        .annotate(
            # The same rules as recommendations.selectors.recommendation_status, as SQL.
            recommendation_status=Case(
                When(latest_visit_id__isnull=True, then=Value("")),
                When(latest_job_status__in=[JobStatus.PENDING, JobStatus.RUNNING], then=Value("pending")),
                When(current_recommendation_status="ready", then=Value("ready")),
                When(current_recommendation_status="no_active_model", then=Value("no_active_model")),
                When(latest_job_status=JobStatus.FAILED, then=Value("failed")),
                default=Value("pending"),
                output_field=CharField(),
            ),
            decision_status=Case(
                When(current_recommendation_id__isnull=True, then=Value("")),
                When(last_decision_recommendation__isnull=True, then=Value("pending")),
                When(~Q(last_decision_recommendation=F("current_recommendation_id")), then=Value("new_ranking")),
                When(last_decision_kind="defer", last_decision_review_on__lte=today, then=Value("review_due")),
                When(last_decision_kind="defer", then=Value("deferred")),
                default=Value("decided"),
                output_field=CharField(),
            ),
            latest_disease_label=_label_case("latest_disease", dict(Disease.choices), ""),
            current_therapy_name=_label_case("current_therapy_atc", {d.atc: d.name for d in DRUGS}, ""),
            activity_target=Case(
                *(When(latest_disease=disease, latest_activity_category__in=labels, then=Value("at"))
                  for disease, labels in TARGET_LABELS.items()),
                *(When(latest_disease=disease, latest_activity_category__isnull=False,
                       then=Value("above")) for disease in TARGET_LABELS),
                default=Value("none"), output_field=CharField(),
            ),
            activity_rank=_label_case("latest_activity_category",
                                      {label: i for i, label in enumerate(SEVERITY_ORDER)}, len(SEVERITY_ORDER)),
        )
        .annotate(decision_rank=_label_case("decision_status",
                                            {key: i for i, (key, _) in enumerate(DECISION_STATUSES)},
                                            len(DECISION_STATUSES)))
    )
    # Exists() rather than joins: no duplicate rows, so no DISTINCT over the annotations.
    if disease:
        qs = qs.filter(Exists(Diagnosis.objects.filter(patient=OuterRef("pk"), disease=disease)))
    if site:
        qs = qs.filter(site__code=site)
    if query.strip():
        qs = qs.filter(Exists(PatientIdentifier.objects.filter(patient=OuterRef("pk"),
                                                               value__icontains=query.strip())))
    if therapy == "none":
        qs = qs.filter(current_therapy_atc__isnull=True)
    elif therapy:
        qs = qs.filter(Exists(TherapyExposure.objects.filter(patient=OuterRef("pk"), stopped_on__isnull=True,
                                                             drug_atc=therapy)))
    if activity in dict(ACTIVITY_FILTERS):
        qs = qs.filter(activity_target=activity)
    if decision in dict(DECISION_STATUSES):
        qs = qs.filter(decision_status=decision)
    order = LIST_SORTS.get(sort, LIST_SORTS["recent"])[1]
    if sort == "therapy":
        # Patients on no therapy last, not first.
        none_last = Case(When(current_therapy_atc__isnull=True, then=Value(1)), default=Value(0),
                         output_field=IntegerField())
        return qs.order_by(none_last, *order)
    if sort == "change":
        return qs.order_by(F("last_change").asc(nulls_last=True), *order[1:])
    return qs.order_by(*order)


def patient_page(patient: Patient, *, today: dt.date) -> dict:
    """The patient page: the record, the activity chart, the latest visit's recommendation with a SHAP
    waterfall per drug, and the decisions recorded so far."""
    record = patient_record(patient)
    latest = record["latest_visit"]
    recommendation = _recommendation(latest, record["therapies"])
    if recommendation and recommendation.get("drugs"):
        for drug in recommendation["drugs"]:
            drug["waterfall"] = waterfall(drug, recommendation["base_value"])
    diagnosis = diagnosis_of(record["diagnoses"], latest)
    state = patient_state(patient, on=today)
    drugs = (recommendation or {}).get("drugs", [])
    # The ranking's groups (recommendations.scoring._rank): drugs to start, then outside their licence, then
    # contraindicated, then the patient's current therapies.
    contraindicated = [d for d in drugs if d["group"] == "contraindicated"]
    not_licensed = [d for d in drugs if d["group"] == "not_licensed"]
    current_lines, past_lines = therapy_lines(state)
    flow_visits, flow_rows = flowsheet(record["visits"], disease=diagnosis.disease if diagnosis else None)
    return {
        **record,
        "ehr_id": record["identifiers"][0].value if record["identifiers"] else str(patient.pk)[:8],
        "age": patient.age_on(today),
        "diagnosis": diagnosis,
        # The header and every rule read the same MS course: the state's.
        "ms_course": state.values["ms_course"] if "ms_course" in state.values else None,
        "duration_years": years_between(diagnosis.diagnosed_on, today) if diagnosis else None,
        "charts": activity_charts(record["visits"], record["therapies"], today=today),
        "labs": lab_charts(record["visits"], today=today),
        "state": state,
        "state_sections": state_sections(state, disease=diagnosis.disease if diagnosis else None),
        "current_lines": current_lines,
        "past_lines": past_lines,
        "flow_visits": flow_visits,
        "flow_rows": flow_rows,
        "recommendation": recommendation,
        "current_items": [d for d in drugs if d.get("current")],
        "contraindicated": contraindicated,
        "first_contra_rank": contraindicated[0]["rank"] if contraindicated else None,
        "not_licensed": not_licensed,
        "first_unlicensed_rank": not_licensed[0]["rank"] if not_licensed else None,
        "checks_needed": sum(1 for d in drugs if d["group"] == "start" and d["check_before_starting"]),
        "decisions": decisions_for_patient(patient),
        "card_responses": card_responses_for_patient(patient),
        "current_therapies": current_lines,
    }


def current_therapies(patient: Patient, *, on: dt.date) -> list[TherapyExposure]:
    """The therapy lines the patient is on at that date, as the patient's state reads them."""
    return patient_state(patient, on=on).current_therapies


def patient_compare(patient: Patient, *, a: str, b: str) -> dict:
    """Two ranked drugs of the latest visit's recommendation side by side, with what separates them."""
    latest = patient.visits.order_by("-visit_date", "-created_at").first()
    recommendation = _recommendation(latest, list(patient.therapies.all()))
    drugs = {d["atc"]: d for d in (recommendation or {}).get("drugs", [])}
    result = {"latest_visit": latest, "recommendation": recommendation, "drugs": list(drugs.values()),
              "a": drugs.get(a), "b": drugs.get(b), "comparison": None}
    if result["a"] and result["b"] and a != b:
        base = recommendation["base_value"]
        # Narrower figures: the two stand side by side on a laptop screen, on one scale so bars compare.
        domain = waterfall_domain([result["a"], result["b"]], base)
        for drug in (result["a"], result["b"]):
            drug["waterfall"] = waterfall(drug, base, width=580, label_width=250, max_label=34, domain=domain)
        result["comparison"] = comparison(result["a"], result["b"], base)
    return result


def _recommendation(visit: Visit | None, therapies: list[TherapyExposure]) -> dict | None:
    """The visit's recommendation payload, plus the id of the recommendation it shows (for the decision form)."""
    if visit is None:
        return None
    payload = recommendation_payload(visit)
    if payload.get("created_at"):
        # The payload carries no id; created_at names the one it was built from, even if superseded since.
        created = dt.datetime.fromisoformat(payload["created_at"])
        payload["id"] = (Recommendation.objects.filter(visit=visit, created_at=created)
                         .values_list("pk", flat=True).first())
    _tier_words(payload.get("drugs", []), rankable=payload.get("rankable", True))
    for drug in payload.get("drugs", []):
        _drug_relative_words(drug, therapies, visit.visit_date)
        for flag in drug["flags"]:
            # A check's message already says what is missing or when it expired.
            checked = flag["severity"] == "check_before_starting"
            flag["recorded"] = "" if checked else _recorded_words(flag.get("evidence") or [])
    if payload.get("base_value") is not None:
        # Beside every percentage: what "response" means for this model, and the average patient's chance.
        payload["baseline_pct"] = round(sigmoid(payload["base_value"]) * 100)
        payload["outcome_short"] = (payload["model_version"].get("outcome") or "as the model card defines it").rstrip(".")
    return payload


def _tier_words(drugs: list[dict], *, rankable: bool) -> None:
    """What the page shows of intervals and tiers: the interval in whole percent, the position in the list (the
    tier: drugs of one tier share it, "similar" rather than an order), and the other drugs of the tier."""
    by_tier: dict[int, list[str]] = {}
    for d in drugs:
        if d.get("tier") is not None:
            by_tier.setdefault(d["tier"], []).append(d["name"])
    for d in drugs:
        interval = d.get("interval")
        d["interval_pct"] = (interval["low"] * 100, interval["high"] * 100) if interval else None
        d["interval_width"] = max(interval["high"] - interval["low"], 0.005) * 100 if interval else None
        shared = [name for name in by_tier.get(d.get("tier"), []) if name != d["name"]]
        d["similar_to"] = shared if rankable else []
        d["position"] = d["tier"] if d.get("tier") is not None else d["rank"]


def _recorded_words(evidence: list[dict]) -> str:
    """'heart failure (NYHA class) recorded 29 Nov 2026' for the values a flag rests on."""
    parts = []
    for e in evidence:
        if e.get("recorded_on"):
            day = dt.date.fromisoformat(e["recorded_on"])
            parts.append(f"{dictionary.label(e['variable'])} recorded {day:%-d %b %Y}")
    return "; ".join(parts)


def _drug_relative_words(drug: dict, therapies: list[TherapyExposure], on: dt.date) -> None:
    """Say 'Same drug class failed before: no' rather than 'not recorded' for a feature computed per drug.

    Recommendation.features keeps the patient's values only; the drug-relative
    ones were computed for each candidate from the therapy history, as here.
    """
    var = dictionary.BY_NAME["prior_same_class_failure"]
    for row in drug["shap"]:
        if row["feature"] == var.name and row["value"] is None:
            row["value"] = same_class_failed(therapies, BY_ATC[drug["atc"]], on)
            row["text"] = var.describe(row["value"])
