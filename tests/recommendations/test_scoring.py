import datetime as dt

import numpy as np
import pytest
import shap
import xgboost as xgb

from clinnova.audit import Actor
from patients.services import PatientInput, TherapyInput, visit_ingest
from recommendations import jobs
from recommendations.features import feature_matrix
from recommendations.models import JobStatus, Recommendation, ScoringJob
from recommendations.recalibration import recalibration_coefficients
from recommendations.scoring import model_load, patient_values
from recommendations.selectors import recommendation_payload, recommendation_status
from tests.conftest import RA_VISIT

TODAY = dt.date.today()


def store_ra_visit(site, *, measurements=None, therapies=(), value="RA-1", on_commit=None):
    kwargs = dict(site=site, disease="rheumatoid_arthritis", visit_date=TODAY,
                  measurements=dict(RA_VISIT if measurements is None else measurements), actor=Actor(client="test"),
                  patient_input=PatientInput(system="urn:test", value=value, sex="female", birth_year=1965,
                                             diagnosed_on=dt.date(2012, 1, 1)),
                  therapies=list(therapies))
    with on_commit(execute=True):
        return visit_ingest(**kwargs)


def test_a_stored_visit_gets_every_candidate_ranked_with_shap(site_lu, ra_model, django_capture_on_commit_callbacks):
    visit = store_ra_visit(site_lu, on_commit=django_capture_on_commit_callbacks)
    payload = recommendation_payload(visit)
    assert payload["status"] == "ready"
    assert payload["notice"] == "Trained on synthetic data · not for clinical use"
    drugs = payload["drugs"]
    assert [d["rank"] for d in drugs] == list(range(1, len(ra_model.manifest["drugs"]) + 1))
    assert {d["atc"] for d in drugs} == set(ra_model.manifest["drugs"])
    # Tier by tier (recommendations.tiers), and by probability inside a tier.
    start = [d for d in drugs if d["group"] == "start"]
    assert [d["tier"] for d in start] == sorted(d["tier"] for d in start)
    for tier in {d["tier"] for d in start}:
        probs = [d["probability"] for d in start if d["tier"] == tier]
        assert probs == sorted(probs, reverse=True)
    assert all(0 <= d["probability"] <= 1 for d in drugs)
    crp = next(r for r in drugs[0]["shap"] if r["feature"] == "crp")
    assert crp["text"] == "CRP 14 mg/L (high; reference ≤ 5)"
    assert ScoringJob.objects.get(visit=visit).status == JobStatus.DONE


def test_the_stored_shap_values_are_what_shap_treeexplainer_gives_recalibrated(site_lu, ra_model,
                                                                               django_capture_on_commit_callbacks):
    """TreeExplainer's values times the drug's recalibration slope; the drug's shift of the base value
    (intercept + (slope − 1) · base) is in its own indicator, since one base value serves all drugs."""
    visit = store_ra_visit(site_lu, on_commit=django_capture_on_commit_callbacks)
    rec = Recommendation.objects.get(visit=visit)
    model = model_load(ra_model)
    assert model.recalibration and model.recalibration["drugs"]
    X = feature_matrix(patient_values(visit), model.features, model.drugs)
    explainer = shap.TreeExplainer(model.booster)
    intercept, slope = recalibration_coefficients(model.recalibration, model.drugs)
    # The booster's own base value (pred_contribs' last column; TreeExplainer's expected_value is estimated
    # differently, but its values are XGBoost's): one for every drug of the visit.
    base = float(model.booster.predict(xgb.DMatrix(X), pred_contribs=True)[0, -1])
    assert rec.base_value == pytest.approx(base, abs=1e-4)
    n_f = len(model.features)
    expected = explainer.shap_values(X) * slope[:, None]
    for d in range(len(model.drugs)):
        expected[d, n_f + d] += intercept[d] + (slope[d] - 1) * base
    for item in rec.items.all():
        d = model.drugs.index(item.drug_atc)
        for col, value in item.shap_by_column(model.features).items():
            if col == "drug:*":  # the other drugs' indicator columns, summed
                others = expected[d, n_f:].sum() - expected[d, n_f + d]
                assert value == pytest.approx(float(others), abs=1e-4)
                continue
            assert value == pytest.approx(float(expected[d, model.columns.index(col)]), abs=1e-4)
        # base value + every SHAP value (the other drugs' indicators included) = the model margin
        assert rec.base_value + expected[d].sum() == pytest.approx(item.margin, abs=1e-4)
        raw = model.booster.predict(xgb.DMatrix(X[d:d + 1]), output_margin=True)[0]
        margin = intercept[d] + slope[d] * raw
        assert item.margin == pytest.approx(float(margin), abs=1e-4)
        assert item.probability == pytest.approx(1 / (1 + np.exp(-margin)), abs=1e-5)


