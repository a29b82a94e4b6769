"""The EHR records an outcome the visits cannot decide: one service behind the JSON API and FHIR Observation.

Both doors name the decision visit by the EHR's own visit id (the idempotency key of POST /api/v1/visits/, the
Encounter id of a FHIR Bundle), so a client can only ever reach the visits it sent itself.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from clinnova.audit import Actor, audit_record
from patients.models import EHRClient, IngestKey, Visit
from recommendations.models import RecommendationOutcome
from recommendations.outcomes import OutcomeError, outcome_record

__all__ = ["OutcomeError", "ehr_outcome_record", "outcome_body"]


def _key_of_client(client: EHRClient, visit_id: str, *, actor: Actor) -> IngestKey | None:
    key = None
    # An id POST would have refused (NUL, over 100 characters) was never stored, and PostgreSQL cannot compare it.
    if len(visit_id) <= 100 and "\x00" not in visit_id:
        key = (IngestKey.objects.select_related("visit", "visit__site")
               .filter(client=client, ehr_visit_id=visit_id, visit__isnull=False).first())
    if key is None:
        audit_record(actor=actor, action="access_refused", site_code=client.site.code,
                     detail={"reason": "visit not sent by this client", "visit_id": visit_id[:100]})
        return None
    return key


def ehr_outcome_record(*, client: EHRClient, visit_id: str, responded: bool, assessed_on: dt.date,
                       note: str, actor: Actor, patient: str | None = None) -> RecommendationOutcome | None:
    """None when this client never sent that visit; OutcomeError (nothing stored) when the outcome is refused.

    `patient`, when the door names one (FHIR's subject), must be the visit's: the EHR's id or Clinnova's.
    """
    key = _key_of_client(client, visit_id, actor=actor)
    if key is None:
        return None
    visit = key.visit
    if patient is not None and patient not in {str(visit.patient_id), (key.payload.get("patient") or {}).get("id")}:
        raise OutcomeError("subject", patient, f"is not the patient of visit {visit_id!r}")
    if assessed_on > timezone.localdate():
        raise OutcomeError("assessed_on", assessed_on.isoformat(), "is in the future: an outcome is recorded "
                           "once it has been assessed")
    return outcome_record(visit=visit, responded=responded, assessed_on=assessed_on, actor=actor, note=note)


def outcome_body(visit_id: str, outcome: RecommendationOutcome) -> dict:
    return {
        "visit_id": visit_id,
        "visit": str(outcome.recommendation.visit_id),
        "model_version": outcome.model_version.version if outcome.model_version else None,
        "drug": outcome.drug_atc,
        "followed": outcome.followed,
        "status": outcome.status,
        "responded": outcome.responded,
        "source": outcome.source,
        "assessed_on": outcome.evidence.get("assessed_on"),
    }
