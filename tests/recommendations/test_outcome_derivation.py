"""Each disease's outcome is decided from later visits by the model's own definition, or stays open."""

import datetime as dt

import pytest

from patients.dictionary import CD, MS, RA, UC
from patients.models import Visit
from patients.scores import derived_scores
from recommendations.outcomes import OUTCOME_DEFINITIONS

START = dt.date(2025, 1, 6)


def visit(days: int, **measurements) -> Visit:
    scores = {name: s.as_dict() for name, s in derived_scores(measurements).items()}
    return Visit(visit_date=START + dt.timedelta(days=days), measurements=measurements, scores=scores)


def decide(disease, start, later):
    return OUTCOME_DEFINITIONS[disease].decide(start, later)


def hbi(total: int) -> dict:
    return {"hbi_general_wellbeing": 0, "hbi_abdominal_pain": 0, "hbi_liquid_stools": total,
            "hbi_abdominal_mass": 0, "hbi_complications": 0}


def test_crohns_remission_is_hbi_below_5_at_week_26():
    assert decide(CD, visit(0, **hbi(12)), [visit(180, **hbi(4))]).responded is True
    assert decide(CD, visit(0, **hbi(12)), [visit(180, **hbi(5))]).responded is False


def test_crohns_takes_the_visit_closest_to_week_26_and_ignores_visits_outside_the_window():
    verdict = decide(CD, visit(0, **hbi(12)), [visit(150, **hbi(9)), visit(185, **hbi(2)), visit(215, **hbi(9))])
    assert verdict.responded is True and verdict.evidence["hbi"] == 2
    assert decide(CD, visit(0, **hbi(12)), [visit(60, **hbi(1)), visit(300, **hbi(1))]) is None


def mayo(stool, bleeding, pga) -> dict:
    return {"mayo_stool_frequency": stool, "mayo_rectal_bleeding": bleeding, "mayo_physician_global": pga}


def test_colitis_remission_needs_partial_mayo_at_most_2_and_no_subscore_above_1():
    assert decide(UC, visit(0, **mayo(3, 2, 2)), [visit(182, **mayo(1, 0, 1))]).responded is True
    assert decide(UC, visit(0, **mayo(3, 2, 2)), [visit(182, **mayo(2, 0, 0))]).responded is False
    assert decide(UC, visit(0, **mayo(3, 2, 2)), [visit(182, mayo_stool_frequency=0)]) is None


def ra(tender, swollen, esr, pg) -> dict:
    return {"tender_joint_count_28": tender, "swollen_joint_count_28": swollen, "esr": esr, "patient_global": pg}


def test_arthritis_good_response_needs_das28_at_most_3_2_and_an_improvement_above_1_2():
    baseline = visit(0, **ra(14, 10, 40, 70))
    assert decide(RA, baseline, [visit(182, **ra(1, 0, 8, 10))]).responded is True
    # Improved by more than 1.2 but still above 3.2: a moderate response, not a good one.
    verdict = decide(RA, baseline, [visit(182, **ra(6, 4, 25, 40))])
    assert verdict.responded is False and verdict.evidence["improvement"] > 1.2


def test_arthritis_without_a_baseline_das28_cannot_be_decided_from_visits():
    assert decide(RA, visit(0, esr=30), [visit(182, **ra(1, 0, 8, 10))]) is None


def ms(relapses=0, t2=0, gd=0, edss=2.0) -> dict:
    return {"relapses_12m": relapses, "new_t2_lesions": t2, "gd_lesions": gd, "edss": edss}


def test_multiple_sclerosis_neda3_needs_two_clean_years_with_mri_and_edss():
    start = visit(0, **ms(relapses=2, t2=3, gd=1))
    assert decide(MS, start, [visit(365, **ms()), visit(730, **ms())]).responded is True
    assert decide(MS, start, [visit(730, **ms())]) is None  # year one not covered


@pytest.mark.parametrize("first_year, second_year", [
    (ms(t2=1), ms()),
    (ms(), ms(relapses=1)),
    (ms(edss=3.5), ms(edss=3.5)),
])
def test_multiple_sclerosis_evidence_of_activity_ends_neda3(first_year, second_year):
    start = visit(0, **ms(relapses=2, t2=3, gd=1))
    assert decide(MS, start, [visit(365, **first_year), visit(730, **second_year)]).responded is False


def test_an_unconfirmed_edss_rise_is_not_worsening():
    start = visit(0, **ms(relapses=2, t2=3, gd=1))
    assert decide(MS, start, [visit(365, **ms(edss=3.5)), visit(730, **ms(edss=2.0))]).responded is True
