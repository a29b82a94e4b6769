"""A demo site's treatment history: enough decided visits with known outcomes for a site to train on.

The demo outcome patients (doors.demo_outcomes) are a few dozen per site, stored one visit at a time as a
clinician would record them; a site node that takes part in federated training needs hundreds of decided
visits with outcomes, as a real registry site holds. This loader draws the same kind of patients (the same
decision visit, the same demo clinician's choice on the active model's ranking through decision_record, the
same response drawn from the published effects of recommendations.cohort_effects, the outcome then derived
from the follow-up visits by recommendations.outcomes), with every follow-up already in the past, and stores
the visits set-based through the visit service's bulk path (patients.services.visits_ingest, the one bulk
imports use), scoring the decision visits in batches and not the follow-ups (history: nobody decides on
them). Sites are of unequal size, as real ones are (SITE_SHARE). Seeded and idempotent (a patient whose
decision visit is stored is skipped); every value invented.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import transaction

from doors import demo
from doors.demo_outcomes import decide_and_plan_follow_ups, decision_plan
from patients.dictionary import Disease
from patients.models import Visit, VisitSource
from patients.services import VisitDraft, visits_ingest
from recommendations.jobs import dispatch_deferred, jobs_run_pending, scoring_held
from recommendations.outcomes import outcomes_derive

SYSTEM = f"{demo.DEMO_SYSTEM}:history"
# Each site's share of the history: as unequal as the measured network's (network.training_compare.SITE_SHARE).
SITE_SHARE = {"LU": 0.10, "FR": 0.40, "DE": 0.30, "CH": 0.20}
# Decision dates 60 days to about four years before the horizon's end: every follow-up has happened.
DAYS_BACK = (60, 1500)
CHUNK = 500


def history_sizes(total: int, codes: list[str]) -> dict[str, int]:
    """Patients per site and disease for a network total (each site its share, rounded)."""
    return {code: round(total * SITE_SHARE[code]) for code in codes}


def demo_history_load(*, total_per_disease: int, seed: int, today: dt.date, sites: list[str] | None = None,
                      diseases: list[str] | None = None) -> int:
    """Load each given site's share of `total_per_disease` history patients per disease; returns visits created."""
    codes = sites or [code for code, _, _ in demo.SITES]
    site_rows = demo._sites_ensure(codes)
    clinicians = {u.username: u for u in get_user_model().objects.filter(username__startswith="clinician-")}
    existing = set(Visit.objects.filter(source_system=SYSTEM).values_list("source_id", flat=True))
    plans = []
    for code, n in history_sizes(total_per_disease, codes).items():
        for disease in diseases or Disease.values:
            for i in range(1, n + 1):
                ref = f"{code}-{demo._short(disease)}-H{i:05d}"
                if f"{ref}-d" not in existing:
                    plans.append(decision_plan(random.Random(f"{seed}:{ref}"), site_rows[code], disease, ref, today,
                                               system=SYSTEM, days_back=DAYS_BACK))
    created = 0
    # The decision visits, scored in batches by the active models (each patient's ranking to decide on).
    with dispatch_deferred():
        created += _store(plans, lambda plan: VisitDraft(
            disease=plan["disease"], visit_date=plan["start"], measurements=plan["baseline"],
            patient_input=plan["patient_input"], source_system=SYSTEM, source_id=f"{plan['ref']}-d"), key="visit")
    jobs_run_pending()
    follow_ups = []
    for plan in plans:
        clinician = clinicians.get(f"clinician-{plan['site'].code.lower()}")
        follow_ups += [(plan["site"], d) for d in decide_and_plan_follow_ups(plan, clinician, today, system=SYSTEM)]
    with scoring_held():
        created += _store([{"site": site, "draft": d} for site, d in follow_ups], lambda item: item["draft"])
    outcomes_derive(today=today)
    return created


def _store(items: list[dict], draft_of, *, key: str | None = None) -> int:
    """Store the items' visits per site with visits_ingest, CHUNK at a time (each chunk one transaction)."""
    stored = 0
    by_site: dict = {}
    for item in items:
        by_site.setdefault(item["site"].pk, []).append(item)
    for group in by_site.values():
        for start in range(0, len(group), CHUNK):
            chunk = group[start:start + CHUNK]
            with transaction.atomic():
                results = visits_ingest(site=chunk[0]["site"], drafts=[draft_of(item) for item in chunk],
                                        actor=demo.DEMO_ACTOR, source=VisitSource.DEMO)
            for item, result in zip(chunk, results):
                if not isinstance(result, Visit):
                    raise ValueError(f"demo history visit refused: {result}")
                if key:
                    item[key] = result
                stored += 1
    return stored
