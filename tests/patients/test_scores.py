"""Tests for patients.scores: worked examples computed by hand, category cut-offs,
units, and which scores derived_scores can compute from partial data."""
import dataclasses
from decimal import Decimal

import pytest

from patients.scores import (
    Score,
    categorize,
    cdai,
    das28_crp,
    das28_crp_3v,
    das28_esr,
    das28_esr_3v,
    derived_scores,
    full_mayo,
    harvey_bradshaw,
    partial_mayo,
    sdai,
)

DAS = 0.005  # DAS28 values are reported to 2 decimals

RA_FULL = {
    "tender_joint_count_28": 4,
    "swollen_joint_count_28": 2,
    "esr": 30,
    "crp": 10,
    "patient_global": 50,
    "evaluator_global": 30,
}
HBI_FULL = {
    "hbi_general_wellbeing": 1,
    "hbi_abdominal_pain": 1,
    "hbi_liquid_stools": 3,
    "hbi_abdominal_mass": 0,
    "hbi_complications": 1,
}
MAYO_FULL = {
    "mayo_stool_frequency": 1,
    "mayo_rectal_bleeding": 1,
    "mayo_physician_global": 1,
    "mayo_endoscopic": 2,
}


# --- Worked examples (arithmetic done by hand, 6 decimals) -----------------------

def test_das28_esr_matches_a_worked_example_computed_by_hand():
    # TJC 4, SJC 2, ESR 30, GH 50:
    # 0.56*sqrt(4) = 0.56*2 = 1.120000
    # 0.28*sqrt(2) = 0.28*1.414214 = 0.395980
    # 0.70*ln(30) = 0.70*3.401197 = 2.380838
    # 0.014*50 = 0.700000
    # total = 4.596818 -> 4.60
    assert das28_esr(tjc28=4, sjc28=2, esr=30, patient_global=50) == pytest.approx(4.60, abs=DAS)


def test_das28_esr_three_variable_formula_matches_a_worked_example():
    # (1.120000 + 0.395980 + 2.380838) = 3.896818; *1.08 = 4.208563; +0.16 = 4.368563 -> 4.37
    assert das28_esr_3v(tjc28=4, sjc28=2, esr=30) == pytest.approx(4.37, abs=DAS)


def test_das28_crp_matches_a_worked_example_computed_by_hand():
    # TJC 4, SJC 2, CRP 10 mg/L, GH 50:
    # 1.120000 + 0.395980 + 0.36*ln(10+1) (= 0.36*2.397895 = 0.863242)
    # + 0.014*50 (= 0.700000) + 0.96 = 4.039222 -> 4.04
    assert das28_crp(tjc28=4, sjc28=2, crp_mg_l=10, patient_global=50) == pytest.approx(
        4.04, abs=DAS)


def test_das28_crp_three_variable_formula_matches_a_worked_example():
    # (1.120000 + 0.395980 + 0.863242) = 2.379222; *1.10 = 2.617144; +1.15 = 3.767144 -> 3.77
    assert das28_crp_3v(tjc28=4, sjc28=2, crp_mg_l=10) == pytest.approx(3.77, abs=DAS)


def test_das28_esr_of_zero_is_treated_as_one_instead_of_crashing():
    # ln(max(0, 1)) = 0, so with no joints and GH 0 the score is 0.00
    assert das28_esr(tjc28=0, sjc28=0, esr=0, patient_global=0) == pytest.approx(0, abs=DAS)
    assert das28_esr(tjc28=3, sjc28=1, esr=0, patient_global=20) == pytest.approx(
        das28_esr(tjc28=3, sjc28=1, esr=1, patient_global=20))
    # 3 variables: 0 * 1.08 + 0.16 = 0.16
    assert das28_esr_3v(tjc28=0, sjc28=0, esr=0) == pytest.approx(0.16, abs=DAS)


def test_das28_crp_of_zero_leaves_only_the_constant():
    # ln(0 + 1) = 0 -> 4 variables: 0.96; 3 variables: 0 * 1.10 + 1.15 = 1.15
    assert das28_crp(tjc28=0, sjc28=0, crp_mg_l=0, patient_global=0) == pytest.approx(0.96)
    assert das28_crp_3v(tjc28=0, sjc28=0, crp_mg_l=0) == pytest.approx(1.15)


def test_cdai_converts_global_assessments_from_millimetres_to_centimetres():
    # 4 + 2 + 50 mm/10 (= 5.0) + 30 mm/10 (= 3.0) = 14.0
    assert cdai(tjc28=4, sjc28=2, patient_global=50, evaluator_global=30) == pytest.approx(14.0)


