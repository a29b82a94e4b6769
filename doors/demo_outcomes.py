"""Outcomes for the synthetic demo network: decision visits, recorded decisions and follow-up visits.

Separate patients from the demo history (references `<site>-<disease>-O0001`): each has a visit where a
therapy is chosen (scored by the active model like any visit, then a decision by the site's demo
clinician) and follow-up visits at the outcome horizon whose values reflect a response drawn from the
same published effects that generate the training cohort (recommendations.cohort_effects), not from the
model. The outcome itself is then derived from those visits by recommendations.outcomes, as for real
patients. Seeded and idempotent; every value invented.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid

import numpy as np
from django.contrib.auth import get_user_model

from clinnova.audit import Actor
from doors import demo
from patients.dictionary import BY_NAME, MS, RA, Disease
from patients.drugs import BY_ATC
from patients.models import Visit, VisitSource
from patients.services import PatientInput, TherapyInput, VisitDraft, visit_ingest
from recommendations.cohort import HETEROGENEITY_SD
from recommendations.cohort_effects import BASE_RATE, effects_for
from recommendations.decisions import DecisionInput, decision_record, leading_drugs
from recommendations.features import FAILED_CLASSES_KEY
from recommendations.jobs import dispatch_deferred, jobs_run_pending
from recommendations.models import DecisionKind, OverrideReason, Recommendation, RecommendationStatus
from recommendations.outcomes import OUTCOME_DEFINITIONS, outcomes_derive

SYSTEM = f"{demo.DEMO_SYSTEM}:outcomes"
# Clinicians start the top suggestion about two times in three; the rest is overridden with a reason.
FOLLOW_SHARE = 0.68
# A few patients miss their follow-up: their outcome stays unknown, as in any registry.
LOST_TO_FOLLOW_UP = 0.08


def true_response_probability(rng: random.Random, *, disease: str, atc: str, features: dict) -> float:
    """The demo's truth for one patient and drug: the cohort's base rate and literature effects, with noise.

    A feature that was not recorded contributes nothing (its effect term is taken at the reference value).
    """
    base = BASE_RATE[(disease, atc)]
    logit = math.log(base / (1 - base)) + rng.gauss(0, HETEROGENEITY_SD)
    failed = set(features.get(FAILED_CLASSES_KEY) or ())
    for effect in effects_for(disease=disease, drug=BY_ATC[atc]):
        if effect.feature == "prior_same_class_failure":
            value = 1.0 if BY_ATC[atc].drug_class in failed else 0.0
        else:
            value = BY_NAME[effect.feature].encode(features.get(effect.feature))
        if not math.isnan(value):
            logit += effect.log_odds * float(effect.term(np.array([value]))[0])
    return 1 / (1 + math.exp(-logit))


def demo_outcomes_load(*, patients_per_site_and_disease: int, seed: int, today: dt.date,
                       sites: list[str] | None = None, diseases: list[str] | None = None) -> int:
    """Create the outcome patients of the given sites and diseases (all by default); returns the visits created."""
    codes = sites or [code for code, _, _ in demo.SITES]
    site_rows = demo._sites_ensure(codes)
    existing = set(Visit.objects.filter(source_system=SYSTEM).values_list("source_id", flat=True))
    plans = []
    with dispatch_deferred():
        for code in codes:
            for disease in diseases or Disease.values:
                for n in range(1, patients_per_site_and_disease + 1):
                    ref = f"{code}-{demo._short(disease)}-O{n:04d}"
                    if f"{ref}-d" in existing:
                        continue
                    rng = random.Random(f"{seed}:{ref}")
                    plans.append(_decision_visit(rng, site_rows[code], disease, ref, today))
    jobs_run_pending()
    clinicians = {u.username: u for u in get_user_model().objects.filter(username__startswith="clinician-")}
    created = len(plans)
    with dispatch_deferred():
        for plan in plans:
            created += _decide_and_follow(plan, clinicians.get(f"clinician-{plan['site'].code.lower()}"), today)
    jobs_run_pending()
    outcomes_derive(today=today)
    return created


def _decision_visit(rng: random.Random, site, disease: str, ref: str, today: dt.date) -> dict:
    plan = decision_plan(rng, site, disease, ref, today)
    plan["visit"] = visit_ingest(site=site, disease=disease, visit_date=plan["start"],
                                 measurements=plan["baseline"], actor=demo.DEMO_ACTOR, source=VisitSource.DEMO,
                                 patient_input=plan["patient_input"], source_system=SYSTEM, source_id=f"{ref}-d")
    return plan


def decision_plan(rng: random.Random, site, disease: str, ref: str, today: dt.date, *,
                  system: str = SYSTEM, days_back: tuple[int, int] = (-60, 420)) -> dict:
    """A patient about to choose a therapy: identity, traits and the decision visit's values (nothing stored).

    The decision date lies the outcome horizon plus `days_back` days before today (the default leaves a few
    follow-ups still ahead)."""
    female = rng.random() < demo.FEMALE_SHARE[disease]
    definition = OUTCOME_DEFINITIONS[disease]
    start = today - dt.timedelta(days=definition.horizon_days + rng.randint(*days_back))
    diagnosed_on = start - dt.timedelta(days=rng.randint(200, 4000))
    age = {RA: rng.randint(30, 75), MS: rng.randint(20, 50)}.get(disease, rng.randint(18, 65))
    patient_input = PatientInput(system=f"{system}:{site.code}", value=ref, sex="female" if female else "male",
                                 birth_year=start.year - age, diagnosed_on=diagnosed_on,
                                 subtype="RRMS" if disease == MS else "")
    traits = demo._traits(rng, disease, female)
    traits["bmi"] = round(min(max(traits["bmi"], 15.0), 50.0), 1)  # the history's draw can leave the valid range
    activity = rng.uniform(0.55, 1.1)  # a therapy is chosen when the disease is active
    measurements = demo._measurements(rng, disease, activity, traits, True)
    return {"rng": rng, "site": site, "disease": disease, "ref": ref, "start": start, "traits": traits,
            "activity": activity, "baseline": measurements, "patient_input": patient_input}


def _decide_and_follow(plan: dict, clinician, today: dt.date) -> int:
    drafts = decide_and_plan_follow_ups(plan, clinician, today)
    for draft in drafts:
        visit_ingest(site=plan["site"], disease=draft.disease, visit_date=draft.visit_date,
                     measurements=draft.measurements, actor=demo.DEMO_ACTOR, source=VisitSource.DEMO,
                     patient_input=draft.patient_input, therapies=draft.therapies,
                     source_system=draft.source_system, source_id=draft.source_id)
    return len(drafts)


def decide_and_plan_follow_ups(plan: dict, clinician, today: dt.date, *, system: str = SYSTEM) -> list[VisitDraft]:
    """Record the demo clinician's decision on the decision visit's ranking (through decision_record, as a
    clinician's), draw the response to the drug started, and return the follow-up visits to store (none
    when the patient is lost to follow-up or no ranking could be decided on)."""
    rng, visit, disease = plan["rng"], plan["visit"], plan["disease"]
    rec = Recommendation.objects.filter(visit=visit, superseded_at__isnull=True,
                                        status=RecommendationStatus.READY).first()
    if rec is None or clinician is None:
        return []
    # Drugs to start: a current therapy is continued, not started.
    ranked = list(rec.items.filter(current=False).order_by("rank").values_list("drug_atc", "contraindicated"))
    if not ranked:
        return []
    allowed = [atc for atc, contraindicated in ranked if not contraindicated] or [ranked[0][0]]
    follow = rng.random() < FOLLOW_SHARE or len(allowed) == 1
    atc = ranked[0][0] if follow else rng.choice([a for a in allowed if a != ranked[0][0]] or allowed)
    # A drug the page shows at the head of the ranking needs no reason; any other start is an override.
    reason = "" if atc in leading_drugs(rec).drugs else rng.choice(
        [r for r in OverrideReason.values if r != OverrideReason.OTHER])
    decision_record(patient=visit.patient, actor=Actor(user=clinician), current_drugs=set(), today=today,
                    data=DecisionInput(recommendation_id=rec.pk, kind=DecisionKind.START_RANKED, drug_atc=atc,
                                       reason=reason, idempotency_key=uuid.UUID(int=rng.getrandbits(128))))
    responded = rng.random() < true_response_probability(rng, disease=disease, atc=atc, features=rec.features)
    if rng.random() < LOST_TO_FOLLOW_UP:
        return []
    drafts = []
    for i, days in enumerate((365, 730) if disease == MS else (182,)):
        day = visit.visit_date + dt.timedelta(days=days + rng.randint(-14, 14))
        if day >= today:
            break
        drafts.append(VisitDraft(disease=disease, visit_date=day, measurements=_follow_up(rng, plan, responded),
                                 patient_input=plan["patient_input"],
                                 therapies=[TherapyInput(drug=atc, started_on=visit.visit_date)],
                                 source_system=system, source_id=f"{plan['ref']}-f{i + 1}"))
    return drafts


def _follow_up(rng: random.Random, plan: dict, responded: bool) -> dict:
    disease = plan["disease"]
    activity = rng.uniform(0.0, 0.12) if responded else max(0.45, plan["activity"] - rng.uniform(0.0, 0.25))
    m = demo._measurements(rng, disease, activity, plan["traits"], True)
    if disease == MS and responded:
        m |= {"relapses_12m": 0, "new_t2_lesions": 0, "gd_lesions": 0, "edss": plan["baseline"]["edss"]}
    elif disease == MS:
        m["new_t2_lesions"] = max(1, m["new_t2_lesions"])
    return m
