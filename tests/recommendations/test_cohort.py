"""The synthetic training cohort: seeded, laid out like scoring, registry-like, and true to its effects table."""

from __future__ import annotations

import numpy as np
import pytest
from django.conf import settings

from patients.dictionary import BY_NAME, Disease, Kind, features_for
from patients.drugs import BY_ATC, DrugClass, candidates_for
from recommendations.cohort import Cohort, cohort_generate
from recommendations.cohort_effects import BASE_RATE, BASE_RATES, EFFECTS, TARGET_GROUPS
from recommendations.features import column_names

CD, UC, RA, MS = Disease.values
VEDOLIZUMAB, RITUXIMAB, ABATACEPT = "L04AG05", "L01FA01", "L04AA24"


@pytest.fixture(scope="module")
def cohorts() -> dict[str, Cohort]:
    return {disease: cohort_generate(disease=disease, n_patients=60_000, seed=11) for disease in Disease.values}


def _rate(cohort: Cohort, rows: np.ndarray) -> float:
    assert rows.sum() > 200, "too few patients for a stable response rate"
    return float(cohort.y[rows].mean())


def _on(cohort: Cohort, *atcs: str) -> np.ndarray:
    return np.isin(cohort.drug_atc, atcs)


def test_the_same_seed_gives_the_same_cohort_and_another_seed_a_different_one():
    first = cohort_generate(disease=CD, n_patients=2000, seed=3)
    again = cohort_generate(disease=CD, n_patients=2000, seed=3)
    other = cohort_generate(disease=CD, n_patients=2000, seed=4)
    np.testing.assert_array_equal(first.X, again.X)  # NaNs compare equal here
    np.testing.assert_array_equal(first.y, again.y)
    np.testing.assert_array_equal(first.drug_atc, again.drug_atc)
    assert not np.array_equal(first.y, other.y)


@pytest.mark.parametrize("disease", Disease.values)
def test_rows_are_laid_out_as_scoring_lays_them_out(cohorts, disease):
    cohort = cohorts[disease]
    drugs = [d.atc for d in candidates_for(disease)]
    assert cohort.features == features_for(disease) and cohort.drugs == drugs
    assert cohort.columns == column_names(features_for(disease), drugs)
    assert cohort.X.dtype == np.float32 and cohort.X.shape == (60_000, len(cohort.columns))
    indicators = cohort.X[:, len(cohort.features):]
    assert set(np.unique(indicators)) == {0.0, 1.0}
    assert (indicators.sum(axis=1) == 1).all()
    assert (np.array(drugs)[indicators.argmax(axis=1)] == cohort.drug_atc).all()
    assert set(np.unique(cohort.y)) == {0, 1}


@pytest.mark.parametrize("disease", Disease.values)
def test_every_recorded_value_fits_the_data_dictionary(cohorts, disease):
    cohort = cohorts[disease]
    for name in cohort.features:
        var, values = BY_NAME[name], cohort.column(name)
        values = values[~np.isnan(values)]
        if var.kind == Kind.BOOLEAN:
            assert set(np.unique(values)) <= {0.0, 1.0}, name
        elif var.kind == Kind.CODE:
            assert set(np.unique(values)) <= set(map(float, range(len(var.codes)))), name
        else:
            assert values.min() >= var.minimum and values.max() <= var.maximum, name
            if var.kind == Kind.INTEGER or var.step in (0.5, 0.125):
                grid = values / (var.step or 1)
                assert np.allclose(grid, np.round(grid)), name


