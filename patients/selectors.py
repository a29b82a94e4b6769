"""Reads that pages and the API share, each in a bounded number of queries."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from patients.access import patients_for_user
from patients.models import Diagnosis, Patient, PatientIdentifier, Visit


def patient_list(*, user, disease: str = "", site: str = "", query: str = "") -> QuerySet[Patient]:
    """The user's patients with their latest visit's date and activity annotated."""
    latest = Visit.objects.filter(patient=OuterRef("pk")).order_by("-visit_date", "-created_at")
    qs = (
        patients_for_user(user)
        .select_related("site")
        .annotate(
            latest_visit_id=Subquery(latest.values("id")[:1]),
            latest_visit_date=Subquery(latest.values("visit_date")[:1]),
            latest_disease=Subquery(latest.values("disease")[:1]),
            latest_activity=Subquery(latest.values("activity_score")[:1]),
            latest_activity_label=Subquery(latest.values("activity_label")[:1]),
            latest_activity_category=Subquery(latest.values("activity_category")[:1]),
        )
        .prefetch_related(Prefetch("identifiers", queryset=PatientIdentifier.objects.order_by("id")),
                          Prefetch("diagnoses", queryset=Diagnosis.objects.order_by("diagnosed_on")))
        .order_by("-latest_visit_date", "id")
    )
    if disease:
        qs = qs.filter(diagnoses__disease=disease)
    if site:
        qs = qs.filter(site__code=site)
    if query:
        qs = qs.filter(identifiers__value__icontains=query.strip())
    return qs.distinct()


def patient_record(patient: Patient) -> dict:
    """Everything the patient page shows about the record itself, in four queries."""
    visits = list(patient.visits.order_by("visit_date", "created_at"))
    return {
        "identifiers": list(patient.identifiers.all()),
        "diagnoses": list(patient.diagnoses.all()),
        "visits": visits,
        "therapies": list(patient.therapies.order_by("started_on")),
        "latest_visit": visits[-1] if visits else None,
    }
