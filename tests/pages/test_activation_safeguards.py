"""Activating a model version: a worse candidate needs a typed reason, and the confirmation counts the patients
whose top suggestion would change, computed by scoring their latest visits with the candidate."""

import pytest

from clinnova.audit import Actor
from clinnova.models import AuditEvent
from recommendations.jobs import jobs_run_pending
from recommendations.models import ModelStatus, Recommendation, RecommendationItem
from recommendations.registry import ReasonRequired, latest_visits, model_version_activate
from recommendations.safeguards import top_changes, worse_figures
from tests.conftest import model_version_install
from tests.pages.conftest import ra_visit


def _worse_candidate():
    candidate = model_version_install("rheumatoid_arthritis", status="validated", version=2)
    metrics = candidate.manifest["metrics"]["test"]
    metrics["auc"] = round(metrics["auc"] - 0.05, 4)
    metrics["brier"] = round(metrics["brier"] + 0.01, 4)
    candidate.save(update_fields=["manifest"])
    return candidate


def test_a_candidate_worse_on_any_figure_is_named_worse_on_it(ra_model):
    assert worse_figures(_worse_candidate(), ra_model) == ["AUC", "Brier score"]
    same = model_version_install("rheumatoid_arthritis", status="validated", version=3)
    assert worse_figures(same, ra_model) == []


def test_a_candidate_worse_on_the_ranking_report_is_named_worse_on_it(ra_model):
    active_report = ra_model.manifest["metrics"].get("x_evaluation")
    if active_report is None:  # an older active package: give it a report to compare against
        active_report = {"gain_captured": 0.7, "mean_regret": 0.005, "top_agreement": 0.95,
                         "per_drug": {"L04AB04": {"calibration_slope": 1.02}}}
        ra_model.manifest["metrics"]["x_evaluation"] = active_report
        ra_model.save(update_fields=["manifest"])
    candidate = model_version_install("rheumatoid_arthritis", status="validated", version=2)
    report = dict(active_report)
    report.update(gain_captured=active_report["gain_captured"] - 0.2,
                  mean_regret=active_report["mean_regret"] + 0.01,
                  top_agreement=active_report["top_agreement"] - 0.1,
                  per_drug={"L04AB04": {"calibration_slope": 1.4}})
    candidate.manifest["metrics"]["x_evaluation"] = report
    candidate.save(update_fields=["manifest"])
    assert worse_figures(candidate, ra_model) == ["Gain captured", "Mean regret", "Top-suggestion agreement",
                                                  "Worst per-drug calibration slope"]


def test_a_worse_candidate_is_not_activated_without_a_reason(ra_model, mia):
    candidate = _worse_candidate()
    with pytest.raises(ReasonRequired, match="worse than the active version 1 on AUC and Brier score"):
        model_version_activate(version=candidate, actor=Actor(user=mia), reason="too short")
    candidate.refresh_from_db()
    assert candidate.status == ModelStatus.VALIDATED and not AuditEvent.objects.filter(action="model_activate")


def test_the_reason_is_kept_in_the_audit_trail_with_the_figures(ra_model, mia):
    candidate = _worse_candidate()
    model_version_activate(version=candidate, actor=Actor(user=mia),
                           reason="Recalibrated on the 2026 cohort; the AUC drop lies within its interval.")
    event = AuditEvent.objects.get(action="model_activate")
    assert event.detail["worse_on"] == ["AUC", "Brier score"]
    assert event.detail["activation_reason"].startswith("Recalibrated on the 2026 cohort")


def test_the_confirmation_page_warns_and_asks_for_the_reason_at_its_field(mia_client, ra_model, scored_patient):
    candidate = _worse_candidate()
    page = mia_client.get(f"/models/{candidate.pk}/activate/").content.decode()
    assert "Version 2 is worse than the active version 1" in page and "<strong>AUC, Brier score</strong>" in page
    assert 'name="reason"' in page
    refused = mia_client.post(f"/models/{candidate.pk}/activate/", {"reason": ""})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert body.index('id="reason-error"') > body.index('id="id_reason"')
    candidate.refresh_from_db()
    assert candidate.status == ModelStatus.VALIDATED
    done = mia_client.post(f"/models/{candidate.pk}/activate/",
                           {"reason": "Needed for the site's recalibration study, reviewed by the board."})
    assert done.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == ModelStatus.ACTIVE


def test_the_api_answers_422_naming_the_reason_field(mia_client, ra_model):
    candidate = _worse_candidate()
    response = mia_client.post(f"/api/v1/model-versions/{candidate.pk}/activate")
    assert response.status_code == 422 and response.json()["code"] == "reason_required"
    assert response.json()["errors"][0]["field"] == "reason"