@pytest.mark.parametrize("disease", Disease.values)
def test_age_duration_and_therapy_history_are_consistent(cohorts, disease):
    cohort = cohorts[disease]
    age, duration = cohort.column("age"), cohort.column("disease_duration")
    prior, same_class = cohort.column("prior_advanced_therapies"), cohort.column("prior_same_class_failure")
    known = ~np.isnan(duration)
    assert (age[known] >= duration[known] + 11).all()  # nobody is diagnosed before the age of 12
    if disease == MS:
        return
    exposure, failure = cohort.column("prior_anti_tnf_exposure"), cohort.column("prior_anti_tnf_failure")
    assert (exposure[failure == 1] == 1).all()
    assert (prior[exposure == 1] >= 1).all()
    anti_tnf = np.array([BY_ATC[a].drug_class == DrugClass.ANTI_TNF for a in cohort.drug_atc])
    assert (same_class[anti_tnf] == failure[anti_tnf]).all()
    advanced_other = ~anti_tnf & (cohort.drug_atc != "L04AX03")
    assert (prior[advanced_other & (same_class == 1)] - exposure[advanced_other & (same_class == 1)] >= 1).all()


def test_lab_values_have_registry_like_gaps_and_derived_values_have_none(cohorts):
    cohort = cohorts[CD]
    share = {name: float(np.isnan(cohort.column(name)).mean()) for name in cohort.features}
    for lab in ("crp", "albumin", "haemoglobin", "fecal_calprotectin"):
        assert 0.08 <= share[lab] <= 0.40, (lab, share[lab])
    for phenotype in ("montreal_location", "montreal_behaviour", "prior_bowel_surgery", "fistulising_disease"):
        assert 0.02 <= share[phenotype] <= 0.15, (phenotype, share[phenotype])
    for derived in ("age", "sex", "prior_advanced_therapies", "prior_anti_tnf_exposure", "prior_same_class_failure"):
        assert share[derived] == 0.0, derived


def test_some_values_go_missing_not_at_random_when_the_patient_is_well(cohorts):
    cohort = cohorts[UC]
    endoscopy_missing = np.isnan(cohort.column("mayo_endoscopic"))
    quiet = cohort.column("mayo_stool_frequency") == 0
    active = cohort.column("mayo_stool_frequency") == 3
    assert endoscopy_missing[quiet].mean() > endoscopy_missing[active].mean() + 0.1


def test_vedolizumab_response_is_lower_after_anti_tnf_exposure_in_crohns_disease(cohorts):
    cohort = cohorts[CD]
    vedo, exposed = _on(cohort, VEDOLIZUMAB), cohort.column("prior_anti_tnf_exposure") == 1
    assert _rate(cohort, vedo & exposed) < _rate(cohort, vedo & ~exposed) - 0.08


def test_vedolizumab_response_rises_with_albumin_and_falls_with_crp_surgery_and_fistulas(cohorts):
    cohort = cohorts[CD]
    vedo = _on(cohort, VEDOLIZUMAB)
    for name, sign in (("albumin", 1), ("crp", -1)):
        values = cohort.column(name)
        low, high = np.nanpercentile(values[vedo], [33, 67])
        assert sign * (_rate(cohort, vedo & (values >= high)) - _rate(cohort, vedo & (values <= low))) > 0.03, name
    for name in ("prior_bowel_surgery", "fistulising_disease"):
        assert _rate(cohort, vedo & (cohort.column(name) == 1)) < _rate(cohort, vedo & (cohort.column(name) == 0))


@pytest.mark.parametrize("disease", [CD, UC, RA])
def test_a_failed_anti_tnf_costs_a_second_anti_tnf_more_than_another_mechanism(cohorts, disease):
    cohort = cohorts[disease]
    # Compare among exposed patients, so the only difference is whether the anti-TNF failed.
    exposed = cohort.column("prior_anti_tnf_exposure") == 1
    failed = cohort.column("prior_anti_tnf_failure") == 1
    anti_tnf = _on(cohort, *[d.atc for d in candidates_for(disease) if d.drug_class == DrugClass.ANTI_TNF])
    drop_anti_tnf = _rate(cohort, exposed & anti_tnf & ~failed) - _rate(cohort, exposed & anti_tnf & failed)
    drop_other = _rate(cohort, exposed & ~anti_tnf & ~failed) - _rate(cohort, exposed & ~anti_tnf & failed)
    assert drop_anti_tnf > drop_other + 0.03


