"""Recording what a clinician decided after reading a recommendation.

A decision names the drug the clinician will start. When it is not the top
suggestion a reason is required (the override reasons of CDS Hooks), so the
network can learn where the ranking and clinical practice part ways. A decision
is only taken against the recommendation the clinician was shown: if it was
superseded meanwhile (a new visit, a new model), nothing is stored.
"""

from __future__ import annotations

from django.db import transaction

from clinnova.audit import Actor, audit_record
from patients.drugs import BY_ATC
from patients.models import Patient
from recommendations.models import Decision, OverrideReason, Recommendation, RecommendationStatus


class DecisionError(ValueError):
    """A decision that cannot be stored, in a sentence for the clinician; `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class RecommendationSuperseded(DecisionError):
    """The recommendation was replaced after the page was shown; the clinician must look at the new one."""


def decision_record(
    *,
    patient: Patient,
    recommendation_id: int,
    drug_atc: str,
    actor: Actor,
    reason: str = "",
    reason_text: str = "",
) -> Decision:
    """Store the clinician's choice for this patient's recommendation, audited in the same transaction.

    Raises RecommendationSuperseded when the recommendation is no longer the
    current one, and DecisionError when the drug is not one of its candidates
    or a reason is missing; then nothing is stored.
    """
    reason_text = (reason_text or "").strip()
    with transaction.atomic():
        # The row lock orders this against a re-scoring that would supersede it at the same moment
        # (only the recommendation's row: not the visit and site rows joined for reading).
        rec = (
            Recommendation.objects.select_for_update(of=("self",))
            .select_related("visit__site")
            .filter(pk=recommendation_id, visit__patient=patient)
            .first()
        )
        if rec is None or rec.status != RecommendationStatus.READY:
            raise DecisionError("There is no ranking of this patient's therapies to decide on.")
        if rec.superseded_at is not None:
            raise RecommendationSuperseded(
                "The ranking changed while you were deciding (new visit data or a new model version). "
                "Nothing was recorded: read the updated ranking and record your decision again.")
        ranks = dict(rec.items.values_list("drug_atc", "rank"))
        if drug_atc not in ranks:
            raise DecisionError("Choose one of the ranked drugs.", field="drug_atc")
        # The same choice posted again (a double click, four tabs at once) is the decision already stored: the row
        # lock above makes the later posts wait and then find it.
        same = Decision.objects.filter(recommendation=rec, decided_by=actor.user, drug_atc=drug_atc).first()
        if same is not None:
            return same
        was_top = ranks[drug_atc] == min(ranks.values())
        if was_top:
            reason = ""
        elif reason not in OverrideReason.values:
            raise DecisionError(f"Say why you chose {BY_ATC[drug_atc].name} over the top suggestion.", field="reason")
        elif reason == OverrideReason.OTHER and not reason_text:
            raise DecisionError("Describe the reason in a few words.", field="reason_text")
        decision = Decision.objects.create(
            recommendation=rec, visit=rec.visit, model_version_id=rec.model_version_id, drug_atc=drug_atc,
            was_top=was_top, reason=reason, reason_text=reason_text[:2000], decided_by=actor.user,
        )
        audit_record(actor=actor, action="decision_record", obj=decision, patient_id=patient.pk,
                     site_code=rec.visit.site.code,
                     detail={"recommendation": rec.pk, "visit": str(rec.visit_id), "drug_atc": drug_atc,
                             "was_top": was_top, "reason": reason, "model_version": rec.model_version_id})
    return decision


def decisions_for_patient(patient: Patient) -> list[Decision]:
    """The patient's recorded decisions, newest first, in one query."""
    return list(
        Decision.objects.filter(visit__patient=patient)
        .select_related("decided_by", "model_version", "visit")
        .defer("model_version__package")
        .order_by("-decided_at")
    )
