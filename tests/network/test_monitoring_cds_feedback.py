"""CDS Hooks feedback on a ranking card is a clinician's response: monitoring counts it beside decisions, once."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from clinnova.audit import Actor
from network.models import MonitoringSnapshot
from network.monitoring import monitoring_combine, site_monitoring
from network.pages import monitoring_page
from patients.services import PatientInput, visit_ingest
from recommendations.jobs import jobs_run_pending
from recommendations.models import CdsCard, CdsClient, CdsFeedback, Decision, Recommendation
from tests.conftest import RA_VISIT

KEY = "rheumatoid_arthritis:v1"


@pytest.fixture
def recommendations(site_lu, ra_model, alice):
    """Five scored visits at LU in the same month, one per patient."""
    day = timezone.localdate() - dt.timedelta(days=1)
    for i in range(5):
        visit_ingest(site=site_lu, disease="rheumatoid_arthritis", visit_date=day, measurements=dict(RA_VISIT),
                     actor=Actor(client="test"),
                     patient_input=PatientInput(system="urn:test:ehr", value=f"LU-{i:04d}", sex="female",
                                                birth_year=1960 + i, diagnosed_on=dt.date(2015, 4, 1)))
    jobs_run_pending()
    recs = list(Recommendation.objects.filter(model_version=ra_model).select_related("visit").order_by("pk"))
    assert len(recs) == 5
    client = CdsClient.objects.create(iss="https://ehr.lu-hospital.example/cds", site=site_lu, jwks={"keys": []})
    return recs, client


def card(rec, client, kind="ranking"):
    return CdsCard.objects.create(uuid=uuid.uuid4(), client=client, service_id="clinnova-therapy-ranking",
                                  patient=rec.visit.patient, visit=rec.visit, recommendation=rec,
                                  model_version=rec.model_version, kind=kind, indicator="info",
                                  drug_atc=rec.items.order_by("rank")[0].drug_atc, summary="Clinnova")


def feedback(issued, outcome, *, minutes=0, code="", display=""):
    return CdsFeedback.objects.create(client=issued.client, service_id=issued.service_id, card=issued.uuid,
                                      issued_card=issued, outcome=outcome, override_code=code,
                                      override_display=display,
                                      outcome_at=timezone.now() - dt.timedelta(minutes=60 - minutes))


def decide(rec, user, *, top: bool):
    return Decision.objects.create(recommendation=rec, visit=rec.visit, model_version=rec.model_version,
                                   kind="start_ranked", drug_atc=rec.items.order_by("rank")[0].drug_atc,
                                   was_top=top, reason="" if top else "patient_preference", decided_by=user)


def month_row(summary):
    [row] = summary["models"][KEY]["months"].values()
    return row


def test_feedback_counts_as_a_response_once_per_recommendation_and_a_decision_wins(recommendations, alice):
    (a, b, c, d, e), client = recommendations
    # a: a decision (followed) and feedback overriding its ranking card: one response, the decision's.
    decide(a, alice, top=True)
    feedback(card(a, client), "overridden", display="Patient declined")
    # b: feedback only, overridden with the EHR's reason.
    feedback(card(b, client), "overridden", code="declined", display="Patient declined")
    # c: feedback only on a safety-flag card: it answers the flag, not the ranking.
    feedback(card(c, client, kind="flag"), "accepted")
    # d: two cards of the same ranking answered twice: the latest answer is the response.
    feedback(card(d, client), "overridden", minutes=1, display="Cost")
    feedback(card(d, client), "accepted", minutes=5)
    # e: no response at all.
    row = month_row(site_monitoring(site_code="LU", min_cell=1))
    assert row["recommendations"] == 5
    assert row["decisions"] == 1 and row["cds_feedback"] == 2 and row["responses"] == 3
    assert row["followed"] == 2 and row["overridden"] == 1
    assert row["override_reasons"] == {"CDS: Patient declined": 1}


def test_feedback_on_another_sites_recommendation_is_not_counted_here(recommendations, site_fr):
    (a, *_), client = recommendations
    feedback(card(a, client), "accepted")
    assert site_monitoring(site_code="FR", min_cell=1)["models"][KEY]["months"] == {}  # FR saw none of it
    assert month_row(site_monitoring(site_code="LU", min_cell=1))["cds_feedback"] == 1


def test_acceptance_on_the_monitoring_page_uses_decisions_and_feedback(recommendations, alice):
    (a, b, c, d, e), client = recommendations
    decide(a, alice, top=False)
    for rec in (b, c, d, e):
        feedback(card(rec, client), "accepted")
    summary = site_monitoring(site_code="LU", min_cell=1)
    row = month_row(summary)
    assert (row["decisions"], row["cds_feedback"], row["responses"], row["followed"]) == (1, 4, 5, 4)
    network = monitoring_combine({"LU": summary})
    assert month_row(network)["responses"] == 5
    MonitoringSnapshot.objects.create(scope="network", summary=network)
    [page_row] = monitoring_page(scope="network")["models"][0]["rows"]
    assert page_row["acceptance"] == pytest.approx(0.8) and page_row["override_rate"] == pytest.approx(0.2)
    # Outcome coverage stays a share of recorded decisions: feedback names no drug started, so no outcome.
    assert page_row["coverage"] == pytest.approx((row["outcomes_known"] or 0) / 1)


def test_one_to_four_feedback_responses_are_withheld_like_every_count(recommendations):
    (a, b, *_), client = recommendations
    feedback(card(a, client), "accepted")
    row = month_row(site_monitoring(site_code="LU"))
    assert row["cds_feedback"] is None and row["responses"] is None and row["followed"] is None