@pytest.mark.parametrize("atc", [RITUXIMAB, ABATACEPT])
def test_seropositive_rheumatoid_arthritis_responds_better_to_rituximab_and_abatacept(cohorts, atc):
    cohort = cohorts[RA]
    positive = (cohort.column("rf_positive") == 1) & (cohort.column("anti_ccp_positive") == 1)
    negative = (cohort.column("rf_positive") == 0) & (cohort.column("anti_ccp_positive") == 0)
    gain = _rate(cohort, _on(cohort, atc) & positive) - _rate(cohort, _on(cohort, atc) & negative)
    anti_tnf_gain = (_rate(cohort, _on(cohort, "L04AB04", "L04AB01", "L04AB05") & positive)
                     - _rate(cohort, _on(cohort, "L04AB04", "L04AB01", "L04AB05") & negative))
    assert gain > 0.1 and gain > anti_tnf_gain + 0.05


@pytest.mark.parametrize("disease", Disease.values)
def test_longer_disease_and_more_prior_therapies_lower_response_in_every_disease(cohorts, disease):
    cohort = cohorts[disease]
    duration, prior = cohort.column("disease_duration"), cohort.column("prior_advanced_therapies")
    assert _rate(cohort, duration >= 12) < _rate(cohort, duration <= 3)
    assert _rate(cohort, prior >= 2) < _rate(cohort, prior == 0)


def test_active_multiple_sclerosis_costs_platform_therapies_more_neda_than_high_efficacy_drugs(cohorts):
    cohort = cohorts[MS]
    active = (cohort.column("relapses_12m") >= 2) | (cohort.column("gd_lesions") >= 2)
    quiet = (cohort.column("relapses_12m") == 0) & (cohort.column("gd_lesions") == 0)
    high = np.array([BY_ATC[a].high_efficacy for a in cohort.drug_atc])
    platform_drop = _rate(cohort, ~high & quiet) - _rate(cohort, ~high & active)
    high_drop = _rate(cohort, high & quiet) - _rate(cohort, high & active)
    assert high_drop > 0, "an active baseline lowers NEDA-3 on every drug"
    assert platform_drop > high_drop + 0.05


@pytest.mark.parametrize("disease", Disease.values)
def test_response_rates_per_drug_are_clinically_plausible(cohorts, disease):
    cohort = cohorts[disease]
    for atc in cohort.drugs:
        assert 0.12 <= _rate(cohort, _on(cohort, atc)) <= 0.55, atc


def test_every_effect_names_a_model_feature_a_known_target_and_a_source():
    classes = {str(c) for c in DrugClass}
    for effect in EFFECTS:
        diseases = Disease.values if effect.disease == "all" else [effect.disease]
        assert any(effect.feature in features_for(d) for d in diseases), effect
        assert effect.target in TARGET_GROUPS or effect.target in classes or effect.target in BY_ATC, effect
        if effect.target in BY_ATC:
            assert all(d in BY_ATC[effect.target].diseases for d in diseases), effect
        assert effect.log_odds != 0 and len(effect.source) > 20, effect
        assert effect.scale in ("linear", "log2", "at_least") and effect.step > 0, effect


def test_every_candidate_drug_has_one_base_rate_with_a_source():
    expected = {(disease, d.atc) for disease in Disease.values for d in candidates_for(disease)}
    assert set(BASE_RATE) == expected and len(BASE_RATES) == len(expected)
    assert all(0.15 <= b.rate <= 0.55 and b.source for b in BASE_RATES)