def test_a_contraindicated_drug_stays_visible_but_ranks_after_all_others(site_lu, ra_model,
                                                                         django_capture_on_commit_callbacks):
    visit = store_ra_visit(site_lu, measurements={**RA_VISIT, "heart_failure_nyha": "III"},
                           on_commit=django_capture_on_commit_callbacks)
    drugs = recommendation_payload(visit)["drugs"]
    flagged = [d["contraindicated"] for d in drugs]
    assert any(flagged) and not all(flagged)
    assert flagged == sorted(flagged)  # every False before every True
    adalimumab = next(d for d in drugs if d["name"] == "adalimumab")
    assert adalimumab["flags"][0]["severity"] == "contraindicated"
    assert "NYHA" in adalimumab["flags"][0]["message"]
    assert "Humira (adalimumab) EU SmPC, section 4.3" in adalimumab["flags"][0]["source"]


def test_a_jak_inhibitor_is_flagged_for_an_older_smoker(site_lu, ra_model, django_capture_on_commit_callbacks):
    visit = store_ra_visit(site_lu, measurements={**RA_VISIT, "smoking_status": "current"},
                           on_commit=django_capture_on_commit_callbacks)
    tofacitinib = next(d for d in recommendation_payload(visit)["drugs"] if d["name"] == "tofacitinib")
    assert {f["rule"] for f in tofacitinib["flags"] if f["severity"] != "check_before_starting"} == {
        "jak_current_smoker"}


def test_a_drug_failed_with_primary_non_response_is_not_recommended_not_contraindicated(
        site_lu, ra_model, django_capture_on_commit_callbacks):
    visit = store_ra_visit(site_lu, therapies=[TherapyInput(drug="etanercept", started_on=dt.date(2019, 1, 1),
                                                            stopped_on=dt.date(2019, 9, 1),
                                                            outcome="primary_non_response")],
                           on_commit=django_capture_on_commit_callbacks)
    drugs = recommendation_payload(visit)["drugs"]
    etanercept = next(d for d in drugs if d["name"] == "etanercept")
    flag = next(f for f in etanercept["flags"] if f["rule"] == "primary_non_response")
    assert flag["severity"] == "not_recommended" and not etanercept["contraindicated"]
    assert "Enbrel (etanercept) EU SmPC, section 4.2" in flag["source"]


def test_missing_inputs_are_listed_and_the_ranking_called_less_certain(site_lu, ra_model,
                                                                       django_capture_on_commit_callbacks):
    sparse = {k: v for k, v in RA_VISIT.items() if k not in ("albumin", "haemoglobin", "esr")}
    visit = store_ra_visit(site_lu, measurements=sparse, on_commit=django_capture_on_commit_callbacks)
    payload = recommendation_payload(visit)
    assert payload["status"] == "ready"
    assert {"albumin", "haemoglobin"} <= {m["name"] for m in payload["missing"]}
    assert "less certain" in payload["note"]


def test_a_disease_without_an_active_model_gets_a_clear_status(site_lu, django_capture_on_commit_callbacks):
    visit = store_ra_visit(site_lu, on_commit=django_capture_on_commit_callbacks)
    payload = recommendation_payload(visit)
    assert payload["status"] == "no_active_model"
    assert payload["message"] == "No model is active for Rheumatoid arthritis."


