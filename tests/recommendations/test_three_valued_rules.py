"""The safety rules read the patient's state three-valued: true, false or unknown (missing or expired)."""

import datetime as dt

import pytest

from patients.drugs import BY_ATC
from patients.models import Outcome, TherapyExposure
from recommendations import safety
from recommendations.conditions import AllOf, AnyOf, Cond, Facts, Recorded

ON = dt.date(2026, 6, 1)
ADALIMUMAB, ETANERCEPT, TOFACITINIB, METHOTREXATE = "L04AB04", "L04AB01", "L04AF01", "L04AX03"
INTERFERON, FINGOLIMOD, NATALIZUMAB, OCRELIZUMAB = "L03AB07", "L04AE01", "L04AG03", "L04AG08"

# A man of 50 whose record answers every screening the rules ask for, all clear.
SCREENED = {
    "sex": "male", "age": 50, "smoking_status": "never", "tuberculosis_status": "none", "hbsag": "negative",
    "anti_hbc": "negative", "hcv_antibody": "negative", "hiv_status": "negative", "vzv_igg": "positive",
    "live_vaccine": "none", "serious_infection_active": False, "immunodeficiency": False, "malignancy_active": False,
    "malignancy_history": False, "hepatic_impairment": "none", "demyelinating_history": False, "vte_history": False,
    "heart_failure_nyha": "none", "arterial_disease_history": False, "av_conduction": "none", "qtc": 410,
    "lymphocytes": 1.8, "neutrophils": 4.0, "platelets": 250, "haemoglobin": 140, "alt": 25, "alt_uln": 40,
    "creatinine_clearance": 95, "severe_depression": False, "cyp2c9_genotype": "*1/*1",
    "jcv_antibody_positive": False, "relapses_12m": 1, "gd_lesions": 1, "new_t2_lesions": 2, "edss": 2.0,
    "ms_course": "RRMS", "disease_duration": 4,
}


def facts(disease="rheumatoid_arthritis", therapies=(), expired=None, recorded_on=None, **values):
    merged = {k: v for k, v in {**SCREENED, **values}.items() if v is not None}
    recorded = {k: ON for k in merged} | (recorded_on or {})
    return Facts(on=ON, values=merged, recorded_on=recorded, expired=expired or {}, therapies=tuple(therapies),
                 disease=disease)


def line(atc, outcome=Outcome.ONGOING, detail="", start=dt.date(2020, 1, 1), stop=None):
    return TherapyExposure(drug_atc=atc, started_on=start, stopped_on=stop, outcome=outcome, stop_detail=detail)


MTX_BEFORE = line(METHOTREXATE, Outcome.SECONDARY_LOSS_OF_RESPONSE, stop=dt.date(2021, 1, 1))


def flags(atc, f, **kw):
    return safety.drug_flags(BY_ATC[atc], f, **kw)


def kinds(flag_list):
    return {(f["severity"], f["rule"]) for f in flag_list}


def test_conditions_follow_kleene_logic():
    f = Facts(on=ON, values={"a": 1})
    known, unknown = Cond("a", "eq", 1), Cond("b", "eq", 1)
    assert AllOf(known, unknown).evaluate(f) is None
    assert AllOf(Cond("a", "eq", 2), unknown).evaluate(f) is False
    assert AnyOf(known, unknown).evaluate(f) is True
    assert AnyOf(Cond("a", "eq", 2), unknown).evaluate(f) is None
    assert Recorded("b").evaluate(f) is None  # a screening that is missing is never "false"


def test_a_fully_screened_record_gives_adalimumab_no_flag_at_all():
    assert flags(ADALIMUMAB, facts(therapies=[MTX_BEFORE])) == []


def test_a_missing_tb_screening_asks_for_it_before_adalimumab():
    check = [f for f in flags(ADALIMUMAB, facts(tuberculosis_status=None)) if f["severity"] == "check_before_starting"]
    assert len(check) == 1  # the screening rule and the two TB contraindications ask for one thing: one flag
    assert check[0]["message"] == ("TB screening (IGRA or TST) not recorded — required before starting adalimumab; "
                                   "SmPC 4.4")
    assert check[0]["evidence"][0]["variable"] == "tuberculosis_status"
    assert "Humira (adalimumab) EU SmPC, section 4.4" in check[0]["source"]