def test_the_documentation_lists_every_effect_with_its_source():
    doc = (settings.BASE_DIR / "docs" / "synthetic-cohort.md").read_text()
    table_rows = [line for line in doc.splitlines() if line.startswith("|")]
    for effect in EFFECTS:
        wanted = [f"`{effect.feature}`", f"`{effect.target}`", f"{effect.log_odds:+.2f}", effect.per(), effect.source,
                  "all" if effect.disease == "all" else f"`{effect.disease}`"]
        assert any(all(w in row for w in wanted) for row in table_rows), f"docs/synthetic-cohort.md lacks {effect}"
    for base in BASE_RATES:
        assert any(f"`{base.atc}`" in row and f"`{base.disease}`" in row and base.source in row
                   for row in table_rows), f"docs/synthetic-cohort.md lacks the base rate {base}"


# --- one test per effect family, on the generator's own probabilities of every patient on every drug ----------

def _p(cohort: Cohort, atc: str) -> np.ndarray:
    return cohort.p_all[:, cohort.drugs.index(atc)]


def _true(cohort: Cohort, name: str) -> np.ndarray:
    """A feature's recorded value; rows where it is missing are compared as neither group."""
    return cohort.column(name)


def test_each_patient_has_a_probability_on_every_candidate_and_the_treated_one_drew_the_outcome(cohorts):
    for cohort in cohorts.values():
        assert cohort.p_all.shape == (cohort.n_patients, len(cohort.drugs))
        treated = np.array([cohort.drugs.index(a) for a in cohort.drug_atc])
        np.testing.assert_array_equal(cohort.p_all[np.arange(cohort.n_patients), treated], cohort.p_true)
        assert cohort.available[np.arange(cohort.n_patients), treated].all()


def test_crohns_crp_favours_anti_tnf_and_disfavours_vedolizumab_and_smoking_costs_anti_tnf(cohorts):
    cohort = cohorts[CD]
    crp, smoker = _true(cohort, "crp"), _true(cohort, "smoking_status") == 2
    high, low = crp >= 20, crp <= 3
    infliximab_gain = _p(cohort, "L04AB02")[high].mean() - _p(cohort, "L04AB02")[low].mean()
    vedolizumab_gain = _p(cohort, VEDOLIZUMAB)[high].mean() - _p(cohort, VEDOLIZUMAB)[low].mean()
    assert infliximab_gain > 0.05 and vedolizumab_gain < 0
    never = _true(cohort, "smoking_status") == 0
    assert _p(cohort, "L04AB04")[smoker].mean() < _p(cohort, "L04AB04")[never].mean() - 0.05
    assert abs(_p(cohort, "L04AC18")[smoker].mean() - _p(cohort, "L04AC18")[never].mean()) < 0.03


def test_crohns_base_rates_separate_risankizumab_and_upadacitinib():
    assert BASE_RATE[(CD, "L04AC18")] != BASE_RATE[(CD, "L04AF03")]


def test_ulcerative_colitis_vedolizumab_follows_dulai_2020_duration_and_endoscopy(cohorts):
    cohort = cohorts[UC]
    vedo = _p(cohort, VEDOLIZUMAB)
    duration, mayo = _true(cohort, "disease_duration"), _true(cohort, "mayo_endoscopic")
    assert vedo[(duration >= 2) & (duration <= 4)].mean() > vedo[duration < 2].mean()
    assert vedo[mayo == 2].mean() > vedo[mayo == 3].mean() + 0.02


def test_after_anti_tnf_exposure_ustekinumab_and_jak_beat_vedolizumab_in_ulcerative_colitis(cohorts):
    cohort = cohorts[UC]
    exposed = _true(cohort, "prior_anti_tnf_exposure") == 1
    for atc in ("L04AC05", "L04AF01"):
        advantage = _p(cohort, atc) - _p(cohort, VEDOLIZUMAB)
        assert advantage[exposed].mean() > advantage[~exposed].mean() + 0.05, atc