def test_sdai_adds_crp_in_mg_per_dl_so_25_mg_per_l_adds_2_5_not_25():
    # CDAI 14.0 + 25 mg/L / 10 (= 2.5 mg/dL) = 16.5 (moderate); adding 25 would give 39 (high)
    value = sdai(tjc28=4, sjc28=2, patient_global=50, evaluator_global=30, crp_mg_l=25)
    assert value == pytest.approx(16.5)
    assert categorize("sdai", value) == "moderate"


def test_harvey_bradshaw_is_the_sum_of_its_five_items():
    # 1 + 1 + 3 + 0 + 1 = 6
    assert harvey_bradshaw(general_wellbeing=1, abdominal_pain=1, liquid_stools=3,
                           abdominal_mass=0, complications=1) == 6


def test_mayo_scores_are_sums_of_their_subscores():
    assert partial_mayo(stool_frequency=2, rectal_bleeding=1, physician_global=2) == 5
    assert full_mayo(stool_frequency=2, rectal_bleeding=1, physician_global=2, endoscopic=3) == 8


def test_functions_accept_floats_and_decimals_without_crashing():
    assert das28_esr(tjc28=4.0, sjc28=2.0, esr=30.0, patient_global=50.0) == pytest.approx(
        4.60, abs=DAS)
    assert das28_crp(tjc28=Decimal("4"), sjc28=Decimal("2"), crp_mg_l=Decimal("10.0"),
                     patient_global=Decimal("50")) == pytest.approx(4.04, abs=DAS)
    assert sdai(tjc28=4.0, sjc28=2.0, patient_global=50.5, evaluator_global=30.0,
                crp_mg_l=25.0) == pytest.approx(16.55)
    assert harvey_bradshaw(general_wellbeing=1.0, abdominal_pain=1.0, liquid_stools=3.0,
                           abdominal_mass=0.0, complications=1.0) == 6
    assert full_mayo(stool_frequency=1.0, rectal_bleeding=1.0, physician_global=1.0,
                     endoscopic=2.0) == 5


# --- Category cut-offs ------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (0.0, "remission"), (2.59, "remission"), (2.6, "low"), (3.2, "low"),
    (3.21, "moderate"), (5.1, "moderate"), (5.11, "high"), (9.0, "high"),
])
def test_das28_categories_follow_the_eular_cut_offs(value, expected):
    assert categorize("das28_esr", value) == expected
    assert categorize("das28_crp", value) == expected


@pytest.mark.parametrize("value, expected", [
    (2.8, "remission"), (2.9, "low"), (10, "low"), (10.1, "moderate"),
    (22, "moderate"), (22.1, "high"),
])
def test_cdai_categories_include_their_upper_bounds(value, expected):
    assert categorize("cdai", value) == expected


@pytest.mark.parametrize("value, expected", [
    (3.3, "remission"), (3.4, "low"), (11, "low"), (11.1, "moderate"),
    (26, "moderate"), (26.1, "high"),
])
def test_sdai_categories_include_their_upper_bounds(value, expected):
    assert categorize("sdai", value) == expected


@pytest.mark.parametrize("value, expected", [
    (0, "remission"), (4, "remission"), (5, "mild"), (7, "mild"), (8, "moderate"),
    (16, "moderate"), (17, "severe"),
])
def test_hbi_categories_follow_the_best_and_vermeire_cut_offs(value, expected):
    assert categorize("hbi", value) == expected


@pytest.mark.parametrize("value, expected", [
    (0, "remission"), (1, "remission"), (2, "mild"), (4, "mild"), (5, "moderate"),
    (6, "moderate"), (7, "severe"), (9, "severe"),
])
def test_partial_mayo_categories(value, expected):
    assert categorize("partial_mayo", value) == expected


@pytest.mark.parametrize("value, expected", [
    (2, "remission"), (3, "mild"), (5, "mild"), (6, "moderate"), (10, "moderate"),
    (11, "severe"), (12, "severe"),
])
def test_full_mayo_categories(value, expected):
    assert categorize("full_mayo", value, max_subscore=1) == expected


def test_full_mayo_of_two_is_mild_not_remission_when_a_subscore_is_two():
    only_endoscopy = {"mayo_stool_frequency": 0, "mayo_rectal_bleeding": 0,
                      "mayo_physician_global": 0, "mayo_endoscopic": 2}
    score = derived_scores(only_endoscopy)["full_mayo"]
    assert (score.value, score.category) == (2, "mild")

    all_ones_or_less = {**only_endoscopy, "mayo_endoscopic": 1, "mayo_rectal_bleeding": 1}
    score = derived_scores(all_ones_or_less)["full_mayo"]
    assert (score.value, score.category) == (2, "remission")


