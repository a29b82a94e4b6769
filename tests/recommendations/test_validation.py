"""The validation report's maths: gain captured and regret on a hand-computed example, top-suggestion agreement,
and calibration with intervals."""

import numpy as np
import pytest

from recommendations.validation import calibration, ranking_metrics, top_agreement

# Three patients, two drugs. One drug for all: drug 1 (mean 0.4333 against 0.3667). Each patient's best: 0.5, 0.6,
# 0.4 (mean 0.5), so personalising can add 0.5 - 0.4333 = 0.0667.
P_TRUE = np.array([[0.5, 0.3], [0.2, 0.6], [0.4, 0.4]])


def _choosing(*columns: int) -> np.ndarray:
    """Model probabilities whose argmax per patient is the given column."""
    p = np.full(P_TRUE.shape, 0.1)
    p[np.arange(len(columns)), columns] = 0.9
    return p


@pytest.mark.parametrize("choices, captured, regret", [
    ((0, 1, 0), 1.0, 0.0),  # every patient's best drug
    ((1, 1, 1), 0.0, 0.2 / 3),  # the one drug for all: no gain, regret 0.2 for patient 0
    ((0, 0, 1), -1.0, 0.4 / 3),  # 0.5 + 0.2 + 0.4 = 1.1 -> 0.3667, i.e. as much worse as the oracle is better
    ((1, 1, 0), 0.0, 0.2 / 3),
])
def test_gain_captured_and_regret_match_a_hand_computed_example(choices, captured, regret):
    r = ranking_metrics(p_true=P_TRUE, p_model=_choosing(*choices))
    assert r.one_drug == 1
    assert r.achievable_gain == pytest.approx(0.5 - 1.3 / 3)
    assert r.gain_captured == pytest.approx(captured)
    assert r.mean_regret == pytest.approx(regret)


def test_a_drug_a_patient_cannot_start_is_never_chosen_nor_counted_as_their_best():
    available = np.array([[False, True], [True, True], [True, True]])
    r = ranking_metrics(p_true=P_TRUE, p_model=_choosing(0, 1, 0), available=available)
    # Patient 0 can only take drug 1 (0.3): best is then 0.3, 0.6, 0.4 and one drug for all (drug 1) is optimal.
    assert r.achievable_gain == pytest.approx(0.0) and r.gain_captured is None
    assert r.mean_regret == pytest.approx(0.0)


def test_one_drug_for_all_must_be_available_to_everyone():
    with pytest.raises(ValueError, match="one drug for all"):
        ranking_metrics(p_true=P_TRUE, p_model=P_TRUE, available=np.array([[False, True], [True, False], [True, True]]))


def test_top_suggestion_agreement_counts_suggestions_every_retrained_model_ranks_first():
    # Three members, three patients, two drugs. Patient 0: clearly drug 0 (top suggestion); patient 1: clearly
    # drug 1 (top suggestion); patient 2: the members split, so no top suggestion.
    members = np.array([[[0.6, 0.2], [0.2, 0.6], [0.50, 0.40]],
                        [[0.6, 0.2], [0.2, 0.6], [0.50, 0.40]],
                        [[0.6, 0.2], [0.2, 0.6], [0.30, 0.45]]])
    agrees = np.array([[0.5, 0.3], [0.3, 0.5], [0.1, 0.9]])
    disagrees_on_1 = np.array([[0.5, 0.3], [0.5, 0.3], [0.9, 0.1]])
    one = top_agreement(members, [agrees])
    assert one.patients == 2 and one.share == 1.0 and one.with_top == pytest.approx(2 / 3)
    both = top_agreement(members, [agrees, disagrees_on_1])
    assert both.share == pytest.approx(1 / 2) and both.retrainings == 3


def test_calibration_of_the_true_probabilities_is_ideal_within_its_intervals_and_overconfidence_shows():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.8, 40_000)
    y = (rng.random(len(p)) < p).astype(int)
    ideal = calibration(y=y, p=p)
    assert ideal["slope_interval"][0] < 1 < ideal["slope_interval"][1]
    assert ideal["intercept_interval"][0] < 0 < ideal["intercept_interval"][1]
    assert ideal["oe_interval"][0] < 1 < ideal["oe_interval"][1]
    logit = np.log(p / (1 - p))
    overconfident = calibration(y=y, p=1 / (1 + np.exp(-2 * logit)))
    assert overconfident["calibration_slope"] == pytest.approx(0.5, abs=0.03)


def test_calibration_without_both_outcomes_reports_no_slope_rather_than_a_number():
    c = calibration(y=np.zeros(50), p=np.full(50, 0.2))
    assert c["calibration_slope"] is None and c["oe"] == 0.0 and c["n"] == 50