def test_rheumatoid_arthritis_methotrexate_obesity_and_sex_modify_anti_tnf_not_abatacept(cohorts):
    cohort = cohorts[RA]
    mtx, obese = _true(cohort, "concomitant_methotrexate") == 1, _true(cohort, "bmi") >= 30
    female = _true(cohort, "sex") == 0
    adalimumab, abatacept, tocilizumab = _p(cohort, "L04AB04"), _p(cohort, ABATACEPT), _p(cohort, "L04AC07")
    assert adalimumab[mtx].mean() > adalimumab[~mtx].mean() + 0.05
    assert abs(tocilizumab[mtx].mean() - tocilizumab[~mtx].mean()) < 0.02
    assert adalimumab[obese].mean() < adalimumab[~obese].mean() - 0.03
    assert tocilizumab[obese].mean() < tocilizumab[~obese].mean() - 0.03
    assert abs(abatacept[obese].mean() - abatacept[~obese].mean()) < 0.02
    assert adalimumab[female].mean() < adalimumab[~female].mean()


def test_rheumatoid_arthritis_activity_and_disability_lower_every_drug(cohorts):
    cohort = cohorts[RA]
    tender = _true(cohort, "tender_joint_count_28")
    for atc in cohort.drugs:
        p = _p(cohort, atc)
        assert p[tender >= 14].mean() < p[tender <= 4].mean(), atc


def test_rheumatoid_arthritis_glucocorticoids_go_with_activity_and_lower_biologics_not_methotrexate(cohorts):
    cohort = cohorts[RA]
    recorded = _true(cohort, "glucocorticoid")
    on, off = recorded == 1, recorded == 0
    assert 0.25 < on.sum() / (on | off).sum() < 0.45
    assert 0.07 < np.isnan(recorded).mean() < 0.25  # missing is missing, never "no"
    tender = _true(cohort, "tender_joint_count_28")
    assert np.nanmean(tender[on]) > np.nanmean(tender[off]) + 0.5
    # Terms shared by every drug (activity, disability, u_i) cancel in the difference of two drugs' log-odds; what
    # is left differs between the groups by the glucocorticoid term, -0.3, on abatacept and none on methotrexate.
    def logit(p):
        return np.log(p / (1 - p))
    gap = logit(_p(cohort, ABATACEPT)) - logit(_p(cohort, "L04AX03"))
    assert -0.4 < gap[on].mean() - gap[off].mean() < -0.2
    adalimumab_vs_tocilizumab = logit(_p(cohort, "L04AB04")) - logit(_p(cohort, "L04AC07"))
    assert abs(adalimumab_vs_tocilizumab[on].mean() - adalimumab_vs_tocilizumab[off].mean()) < 0.1


def test_methotrexate_is_not_a_candidate_for_a_patient_already_on_it(cohorts):
    cohort = cohorts[RA]
    on_mtx = _true(cohort, "concomitant_methotrexate") == 1
    assert not cohort.available[on_mtx, cohort.drugs.index("L04AX03")].any()
    assert not (cohort.drug_atc[on_mtx] == "L04AX03").any()


def test_multiple_sclerosis_age_takes_away_the_high_efficacy_advantage(cohorts):
    cohort = cohorts[MS]
    age = _true(cohort, "age")
    advantage = _p(cohort, "L04AG08") - _p(cohort, "L04AE01")  # ocrelizumab minus fingolimod
    assert advantage[age < 30].mean() > advantage[age > 45].mean() + 0.1


def test_progressive_ms_lowers_neda_and_anti_cd20_keeps_more_in_ppms(cohorts):
    cohort = cohorts[MS]
    course = _true(cohort, "ms_course")
    for atc in cohort.drugs:
        p = _p(cohort, atc)
        assert p[course == 2].mean() < p[course == 0].mean() and p[course == 1].mean() < p[course == 0].mean(), atc
    ppms = course == 2
    ocrelizumab_loss = _p(cohort, "L04AG08")[~ppms & (course == 0)].mean() - _p(cohort, "L04AG08")[ppms].mean()
    interferon_loss = _p(cohort, "L03AB07")[course == 0].mean() - _p(cohort, "L03AB07")[ppms].mean()
    assert ocrelizumab_loss < interferon_loss