def test_an_expired_tb_screening_says_when_it_expired_and_what_it_was():
    f = facts(tuberculosis_status=None, expired={"tuberculosis_status": ("none", dt.date(2025, 3, 12),
                                                                         dt.date(2026, 3, 12))})
    check = next(f for f in flags(ADALIMUMAB, f) if f["severity"] == "check_before_starting")
    assert check["message"].startswith("TB screening (IGRA or TST) expired on 12 Mar 2026 (last: Tuberculosis: "
                                       "No tuberculosis)")
    assert check["evidence"][0]["status"] == "expired" and check["evidence"][0]["expired_on"] == "2026-03-12"


def test_active_tuberculosis_contraindicates_adalimumab_but_not_interferon_beta():
    f = facts(disease="multiple_sclerosis", tuberculosis_status="active")
    assert ("contraindicated", "active_tuberculosis") in kinds(flags(ADALIMUMAB, facts(tuberculosis_status="active")))
    assert not [x for x in flags(INTERFERON, f) if "tuberculosis" in x["rule"]]


def test_a_rule_that_holds_cites_the_drugs_own_document_and_what_it_read():
    flag = flags(ADALIMUMAB, facts(heart_failure_nyha="III", therapies=[MTX_BEFORE]))[0]
    assert flag["severity"] == "contraindicated" and flag["rule"] == "heart_failure_severe"
    assert flag["evidence"] == [{"variable": "heart_failure_nyha", "value": "III", "recorded_on": ON.isoformat()}]
    # Etanercept's SmPC calls heart failure a precaution (4.4), not a contraindication.
    assert kinds(flags(ETANERCEPT, facts(heart_failure_nyha="III", therapies=[MTX_BEFORE]))) == {
        ("caution", "heart_failure_etanercept")}


def test_tofacitinib_with_haemoglobin_70_g_per_l_must_not_be_started():
    assert ("contraindicated", "anaemia_tofacitinib") in kinds(flags(TOFACITINIB, facts(haemoglobin=70)))
    assert ("contraindicated", "anaemia_tofacitinib") not in kinds(flags(TOFACITINIB, facts(haemoglobin=95)))


def test_a_former_smoker_with_unknown_pack_years_gets_a_check_for_a_jak_inhibitor():
    got = flags(TOFACITINIB, facts(smoking_status="former", therapies=[MTX_BEFORE]))
    check = [f for f in got if f["severity"] == "check_before_starting"]
    assert len(check) == 1 and check[0]["message"].startswith("Pack-years smoked not recorded")
    assert ("caution", "jak_long_time_smoker") in kinds(
        flags(TOFACITINIB, facts(smoking_status="former", smoking_pack_years=25, therapies=[MTX_BEFORE])))


def test_pregnancy_rules_read_women_of_child_bearing_age_only():
    woman = dict(sex="female", age=32, effective_contraception=True, therapies=[MTX_BEFORE])
    unknown = flags(METHOTREXATE, facts(pregnancy_status=None, **woman))
    assert any(f["severity"] == "check_before_starting" and "Pregnancy status not recorded" in f["message"]
               for f in unknown)
    pregnant = flags(METHOTREXATE, facts(pregnancy_status="pregnant", **woman))
    assert ("contraindicated", "pregnancy_contraindicated") in kinds(pregnant)
    assert "methotrexate EU SmPCs" in next(f for f in pregnant if f["rule"] == "pregnancy_contraindicated")["source"]
    # A man, and a woman of 62, are not asked.
    for other in (facts(therapies=[MTX_BEFORE]), facts(sex="female", age=62, therapies=[MTX_BEFORE])):
        assert not [f for f in flags(METHOTREXATE, other) if "pregnan" in f["message"].lower()]


def test_a_woman_without_contraception_cannot_start_fingolimod():
    f = facts(disease="multiple_sclerosis", sex="female", age=28, pregnancy_status="not_pregnant",
              effective_contraception=False, relapses_12m=2, gd_lesions=2)
    assert ("contraindicated", "contraception_contraindicated") in kinds(flags(FINGOLIMOD, f))


