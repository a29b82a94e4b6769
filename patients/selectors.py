"""Reads of the clinical record that pages and doors share, each in a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from django.db.models import Q, prefetch_related_objects

from patients.models import Diagnosis, EHRClient, Patient, PatientIdentifier, PatientReference, Visit
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


def patient_for_client(*, clients: Sequence[EHRClient], patient_id: str | None = None,
                       identifier: tuple[str, str] | None = None) -> Patient | None:
    """The one patient of the clients' site that these EHR clients name so, in one query; None when there is none
    or the name is ambiguous (a wrong patient is worse than no patient).

    `patient_id` is how an EHR names a patient in FHIR and CDS Hooks (`context.patientId`): the Patient.id the client
    sent, its own patient id (an identifier in the client's identifier system, the JSON door's `patient.id`), or
    Clinnova's patient UUID. `identifier` is (system, value) as the client sent it in Patient.identifier, or in its
    own identifier system. Another client's ids, and another system's identifier with the same value, never match.
    """
    clients = [c for c in clients if c.revoked_at is None]
    if not clients or (patient_id is None) == (identifier is None):
        return None
    sites = {c.site_id for c in clients}
    if len(sites) != 1:
        raise ValueError("the clients of one lookup must belong to one site")
    own_systems = [c.identifier_system for c in clients]
    if patient_id is not None:
        patient_id = patient_id.removeprefix("Patient/") if isinstance(patient_id, str) else patient_id
        if not _reference_value_ok(patient_id):
            return None
        match = (Q(references__client__in=clients, references__kind=PatientReference.Kind.FHIR_ID,
                   references__value=patient_id)
                 | Q(identifiers__system__in=own_systems, identifiers__value=patient_id))
        try:
            match |= Q(pk=uuid.UUID(patient_id))
        except ValueError:
            pass
    else:
        system, value = identifier
        if not system or not _reference_value_ok(value) or len(system) > 200 or "\x00" in system:
            return None
        match = Q(references__client__in=clients, references__kind=PatientReference.Kind.IDENTIFIER,
                  references__system=system, references__value=value)
        if system in own_systems:
            match |= Q(identifiers__system=system, identifiers__value=value)
    found = list(Patient.objects.filter(match, site_id=sites.pop()).distinct()[:2])
    return found[0] if len(found) == 1 else None


def _reference_value_ok(value: str) -> bool:
    # No identifier or FHIR id is that long; PostgreSQL refuses NUL.
    return isinstance(value, str) and 0 < len(value) <= 100 and "\x00" not in value


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
