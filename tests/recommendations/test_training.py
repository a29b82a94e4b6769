"""The shipped models: present, loadable, reproducible from their seed, and true to the effects table."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shap
import xgboost
from django.conf import settings

from patients.dictionary import Disease
from patients.drugs import candidates_for
from recommendations.cohort import Cohort, cohort_generate
from recommendations.package import package_checks, package_load, package_load_members
from recommendations.recalibration import recalibration_problem
from recommendations.training import RECALIBRATION_SEED_OFFSET, member_seed, model_train, probabilities
from recommendations.training_evaluation import package_train_validated
from recommendations.validation import TARGETS, calibration, ranking_metrics

CD, UC, RA, MS = Disease.values
VEDOLIZUMAB, ADALIMUMAB, RITUXIMAB, ABATACEPT = "L04AG05", "L04AB04", "L01FA01", "L04AA24"
NATALIZUMAB, INTERFERON = "L04AG03", "L03AB07"


def _shipped_bytes(disease: str) -> bytes:
    return (settings.PRETRAINED_DIR / f"{disease}.zip").read_bytes()


@pytest.fixture(scope="module")
def shipped() -> dict[str, tuple[dict, xgboost.Booster]]:
    return {d: package_load(_shipped_bytes(d), max_bytes=settings.MODEL_UPLOAD_MAX_BYTES) for d in Disease.values}


@pytest.fixture(scope="module")
def patients() -> dict[str, Cohort]:
    """Fresh synthetic patients (another seed than training) to ask the shipped models about."""
    return {d: cohort_generate(disease=d, n_patients=2000, seed=2024) for d in Disease.values}


def _predicted(booster: xgboost.Booster, cohort: Cohort, atc: str, **values: float) -> float:
    """Mean predicted probability if every patient took `atc`, with the given features set for everyone."""
    return float(_probabilities(booster, _rows(cohort, atc, **values)).mean())


def _rows(cohort: Cohort, atc: str, **values: float) -> np.ndarray:
    X = cohort.X.copy()
    n = len(cohort.features)
    X[:, n:] = 0.0
    X[:, n + cohort.drugs.index(atc)] = 1.0
    for name, value in values.items():
        X[:, cohort.features.index(name)] = value
    return X


def _probabilities(booster: xgboost.Booster, X: np.ndarray) -> np.ndarray:
    return booster.predict(xgboost.DMatrix(X, missing=np.nan))


# --- the shipped packages ----------------------------------------------------------


@pytest.mark.parametrize("disease", Disease.values)
def test_a_package_is_shipped_for_every_disease_and_passes_every_check(disease):
    data = _shipped_bytes(disease)
    report, manifest, booster = package_checks(data, max_bytes=settings.MODEL_UPLOAD_MAX_BYTES)
    assert all(c.passed for c in report), [c for c in report if not c.passed]
    assert manifest["disease"] == disease and booster is not None
    assert manifest["drugs"] == [d.atc for d in candidates_for(disease)]
    assert len(data) < 4 * 1024 * 1024  # the booster and its bootstrap members


@pytest.mark.parametrize("disease", Disease.values)
def test_the_shipped_manifest_reports_held_out_metrics_on_synthetic_data(shipped, disease):
    manifest, _ = shipped[disease]
    metrics, training = manifest["metrics"], manifest["training_data"]
    assert training["synthetic"] is True and training["n_patients"] == training["n_rows"] > 0
    assert 0.55 < metrics["test"]["auc"] < 0.9 and metrics["test"]["n"] == manifest["x_split"]["test"]
    assert 0.7 < metrics["test"]["calibration_slope"] < 1.3 and abs(metrics["test"]["calibration_intercept"]) < 0.2
    assert set(metrics["per_drug"]) == set(manifest["drugs"])
    assert sum(m["n"] for m in metrics["per_drug"].values()) == metrics["test"]["n"]
    assert 0.5 < metrics["validation"]["auc"] < 0.9


@pytest.mark.parametrize("disease", Disease.values)
def test_training_with_the_shipped_seed_reproduces_the_shipped_metrics(shipped, disease):
    manifest, _ = shipped[disease]
    retrained, booster = model_train(disease=disease, seed=manifest["training_data"]["seed"],
                                     n_patients=manifest["training_data"]["n_patients"])
    # x_evaluation, the ranking report, needs the retrainings too; the test below recomputes its own figures.
    shipped_metrics = {k: v for k, v in manifest["metrics"].items() if k != "x_evaluation"}
    assert retrained["metrics"] == shipped_metrics
    assert retrained["recalibration"] == manifest["recalibration"]
    assert booster.num_boosted_rounds() == manifest["metrics"]["best_iteration"] + 1


@pytest.mark.parametrize("disease", Disease.values)
def test_the_shipped_ranking_report_is_what_the_shipped_package_does_on_its_fresh_cohort(disease):
    """Recompute the manifest's gain captured, regret and per-drug calibration from the package itself."""
    manifest, booster, members = package_load_members(_shipped_bytes(disease),
                                                      max_bytes=settings.MODEL_UPLOAD_MAX_BYTES)
    report = manifest["metrics"]["x_evaluation"]
    fresh = cohort_generate(disease=disease, n_patients=int(report["n"]), seed=report["seed"])
    assert report["seed"] != manifest["training_data"]["seed"]
    candidates = xgboost.DMatrix(fresh.candidate_rows(np.arange(fresh.n_patients)), missing=np.nan)
    keys = np.tile(np.asarray(fresh.drugs), fresh.n_patients)
    recalibration = manifest["recalibration"]
    mean = np.mean([probabilities(m, candidates, keys, block)
                    for m, block in zip(members, manifest["ensemble"]["recalibration"], strict=True)],
                   axis=0).reshape(fresh.n_patients, -1)
    ranking = ranking_metrics(p_true=fresh.p_all, p_model=mean, available=fresh.available)
    assert ranking.gain_captured == pytest.approx(report["gain_captured"], abs=1e-4)
    assert ranking.mean_regret == pytest.approx(report["mean_regret"], abs=1e-4)
    assert report["calibration_seed"] not in (report["seed"], manifest["training_data"]["seed"])
    calibrating = cohort_generate(disease=disease, n_patients=report["calibration_n"], seed=report["calibration_seed"])
    p = probabilities(booster, xgboost.DMatrix(calibrating.X, missing=np.nan), calibrating.drug_atc, recalibration)
    atc = manifest["drugs"][0]
    mine = calibration(y=calibrating.y[calibrating.drug_atc == atc], p=p[calibrating.drug_atc == atc])
    assert mine["calibration_slope"] == pytest.approx(report["per_drug"][atc]["calibration_slope"], abs=1e-3)


