import pytest

from patients import dictionary
from patients.dictionary import DictionaryError, clean_measurements


def errors_of(disease, raw):
    with pytest.raises(DictionaryError) as exc:
        clean_measurements(disease, raw)
    return {e.field: e for e in exc.value.errors}


def test_every_variable_is_defined_once_with_a_unit_and_diseases():
    names = [v.name for v in dictionary.VARIABLES]
    assert len(names) == len(set(names))
    for var in dictionary.VARIABLES:
        assert var.diseases, var.name
        assert var.unit, var.name


def test_the_lab_variables_carry_their_loinc_codes():
    assert dictionary.BY_NAME["crp"].loinc == "1988-5"
    assert dictionary.BY_NAME["esr"].loinc == "4537-7"
    assert dictionary.BY_NAME["fecal_calprotectin"].loinc == "38445-3"


def test_each_disease_has_its_activity_components():
    cd = {v.name for v in dictionary.variables_for("crohns_disease")}
    assert {"hbi_general_wellbeing", "montreal_location", "prior_bowel_surgery", "fistulising_disease"} <= cd
    ms = {v.name for v in dictionary.variables_for("multiple_sclerosis")}
    assert {"edss", "relapses_12m", "gd_lesions", "jcv_index"} <= ms
    assert "edss" not in {v.name for v in dictionary.variables_for("rheumatoid_arthritis")}


def test_it_converts_crp_from_mg_per_dl_to_mg_per_l():
    clean = clean_measurements("rheumatoid_arthritis", {"crp": {"value": 2.4, "unit": "mg/dL"}})
    assert clean["crp"] == pytest.approx(24.0)


def test_it_converts_haemoglobin_from_mmol_per_l():
    clean = clean_measurements("crohns_disease", {"haemoglobin": {"value": 8.0, "unit": "mmol/L"}})
    assert clean["haemoglobin"] == pytest.approx(128.9, abs=0.1)


def test_it_rejects_an_unknown_variable_naming_it():
    err = errors_of("crohns_disease", {"crp_level": 3})
    assert "is not a variable of the data dictionary" in err["measurements.crp_level"].message


def test_it_rejects_crp_out_of_range_with_the_allowed_range():
    err = errors_of("rheumatoid_arthritis", {"crp": 900})
    assert err["measurements.crp"].value == 900
    assert "0 to 500 mg/L" in err["measurements.crp"].message


def test_it_rejects_a_unit_that_cannot_be_converted():
    err = errors_of("rheumatoid_arthritis", {"crp": {"value": 3, "unit": "mm/h"}})
    assert "cannot be converted to mg/L" in err["measurements.crp"].message
    assert "mg/dL" in err["measurements.crp"].message


def test_it_rejects_a_code_outside_the_allowed_set():
    err = errors_of("crohns_disease", {"montreal_location": "L9"})
    assert err["measurements.montreal_location"].message == "must be one of L1, L2, L3, L4"


def test_it_rejects_an_edss_off_kurtzkes_scale():
    for value in (3.25, 0.5):
        err = errors_of("multiple_sclerosis", {"edss": value})
        assert err["measurements.edss"].message.startswith("must be one of 0, 1, 1.5, 2")


def test_it_accepts_every_edss_step_of_kurtzkes_scale():
    steps = [0, 1.0] + [x / 2 for x in range(3, 21)]
    for value in steps:
        assert dictionary.clean_measurements("multiple_sclerosis", {"edss": value}) == {"edss": value}


def test_it_rejects_a_variable_of_another_disease():
    err = errors_of("rheumatoid_arthritis", {"edss": 3.0})
    assert "not recorded for rheumatoid_arthritis" in err["measurements.edss"].message


def test_it_refuses_derived_variables_as_input():
    err = errors_of("crohns_disease", {"age": 40})
    assert "derived" in err["measurements.age"].message


def test_it_reports_every_problem_at_once():
    err = errors_of("crohns_disease", {"crp": -1, "albumin": "high", "hbi_abdominal_pain": 1.5})
    assert set(err) == {"measurements.crp", "measurements.albumin", "measurements.hbi_abdominal_pain"}


def test_values_are_described_in_plain_words():
    assert dictionary.BY_NAME["crp"].describe(24) == "CRP 24 mg/L"
    assert dictionary.BY_NAME["prior_anti_tnf_failure"].describe(True) == "Prior anti-TNF failure: yes"


def test_it_rejects_a_unit_that_is_not_a_string_and_numbers_too_large():
    err = errors_of("rheumatoid_arthritis", {"crp": {"value": 3, "unit": ["mg/L"]}, "esr": 10 ** 400})
    assert "UCUM code" in err["measurements.crp"].message
    assert "must be a number from 1 to 150" in err["measurements.esr"].message