def test_derived_das28_category_is_taken_from_the_rounded_value_shown():
    # TJC 0, SJC 0, ESR 6, GH 96: 0.70*ln(6) (= 0.70*1.791759 = 1.254231) + 0.014*96 (= 1.344)
    # = 2.598231, shown as 2.60, which is low disease activity (not remission)
    score = derived_scores({"tender_joint_count_28": 0, "swollen_joint_count_28": 0,
                            "esr": 6, "patient_global": 96})["das28_esr"]
    assert score.value == 2.60
    assert score.category == "low"


def test_cdai_boundary_of_2_8_computed_from_measurements_is_remission():
    # 2 + 0 + 8 mm/10 (= 0.8) + 0 = 2.8
    score = derived_scores({"tender_joint_count_28": 2, "swollen_joint_count_28": 0,
                            "patient_global": 8, "evaluator_global": 0})["cdai"]
    assert (score.value, score.category) == (2.8, "remission")


# --- derived_scores ---------------------------------------------------------------

def test_derived_scores_of_an_empty_dict_is_empty():
    assert derived_scores({}) == {}


def test_derived_scores_computes_every_score_when_all_measurements_are_present():
    scores = derived_scores({**RA_FULL, **HBI_FULL, **MAYO_FULL})
    assert set(scores) == {"das28_esr", "das28_crp", "cdai", "sdai", "hbi",
                           "partial_mayo", "full_mayo"}
    assert scores["das28_esr"].as_dict() == {
        "label": "DAS28-ESR", "value": 4.60, "category": "moderate",
        "category_label": "Moderate disease activity"}
    assert scores["das28_crp"].label == "DAS28-CRP"
    assert scores["das28_crp"].value == 4.04
    assert (scores["cdai"].value, scores["cdai"].category) == (14.0, "moderate")
    # CRP 10 mg/L adds 1.0 to CDAI 14.0
    assert (scores["sdai"].value, scores["sdai"].category) == (15.0, "moderate")
    assert (scores["hbi"].value, scores["hbi"].category) == (6, "mild")
    assert (scores["partial_mayo"].value, scores["partial_mayo"].category) == (3, "mild")
    assert (scores["full_mayo"].value, scores["full_mayo"].category) == (5, "mild")
    assert scores["hbi"].category_label == "Mild disease activity"


def test_derived_scores_uses_three_variable_das28_without_patient_global():
    scores = derived_scores({"tender_joint_count_28": 4, "swollen_joint_count_28": 2,
                             "esr": 30, "crp": 10, "patient_global": None})
    assert set(scores) == {"das28_esr", "das28_crp"}
    assert scores["das28_esr"].label == "DAS28-ESR (3 variables)"
    assert scores["das28_esr"].value == pytest.approx(4.37, abs=DAS)
    assert scores["das28_crp"].label == "DAS28-CRP (3 variables)"
    assert scores["das28_crp"].value == pytest.approx(3.77, abs=DAS)


def test_derived_scores_leaves_out_scores_with_a_missing_component():
    no_crp = {**RA_FULL, "crp": None}
    assert set(derived_scores(no_crp)) == {"das28_esr", "cdai"}

    no_joints = {**RA_FULL, "swollen_joint_count_28": None}
    assert derived_scores(no_joints) == {}

    no_evaluator = {k: v for k, v in RA_FULL.items() if k != "evaluator_global"}
    assert set(derived_scores(no_evaluator)) == {"das28_esr", "das28_crp"}

    hbi_missing_item = {**HBI_FULL, "hbi_complications": None}
    assert derived_scores(hbi_missing_item) == {}

    no_endoscopy = {k: v for k, v in MAYO_FULL.items() if k != "mayo_endoscopic"}
    assert set(derived_scores(no_endoscopy)) == {"partial_mayo"}


def test_derived_scores_ignores_unrelated_entries():
    assert set(derived_scores({**HBI_FULL, "notes": "felt well", "weight": 70})) == {"hbi"}


def test_derived_scores_accepts_float_measurements():
    floats = {k: float(v) for k, v in {**RA_FULL, **HBI_FULL, **MAYO_FULL}.items()}
    assert len(derived_scores(floats)) == 7


def test_score_is_immutable():
    score = derived_scores(HBI_FULL)["hbi"]
    assert isinstance(score, Score)
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.value = 0
