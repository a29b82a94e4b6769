"""Reads of the clinical record that pages and doors share, each in a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import prefetch_related_objects

from patients.models import Diagnosis, Patient, PatientIdentifier, Visit
from patients.state import state_prefetch


def patient_record(patient: Patient) -> dict:
    """Everything the pages and the API show about the record itself, in five queries.

    The patient's visits, entries, therapies and diagnoses stay prefetched on it, so patient_state(patient)
    reads them without further queries.
    """
    prefetch_related_objects([patient], "identifiers", *state_prefetch())
    visits = sorted(patient.visits.all(), key=lambda v: (v.visit_date, v.created_at))
    return {
        "identifiers": sorted(patient.identifiers.all(), key=lambda i: i.pk),
        "diagnoses": list(patient.diagnoses.all()),
        "visits": visits,
        "therapies": sorted(patient.therapies.all(), key=lambda t: (t.started_on, t.drug_atc)),
        "latest_visit": visits[-1] if visits else None,
    }


def patient_ids_by_identifier(value: str) -> list[uuid.UUID]:
    """Every patient that some source system knows by this identifier (exact match), in one query."""
    return list(PatientIdentifier.objects.filter(value=value).values_list("patient_id", flat=True)[:50])


def visit_form_disease(patient: Patient, asked: str | None) -> tuple[str, list[str]]:
    """The disease a new visit is for (the one asked for if the patient has it, else the latest visit's),
    and the patient's diseases to choose from; "" when the patient has no diagnosis."""
    diseases = list(patient.diagnoses.order_by("diagnosed_on").values_list("disease", flat=True))
    if asked in diseases:
        return asked, diseases
    latest = patient.visits.order_by("-visit_date", "-created_at").values_list("disease", flat=True).first()
    return latest or (diseases[0] if diseases else ""), diseases


def diagnosis_of(diagnoses: list[Diagnosis], visit: Visit | None) -> Diagnosis | None:
    if visit is not None:
        match = next((d for d in diagnoses if d.disease == visit.disease), None)
        if match:
            return match
    return diagnoses[0] if diagnoses else None


def years_between(start: dt.date, end: dt.date) -> float:
    return round(max(0, (end - start).days) / 365.25, 1)