def test_a_job_delivered_twice_is_scored_once(site_lu, ra_model):
    with jobs.dispatch_deferred():
        visit = store_ra_visit(site_lu, on_commit=lambda execute: __import__("contextlib").nullcontext())
    job = ScoringJob.objects.get(visit=visit)
    assert jobs.jobs_run([job.pk]) == 1
    assert jobs.jobs_run([job.pk]) == 0
    assert Recommendation.objects.filter(visit=visit).count() == 1


def test_a_job_that_keeps_failing_stops_after_a_bounded_number_of_attempts(site_lu, ra_model, monkeypatch):
    with jobs.dispatch_deferred():
        visit = store_ra_visit(site_lu, on_commit=lambda execute: __import__("contextlib").nullcontext())
    job = ScoringJob.objects.get(visit=visit)
    # A worker that dies mid-job leaves it running; each sweep puts it back, until attempts run out.
    for _ in range(jobs.MAX_ATTEMPTS):
        assert jobs.jobs_claim([job.pk])
        jobs.jobs_sweep(now=job.created_at + dt.timedelta(days=1), send=False)
    assert jobs.jobs_claim([job.pk]) == []
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert f"gave up after {jobs.MAX_ATTEMPTS} attempts" in job.reason
    assert recommendation_status(visit) == "failed"


def test_a_model_error_fails_the_job_with_its_reason(site_lu, ra_model, monkeypatch):
    with jobs.dispatch_deferred():
        visit = store_ra_visit(site_lu, on_commit=lambda execute: __import__("contextlib").nullcontext())
    job = ScoringJob.objects.get(visit=visit)

    def broken(_jobs):
        raise ValueError("model produced a non-finite probability for L04AB04")

    monkeypatch.setattr("recommendations.scoring.recommendations_build", broken)
    jobs.jobs_run([job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "non-finite" in job.reason


def test_the_sweep_requeues_a_visit_accepted_while_the_broker_was_down(site_lu, ra_model, monkeypatch):
    sent = []
    monkeypatch.setattr(jobs, "jobs_send", lambda job_ids, **kw: sent.extend(job_ids))
    with jobs.dispatch_deferred():
        visit = store_ra_visit(site_lu, on_commit=lambda execute: __import__("contextlib").nullcontext())
    job = ScoringJob.objects.get(visit=visit)
    assert jobs.jobs_sweep(send=True) == []  # too fresh: its message may still be on the way
    assert jobs.jobs_sweep(now=job.created_at + dt.timedelta(minutes=1), send=True) == [job.pk]
    assert sent == [job.pk]


def test_the_patient_page_shows_the_ranked_drugs_with_the_synthetic_notice(alice_client, ra_patient_lu, ra_model):
    jobs.jobs_run_pending()
    page = alice_client.get(f"/patients/{ra_patient_lu.pk}/").content.decode()
    assert "Trained on synthetic data · not for clinical use" in page
    assert "abatacept" in page and "rituximab" in page
    assert 'CRP <span class="muted small">mg/L</span></th><td>14</td>' in page  # the flowsheet


def test_a_drug_relative_input_is_explained_per_drug(site_lu, ra_model, django_capture_on_commit_callbacks):
    visit = store_ra_visit(site_lu, therapies=[TherapyInput(drug="adalimumab", started_on=dt.date(2018, 1, 1),
                                                            stopped_on=dt.date(2019, 1, 1),
                                                            outcome="secondary_loss_of_response")],
                           on_commit=django_capture_on_commit_callbacks)
    drugs = {d["name"]: d for d in recommendation_payload(visit)["drugs"]}

    def same_class(name):
        return next(r["text"] for r in drugs[name]["shap"] if r["feature"] == "prior_same_class_failure")

    assert same_class("etanercept") == "Same drug class failed before: yes"  # another anti-TNF
    assert same_class("abatacept") == "Same drug class failed before: no"
