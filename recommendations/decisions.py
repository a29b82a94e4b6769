"""Recording what a clinician decided after reading a recommendation.

The choices are those of a clinic visit: continue the current therapy, escalate
or optimise its dose, defer the decision to a date, start a ranked drug, or
start a drug of the catalogue that is not in the ranking. Starting a ranked drug
outside the first tier (the drugs the ensemble cannot tell apart; the top suggestion
where one leads with confidence), or a drug outside the ranking, needs a reason
(the override reasons of CDS Hooks), so the network can learn where the ranking
and clinical practice part ways.

A decision is only taken against the recommendation the clinician was shown: if
it was superseded meanwhile (a new visit, a new model), nothing is stored. Each
submitted form carries an idempotency key: the same form posted twice, or twice
at once, stores one decision.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from clinnova.audit import Actor, audit_record
from patients.drugs import BY_ATC, DRUGS
from patients.models import Patient
from recommendations.models import (
    CdsFeedback,
    Decision,
    DecisionKind,
    OverrideReason,
    Recommendation,
    RecommendationStatus,
)

# Any drug of the catalogue may be started outside the ranking (another disease's drug, off label).
OFF_RANKING = frozenset(d.atc for d in DRUGS)
# A deferral is a short pause before the next look, not a way to park a patient for years.
DEFER_AT_MOST = dt.timedelta(days=366)


class DecisionError(ValueError):
    """A decision that cannot be stored, in a sentence for the clinician; `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class RecommendationSuperseded(DecisionError):
    """The recommendation was replaced after the page was shown; the clinician must look at the new one."""


class _AlreadyDecided(Exception):
    def __init__(self, decision: Decision):
        super().__init__()
        self.decision = decision


@dataclass(frozen=True)
class DecisionInput:
    """What the clinician submitted; drug_atc names the drug started, continued or optimised."""

    recommendation_id: int
    kind: str
    idempotency_key: uuid.UUID
    drug_atc: str = ""
    review_on: dt.date | None = None
    reason: str = ""
    reason_text: str = ""


@dataclass(frozen=True)
class Recorded:
    decision: Decision
    created: bool  # False when this submission had already been recorded


def decision_record(*, patient: Patient, data: DecisionInput, actor: Actor, current_drugs: set[str],
                    today: dt.date) -> Recorded:
    """Store the clinician's decision for this patient's recommendation, audited in the same transaction.

    `current_drugs` are the ATC codes of the patient's active therapies (what
    "continue" and "optimise" may name). Raises RecommendationSuperseded when
    the recommendation is no longer the current one and DecisionError when the
    input does not make a decision; then nothing is stored. A second post of the
    same form returns the decision its first post stored.
    """
    already = _already_recorded(patient, data.idempotency_key)
    if already is not None:
        return Recorded(already, created=False)
    try:
        with transaction.atomic():
            decision = _record(patient=patient, data=data, actor=actor, current_drugs=current_drugs, today=today)
    except _AlreadyDecided as exc:
        return Recorded(exc.decision, created=False)
    except IntegrityError:
        # A parallel post of the same form won the unique key; this one stores nothing.
        already = _already_recorded(patient, data.idempotency_key)
        if already is None:
            raise
        return Recorded(already, created=False)
    return Recorded(decision, created=True)


def _already_recorded(patient: Patient, key: uuid.UUID) -> Decision | None:
    return Decision.objects.filter(idempotency_key=key, visit__patient=patient).first()


def _record(*, patient: Patient, data: DecisionInput, actor: Actor, current_drugs: set[str],
            today: dt.date) -> Decision:
    # The row lock orders this against a re-scoring that would supersede it at the same moment
    # (only the recommendation's row: not the visit and site rows joined for reading).
    rec = (
        Recommendation.objects.select_for_update(of=("self",))
        .select_related("visit__site")
        .filter(pk=data.recommendation_id, visit__patient=patient)
        .first()
    )
    if rec is None or rec.status != RecommendationStatus.READY:
        raise DecisionError("There is no ranking of this patient's therapies to decide on.")
    if rec.superseded_at is not None:
        raise RecommendationSuperseded(
            "The ranking changed while you were deciding (new visit data or a new model version). "
            "Nothing was recorded: read the updated ranking and record your decision again.")
    items = _decision_items(rec)
    # The drugs to start: a current therapy is ranked with them (after them) but is continued, not started.
    ranks = {atc: rank for atc, rank, current, *_ in items if not current}
    fields = _checked(data, ranks=ranks, leading=_leading(items, rankable=rec.rankable),
                      current_drugs=current_drugs | {atc for atc, _, current, *_ in items if current}, today=today)
    # The same decision by the same clinician on the same ranking, posted again from another tab (a new key):
    # the row lock above makes the later posts wait, then find it.
    same = Decision.objects.filter(recommendation=rec, decided_by=actor.user, kind=data.kind,
                                   drug_atc=fields["drug_atc"]).first()
    if same is not None:
        raise _AlreadyDecided(same)
    decision = Decision.objects.create(
        recommendation=rec, visit=rec.visit, model_version_id=rec.model_version_id, kind=data.kind,
        idempotency_key=data.idempotency_key, decided_by=actor.user, **fields,
    )
    audit_record(actor=actor, action="decision_record", obj=decision, patient_id=patient.pk,
                 site_code=rec.visit.site.code,
                 detail={"recommendation": rec.pk, "visit": str(rec.visit_id), "kind": data.kind,
                         "drug_atc": decision.drug_atc, "was_top": decision.was_top, "reason": decision.reason,
                         "review_on": decision.review_on.isoformat() if decision.review_on else "",
                         "model_version": rec.model_version_id})
    return decision


@dataclass(frozen=True)
class Leading:
    """The drugs a clinician may start without an override reason, and the top suggestion if there is one."""

    drugs: frozenset[str]
    top: str | None


def _decision_items(rec: Recommendation) -> list[tuple]:
    return list(rec.items.values_list("drug_atc", "rank", "current", "tier", "top_suggestion", "probability_low"))


def leading_drugs(rec: Recommendation) -> Leading:
    """The drugs of this ranking a clinician may start without an override reason (see _leading)."""
    return _leading(_decision_items(rec), rankable=rec.rankable)


def _leading(items: list[tuple], *, rankable: bool) -> Leading:
    """What the page showed as the head of the ranking (recommendations.tiers): with a bootstrap ensemble, the
    first tier, whose drugs the ensemble cannot tell apart, and the top suggestion only where one beats the rest;
    a ranking without its minimum data set shows no order, so no choice among its drugs overrides it. A model
    version without an ensemble has no tiers: its rank 1 is the top suggestion, as before."""
    to_start = [(atc, rank, tier, top, low) for atc, rank, current, tier, top, low in items if not current]
    if not to_start:
        return Leading(frozenset(), None)
    if all(low is None for *_, low in to_start):
        first = min(to_start, key=lambda it: it[1])[0]
        return Leading(frozenset({first}), first)
    if not rankable:
        return Leading(frozenset(atc for atc, *_ in to_start), None)
    top = next((atc for atc, _, _, is_top, _ in to_start if is_top), None)
    return Leading(frozenset(atc for atc, _, tier, *_ in to_start if tier == 1), top)


def _checked(data: DecisionInput, *, ranks: dict[str, int], leading: Leading, current_drugs: set[str],
             today: dt.date) -> dict:
    """The decision's stored fields, or a DecisionError naming the field that does not fit its kind."""
    reason_text = (data.reason_text or "").strip()[:2000]
    reason = data.reason
    if reason and reason not in OverrideReason.values:
        raise DecisionError(f"“{reason}” is not a reason this form offers; choose one from the list.", field="reason")
    if reason == OverrideReason.OTHER and not reason_text:
        raise DecisionError("Describe the reason in a few words.", field="reason_text")
    out = {"drug_atc": "", "was_top": False, "review_on": None, "reason": reason, "reason_text": reason_text}
    kind = data.kind
    if kind in (DecisionKind.CONTINUE, DecisionKind.OPTIMISE):
        if data.drug_atc not in current_drugs:
            raise DecisionError("Choose one of the current therapies of this patient.", field="choice")
        out["drug_atc"] = data.drug_atc
    elif kind == DecisionKind.DEFER:
        if data.review_on is None:
            raise DecisionError("Give the date on which you will decide.", field="review_on")
        if not today < data.review_on <= today + DEFER_AT_MOST:
            raise DecisionError(f"The review date {data.review_on:%-d %b %Y} must lie after today and at most "
                                "a year ahead.", field="review_on")
        out["review_on"] = data.review_on
    elif kind == DecisionKind.START_RANKED:
        if data.drug_atc in current_drugs:
            raise DecisionError(f"{BY_ATC[data.drug_atc].name} is a current therapy: continue or optimise it.",
                                field="choice")
        if data.drug_atc not in ranks:
            raise DecisionError("Choose one of the ranked drugs.", field="choice")
        out["drug_atc"] = data.drug_atc
        # was_top: not an override. The drug headed the ranking as shown: the top suggestion, or a drug of the
        # first tier when no drug led, or any drug of a ranking shown without an order.
        out["was_top"] = data.drug_atc in leading.drugs
        if out["was_top"]:
            out["reason"], out["reason_text"] = "", reason_text
        elif not reason:
            name = BY_ATC[data.drug_atc].name
            if leading.top:
                message = f"Say why you chose {name} over the top suggestion."
            elif leading.drugs:
                message = f"Say why you chose {name} over the drugs of the first tier."
            else:
                message = f"Say why you chose {name}: every ranked drug is contraindicated for this patient."
            raise DecisionError(message, field="reason")
    elif kind == DecisionKind.START_OTHER:
        if data.drug_atc not in OFF_RANKING or data.drug_atc in ranks:
            raise DecisionError("Choose a drug of the catalogue that is not in the ranking.", field="other_drug")
        if not reason:
            raise DecisionError(f"Say why you chose {BY_ATC[data.drug_atc].name}, which is not in the ranking.",
                                field="reason")
        out["drug_atc"] = data.drug_atc
    else:
        raise DecisionError("Choose what you decided.", field="choice")
    return out


def decisions_for_patient(patient: Patient) -> list[Decision]:
    """The patient's recorded decisions, newest first, in one query."""
    return list(
        Decision.objects.filter(visit__patient=patient)
        .select_related("decided_by", "model_version", "visit")
        .defer("model_version__package")
        .order_by("-decided_at")
    )


def card_responses_for_patient(patient: Patient) -> list[CdsFeedback]:
    """What clinicians did in the EHR with the CDS Hooks cards issued for this patient (accepted or overridden,
    and why), newest first, each with its card, in one query."""
    return list(
        CdsFeedback.objects.filter(issued_card__patient=patient)
        .select_related("issued_card__model_version", "issued_card__visit", "client")
        .defer("issued_card__model_version__package", "client__jwks")
        .order_by("-outcome_at")
    )