def test_a_hypersensitivity_reaction_recorded_as_a_stop_reason_contraindicates_the_same_drug():
    reaction = line(ADALIMUMAB, Outcome.ADVERSE_EVENT, "anaphylaxis after the second injection",
                    stop=dt.date(2021, 2, 1))
    got = kinds(flags(ADALIMUMAB, facts(therapies=[MTX_BEFORE, reaction])))
    assert ("contraindicated", "hypersensitivity") in got and ("caution", "prior_adverse_event") not in got
    other = line(ADALIMUMAB, Outcome.ADVERSE_EVENT, "injection-site reaction", stop=dt.date(2021, 2, 1))
    assert ("caution", "prior_adverse_event") in kinds(flags(ADALIMUMAB, facts(therapies=[MTX_BEFORE, other])))
    assert not any(f["rule"] == "hypersensitivity" for f in flags(ETANERCEPT, facts(therapies=[MTX_BEFORE, reaction])))


def test_primary_non_response_is_not_recommended_with_the_smpc_stop_rule_as_source():
    failed = line(ETANERCEPT, Outcome.PRIMARY_NON_RESPONSE, stop=dt.date(2020, 6, 1))
    flag = next(f for f in flags(ETANERCEPT, facts(therapies=[MTX_BEFORE, failed])) if f["rule"] == "primary_non_response")
    assert flag["severity"] == "not_recommended"
    assert flag["source"] == "Enbrel (etanercept) EU SmPC, section 4.2 (not verified against the current SmPC text)"


def test_fingolimod_is_not_licensed_for_primary_progressive_ms():
    f = facts(disease="multiple_sclerosis", ms_course="PPMS")
    licence = next(x for x in flags(FINGOLIMOD, f) if x["rule"] == "licence")
    assert licence["severity"] == "not_licensed"
    assert licence["message"].startswith("Not licensed for primary progressive MS: fingolimod is licensed")
    assert safety.tier_of(flags(FINGOLIMOD, f)) == "not_licensed"


def test_an_unknown_ms_course_asks_for_it_instead_of_staying_silent():
    licence = next(x for x in flags(OCRELIZUMAB, facts(disease="multiple_sclerosis", ms_course=None))
                   if x["rule"] == "licence")
    assert licence["severity"] == "check_before_starting"
    assert licence["message"].startswith("MS course not recorded — needed to confirm that ocrelizumab is licensed")


def test_ocrelizumab_is_licensed_for_early_ppms_with_inflammatory_activity_only():
    early = facts(disease="multiple_sclerosis", ms_course="PPMS", edss=4.0, disease_duration=5, new_t2_lesions=1,
                  gd_lesions=0, relapses_12m=0)
    assert not [x for x in flags(OCRELIZUMAB, early) if x["rule"] == "licence"]
    late = facts(disease="multiple_sclerosis", ms_course="PPMS", edss=7.0, disease_duration=5, new_t2_lesions=1,
                 gd_lesions=0, relapses_12m=0)
    assert "not early" in next(x for x in flags(OCRELIZUMAB, late) if x["rule"] == "licence")["message"]


def test_natalizumab_for_non_highly_active_rrms_after_a_year_of_a_dmt_is_not_licensed():
    glatiramer = line("L03AX13", start=dt.date(2023, 1, 1))
    f = facts(disease="multiple_sclerosis", relapses_12m=0, gd_lesions=0, new_t2_lesions=0, therapies=[glatiramer])
    assert next(x for x in flags(NATALIZUMAB, f) if x["rule"] == "licence")["severity"] == "not_licensed"
    active = facts(disease="multiple_sclerosis", relapses_12m=1, gd_lesions=2, therapies=[glatiramer])
    assert not [x for x in flags(NATALIZUMAB, active) if x["rule"] == "licence"]


def test_a_drug_already_taken_gets_no_check_before_starting_but_keeps_its_contraindications():
    f = facts(tuberculosis_status=None, heart_failure_nyha="IV", therapies=[MTX_BEFORE])
    got = flags(ADALIMUMAB, f, current=True)
    assert {x["severity"] for x in got} == {"contraindicated"}


@pytest.mark.parametrize("severity", ["contraindicated", "not_licensed", "not_recommended", "caution",
                                      "check_before_starting"])
def test_every_kind_of_flag_has_a_label_and_sorts_in_severity_order(severity):
    assert severity in safety.SEVERITY_LABELS and severity in safety.SEVERITIES