def test_the_preview_counts_top_suggestions_that_would_change(mia_client, ra_model, site_lu):
    visits = [ra_visit(site_lu, ref=f"LU-{i}", tender_joint_count_28=i * 3, crp=2.0 + i * 9, esr=10 + i * 8)
              for i in range(4)]
    jobs_run_pending()
    candidate = model_version_install("rheumatoid_arthritis", status="validated", version=2)
    ids = [v.pk for v in latest_visits("rheumatoid_arthritis")]
    same = top_changes(candidate, ids)
    assert (same.patients, same.scored, same.changed, same.without_ranking) == (4, 4, 0, 0)

    # The ranking shown now for one patient puts another drug first: the candidate's top differs from it.
    rec = Recommendation.objects.get(visit=visits[0], superseded_at__isnull=True)
    first, second = rec.items.order_by("rank")[:2]
    RecommendationItem.objects.filter(pk=first.pk).update(rank=99)
    RecommendationItem.objects.filter(pk=second.pk).update(rank=1)
    assert top_changes(candidate, ids).changed == 1
    page = mia_client.get(f"/models/{candidate.pk}/activate/").content.decode()
    assert "<strong>1 of 4 patients</strong> would get another top suggestion" in page


def test_the_preview_ranks_as_the_scoring_does(mia, ra_model, site_lu, django_capture_on_commit_callbacks):
    from recommendations.safeguards import _top_drugs
    from recommendations.scoring import model_load, visits_for_scoring

    for i in range(5):
        ra_visit(site_lu, ref=f"LU-S{i}", tender_joint_count_28=2 + i * 4, crp=1.0 + i * 12, esr=6 + i * 9)
    candidate = model_version_install("rheumatoid_arthritis", status="validated", version=2)
    visits = visits_for_scoring([v.pk for v in latest_visits("rheumatoid_arthritis")])
    predicted = dict(zip([v.pk for v in visits], _top_drugs(model_load(candidate), visits)))
    with django_capture_on_commit_callbacks(execute=True):
        model_version_activate(version=candidate, actor=Actor(user=mia))
    stored = dict(RecommendationItem.objects.filter(rank=1, recommendation__superseded_at__isnull=True)
                  .values_list("recommendation__visit_id", "drug_atc"))
    assert predicted == stored


def test_a_disease_too_large_to_preview_says_so_rather_than_guess(mia_client, ra_model, scored_patient, monkeypatch):
    from recommendations import safeguards

    monkeypatch.setattr(safeguards, "PREVIEW_MAX_PATIENTS", 0)
    candidate = model_version_install("rheumatoid_arthritis", status="validated", version=2)
    assert safeguards.top_changes(candidate, [scored_patient.visits.get().pk]) is None
    monkeypatch.setattr("recommendations.model_pages.PREVIEW_MAX_PATIENTS", 0)
    page = mia_client.get(f"/models/{candidate.pk}/activate/").content.decode()
    assert "is not computed here" in page and "would get another top suggestion" not in page


def test_the_preview_puts_first_the_drug_the_members_tier_first_as_the_stored_ranking_does(ra_model):
    """A booster's point estimate can lead by a hair where its ensemble members clearly prefer another drug: the
    stored ranking orders by tier before probability, and so must the preview."""
    import datetime as dt

    import numpy as np

    from recommendations.conditions import Facts
    from recommendations.scoring import model_load, ranked_by_probability

    model = model_load(ra_model)
    n, k = len(model.drugs), model.ensemble.size
    probs = np.full(n, 0.30)
    probs[0], probs[1] = 0.452, 0.450  # drug 0 leads by 0.2 points on the booster
    members = np.full((n, k), 0.30)
    members[0], members[1] = 0.40, 0.50  # every member puts drug 1 ahead by 10 points
    facts = Facts(on=dt.date(2026, 11, 1), values={}, disease="rheumatoid_arthritis")
    ranked = ranked_by_probability(model, probs, facts=facts, members=members)
    assert ranked[0]["drug_atc"] == model.drugs[1] and ranked[0]["tier"] == 1 and ranked[0]["top_suggestion"]
    # Without the minimum data set there are no tiers: the point estimate orders.
    unranked = ranked_by_probability(model, probs, facts=facts, members=members, rankable=False)
    assert unranked[0]["drug_atc"] == model.drugs[0] and not unranked[0]["top_suggestion"]