def test_the_report_refuses_an_evaluation_cohort_that_a_member_trained_on():
    with pytest.raises(ValueError, match="must differ from the training cohorts' seeds"):
        package_train_validated(disease=CD, seed=2, evaluation_seed=member_seed(2, 5))


@pytest.mark.parametrize("disease", Disease.values)
def test_the_shipped_members_are_retrainings_each_stopped_early_at_its_own_round(disease):
    manifest, booster, members = package_load_members(_shipped_bytes(disease), max_bytes=settings.MODEL_UPLOAD_MAX_BYTES)
    rounds = [m.num_boosted_rounds() for m in members]
    assert len(set(rounds)) > 1, rounds  # a bootstrap with the booster's rounds would give one number
    assert "fresh draw" in manifest["ensemble"]["method"]


@pytest.mark.parametrize("disease", Disease.values)
def test_the_shipped_recalibration_was_fitted_on_rows_the_booster_never_saw_and_passes_its_checks(shipped, disease):
    manifest, _ = shipped[disease]
    block = manifest["recalibration"]
    seed = manifest["training_data"]["seed"]
    assert f"seed {seed + RECALIBRATION_SEED_OFFSET}," in block["source"]
    assert seed + RECALIBRATION_SEED_OFFSET not in (seed, manifest["metrics"]["x_evaluation"]["seed"],
                                                    manifest["metrics"]["x_evaluation"]["calibration_seed"])
    assert recalibration_problem(block, manifest["drugs"]) is None
    assert set(block["drugs"]) == set(manifest["drugs"])


@pytest.mark.parametrize("disease", Disease.values)
def test_each_shipped_member_carries_its_own_recalibration_fitted_on_its_own_fresh_draw(shipped, disease):
    """A member is a retraining, recalibration included: the booster's block on every member moved them together."""
    manifest, _ = shipped[disease]
    seed, blocks = manifest["training_data"]["seed"], manifest["ensemble"]["recalibration"]
    assert len(blocks) == manifest["ensemble"]["members"]
    for k, block in enumerate(blocks):
        assert f"seed {member_seed(seed, k) + RECALIBRATION_SEED_OFFSET}," in block["source"]
        assert recalibration_problem(block, manifest["drugs"]) is None
    distinct = {json.dumps(b["drugs"], sort_keys=True) for b in blocks + [manifest["recalibration"]]}
    assert len(distinct) == len(blocks) + 1  # every member's block differs from the booster's and each other's


@pytest.mark.parametrize("disease", Disease.values)
def test_the_shipped_models_capture_at_least_60_percent_of_the_achievable_gain(shipped, disease):
    report = shipped[disease][0]["metrics"]["x_evaluation"]
    assert report["gain_captured"] >= TARGETS["gain_captured"], report["gain_captured"]


@pytest.mark.parametrize("disease", Disease.values)
def test_retrained_models_agree_on_at_least_90_percent_of_top_suggestions(shipped, disease):
    report = shipped[disease][0]["metrics"]["x_evaluation"]
    assert report["retrainings"] == 5 and report["with_top_suggestion"] > 0
    assert report["top_agreement"] >= TARGETS["top_agreement"], report["top_agreement"]


@pytest.mark.parametrize("disease", Disease.values)
def test_per_drug_calibration_slopes_lie_within_0_8_to_1_2(shipped, disease):
    report = shipped[disease][0]["metrics"]["x_evaluation"]
    low, high = TARGETS["slope"]
    slopes = {atc: c["calibration_slope"] for atc, c in report["per_drug"].items()}
    assert all(low <= s <= high for s in slopes.values()), slopes


