"""Who may see which patient: a user sees the patients of the sites they belong to, nobody else's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from clinnova.audit import Actor, audit_record
from patients.models import Patient


def patients_for_user(user) -> QuerySet[Patient]:
    if not user.is_authenticated:
        return Patient.objects.none()
    return Patient.objects.filter(site__members=user)


def patient_get_for_user(user, patient_id, *, actor: Actor | None = None) -> Patient:
    """The patient if the user's sites include the patient's site; otherwise 404, and the refusal is audited.

    A patient of another site answers exactly like one that does not exist, so
    UUIDs cannot be probed.
    """
    patient = patients_for_user(user).select_related("site").filter(pk=patient_id).first()
    if patient is None:
        audit_record(
            actor=actor or Actor(user=user), action="access_refused", patient_id=_uuid_or_none(patient_id),
            detail={"reason": "patient not found at the user's sites"},
        )
        raise Http404("No such patient at your sites.")
    return patient


def _uuid_or_none(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
