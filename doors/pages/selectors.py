"""Reads the clinician pages share: the clinical record composed with its recommendations.

The record itself is read by patients.selectors; recommendations and decisions
by the recommendations app. Each read here runs in a bounded number of queries.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Case,
    CharField,
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)

from doors.pages.charts import activity_chart
from patients import dictionary
from patients.access import patients_for_user
from patients.dictionary import Disease
from patients.drugs import BY_ATC
from patients.history import same_class_failed
from patients.models import (
    Diagnosis,
    Patient,
    PatientIdentifier,
    TherapyExposure,
    Visit,
)
from patients.selectors import diagnosis_of, patient_record, years_between
from recommendations.decisions import decisions_for_patient
from recommendations.explanations import comparison, waterfall
from recommendations.models import JobStatus, Recommendation, ScoringJob
from recommendations.selectors import recommendation_payload


def patient_list(*, user, disease: str = "", site: str = "", query: str = "") -> QuerySet[Patient]:
    """The user's patients with their EHR id and their latest visit's date, disease, activity and
    recommendation status annotated: one query for a page of rows however many patients there are.
    """
    latest = Visit.objects.filter(patient=OuterRef("pk")).order_by("-visit_date", "-created_at")
    first_identifier = PatientIdentifier.objects.filter(patient=OuterRef("pk")).order_by("id")
    latest_job = ScoringJob.objects.filter(visit_id=OuterRef("latest_visit_id")).order_by("-created_at", "-pk")
    current = Recommendation.objects.filter(visit_id=OuterRef("latest_visit_id"), superseded_at__isnull=True)
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
            latest_disease_label=Case(*(When(latest_disease=value, then=Value(label))
                                        for value, label in Disease.choices),
                                      default=Value(""), output_field=CharField()),
        )
        .order_by("-latest_visit_date", "id")
    )
    # Exists() rather than joins: no duplicate rows, so no DISTINCT over the annotations.
    if disease:
        qs = qs.filter(Exists(Diagnosis.objects.filter(patient=OuterRef("pk"), disease=disease)))
    if site:
        qs = qs.filter(site__code=site)
    if query.strip():
        qs = qs.filter(Exists(PatientIdentifier.objects.filter(patient=OuterRef("pk"),
                                                               value__icontains=query.strip())))
    return qs


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
    contraindicated = [d for d in (recommendation or {}).get("drugs", []) if d["contraindicated"]]
    return {
        **record,
        "ehr_id": record["identifiers"][0].value if record["identifiers"] else str(patient.pk)[:8],
        "age": patient.age_on(today),
        "diagnosis": diagnosis,
        "duration_years": years_between(diagnosis.diagnosed_on, today) if diagnosis else None,
        "chart": activity_chart(record["visits"], record["therapies"], today=today),
        "recommendation": recommendation,
        "contraindicated": contraindicated,
        "first_contra_rank": contraindicated[0]["rank"] if contraindicated else None,
        "decisions": decisions_for_patient(patient),
        "current_therapies": [t for t in record["therapies"] if t.stopped_on is None],
    }


def current_therapies(patient: Patient) -> list[TherapyExposure]:
    """The therapies the patient is on (not stopped), longest-running first, in one query.

    Read from the therapy lines for now; the patient's state on a date will answer this once it exists.
    """
    return list(patient.therapies.filter(stopped_on__isnull=True).order_by("started_on", "id"))


def patient_compare(patient: Patient, *, a: str, b: str) -> dict:
    """Two ranked drugs of the latest visit's recommendation side by side, with what separates them."""
    latest = patient.visits.order_by("-visit_date", "-created_at").first()
    recommendation = _recommendation(latest, list(patient.therapies.all()))
    drugs = {d["atc"]: d for d in (recommendation or {}).get("drugs", [])}
    result = {"latest_visit": latest, "recommendation": recommendation, "drugs": list(drugs.values()),
              "a": drugs.get(a), "b": drugs.get(b), "comparison": None}
    if result["a"] and result["b"] and a != b:
        base = recommendation["base_value"]
        # Narrower figures: the two stand side by side on a laptop screen.
        for drug in (result["a"], result["b"]):
            drug["waterfall"] = waterfall(drug, base, width=580, label_width=250, max_label=34)
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
    for drug in payload.get("drugs", []):
        _drug_relative_words(drug, therapies, visit.visit_date)
    return payload


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