def test_the_trained_models_learn_the_new_effect_families(shipped, patients):
    """One check per family added with the sources of docs/synthetic-cohort.md."""
    def predicted(disease: str, atc: str, **values: float) -> float:
        return _predicted(shipped[disease][1], patients[disease], atc, **values)

    # Crohn's: CRP raises the anti-TNF response; current smoking lowers it.
    assert predicted(CD, "L04AB02", crp=30) > predicted(CD, "L04AB02", crp=2) + 0.03
    assert predicted(CD, "L04AB02", smoking_status=2) < predicted(CD, "L04AB02", smoking_status=0) - 0.03
    # UC (Dulai 2020): vedolizumab better after 2 years of disease, worse with severe endoscopic activity.
    assert predicted(UC, VEDOLIZUMAB, disease_duration=4) > predicted(UC, VEDOLIZUMAB, disease_duration=1)
    assert predicted(UC, VEDOLIZUMAB, mayo_endoscopic=2) > predicted(UC, VEDOLIZUMAB, mayo_endoscopic=3)
    # RA: an anti-TNF on top of methotrexate; obesity lowers it.
    assert predicted(RA, ADALIMUMAB, concomitant_methotrexate=1) > predicted(RA, ADALIMUMAB,
                                                                              concomitant_methotrexate=0) + 0.03
    assert predicted(RA, ADALIMUMAB, bmi=34) < predicted(RA, ADALIMUMAB, bmi=23)
    # RA: a glucocorticoid at the start lowers a biologic's response (-0.3 log-odds), not methotrexate's.
    assert predicted(RA, ABATACEPT, glucocorticoid=1) < predicted(RA, ABATACEPT, glucocorticoid=0) - 0.02
    assert abs(predicted(RA, "L04AX03", glucocorticoid=1) - predicted(RA, "L04AX03", glucocorticoid=0)) < 0.03
    # MS: the advantage of ocrelizumab over fingolimod shrinks with age.
    young = predicted(MS, "L04AG08", age=28) - predicted(MS, "L04AE01", age=28)
    older = predicted(MS, "L04AG08", age=50) - predicted(MS, "L04AE01", age=50)
    assert young > older + 0.05


# --- SHAP on the trained models -----------------------------------------------------------


def test_shap_values_of_the_trained_crohns_model_point_the_way_the_effects_table_does(shipped, patients):
    booster, cohort = shipped[CD][1], patients[CD]
    X = _rows(cohort, VEDOLIZUMAB)
    values = shap.TreeExplainer(booster).shap_values(X)
    column = cohort.features.index
    exposed = X[:, column("prior_anti_tnf_exposure")] == 1
    assert values[exposed, column("prior_anti_tnf_exposure")].mean() < 0
    for name, sign in (("albumin", 1), ("prior_bowel_surgery", -1), ("fistulising_disease", -1)):
        recorded = ~np.isnan(X[:, column(name)])
        assert sign * np.corrcoef(X[recorded, column(name)], values[recorded, column(name)])[0, 1] > 0.5, name
    # CRP enters the tool in steps (3 and 10 mg/L), not linearly: compare the steps' ends.
    crp, crp_values = X[:, column("crp")], values[:, column("crp")]
    assert crp_values[crp >= 10].mean() < crp_values[crp < 3].mean()


def test_shap_values_of_the_trained_ms_model_charge_activity_less_to_natalizumab_than_to_interferon(shipped, patients):
    booster, cohort = shipped[MS][1], patients[MS]
    activity = [cohort.features.index(n) for n in ("relapses_12m", "gd_lesions", "new_t2_lesions")]
    explainer = shap.TreeExplainer(booster)
    active = (cohort.column("relapses_12m") >= 2) | (cohort.column("gd_lesions") >= 2)
    charged = {atc: explainer.shap_values(_rows(cohort, atc)[active])[:, activity].sum(axis=1).mean()
               for atc in (INTERFERON, NATALIZUMAB)}
    assert charged[INTERFERON] < charged[NATALIZUMAB] < 0


def test_tree_explainer_agrees_with_xgboost_contributions_and_sums_to_the_margin(shipped, patients):
    booster, cohort = shipped[RA][1], patients[RA]
    X = np.vstack([_rows(cohort, atc)[:20] for atc in cohort.drugs])
    dmatrix = xgboost.DMatrix(X, missing=np.nan)
    explainer = shap.TreeExplainer(booster)
    values = explainer.shap_values(X)
    contributions = booster.predict(dmatrix, pred_contribs=True)
    margin = booster.predict(dmatrix, output_margin=True)
    np.testing.assert_allclose(values, contributions[:, :-1], atol=1e-4)
    np.testing.assert_allclose(values.sum(axis=1) + explainer.expected_value, margin, atol=1e-4)
    np.testing.assert_allclose(contributions.sum(axis=1), margin, atol=1e-4)
