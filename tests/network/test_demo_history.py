"""The demo sites' treatment history: decided visits with outcomes derived from follow-ups, in unequal site shares."""

import datetime as dt

from django.db.models import Count

from doors.demo import demo_network_load
from doors.demo_history import SYSTEM, demo_history_load
from network.training_data import node_rows
from patients.models import Visit
from recommendations.models import Decision, OutcomeSource, OutcomeStatus, RecommendationOutcome

TODAY = dt.date(2026, 11, 30)


def test_the_history_gives_each_site_its_share_of_decided_visits_whose_outcomes_the_follow_ups_decide(all_models):
    demo_network_load(patients_per_site_and_disease=0, password="a-long-demo-password", today=TODAY)
    created = demo_history_load(total_per_disease=200, seed=2026, today=TODAY, diseases=["crohns_disease"])
    decision_visits = Visit.objects.filter(source_system=SYSTEM, source_id__endswith="-d")
    per_site = dict(decision_visits.values_list("site__code").annotate(n=Count("pk")))
    assert per_site == {"LU": 20, "FR": 80, "DE": 60, "CH": 40}
    assert created == Visit.objects.filter(source_system=SYSTEM).count() > 200
    # Every decision was the demo clinician's, on the active model's ranking of the decision visit.
    decisions = Decision.objects.filter(visit__source_system=SYSTEM)
    assert decisions.count() == 200 and not decisions.filter(decided_by=None).exists()
    outcomes = RecommendationOutcome.objects.filter(recommendation__visit__source_system=SYSTEM)
    known = outcomes.filter(status=OutcomeStatus.KNOWN)
    # Derived from the follow-up visits (none are ahead of today); those lost to follow-up stay unknown, not "no".
    assert not known.exclude(source=OutcomeSource.VISITS).exists()
    assert 0.85 * 200 <= known.count() < 200
    assert set(outcomes.exclude(status=OutcomeStatus.KNOWN).values_list("status", flat=True)) <= {"unknown"}
    assert 0.2 < known.filter(responded=True).count() / known.count() < 0.8
    # What a site trains on: its own rows, in the layout of every package.
    rows = node_rows(disease="crohns_disease", site_code="FR", seed=7)
    assert len(rows["y"]) == known.filter(recommendation__visit__site__code="FR").count()
    # A second load stores nothing new.
    assert demo_history_load(total_per_disease=200, seed=2026, today=TODAY, diseases=["crohns_disease"]) == 0
    assert Decision.objects.filter(visit__source_system=SYSTEM).count() == 200
