import pytest

from patients import drugs


def test_candidates_use_the_atc_codes_valid_since_2024():
    by_name = {d.name: d.atc for d in drugs.DRUGS}
    assert by_name["vedolizumab"] == "L04AG05"
    assert by_name["natalizumab"] == "L04AG03"
    assert by_name["ocrelizumab"] == "L04AG08"
    assert by_name["tofacitinib"] == "L04AF01"
    assert by_name["upadacitinib"] == "L04AF03"
    assert by_name["fingolimod"] == "L04AE01"
    assert by_name["teriflunomide"] == "L04AK02"
    assert by_name["adalimumab"] == "L04AB04"
    assert by_name["ustekinumab"] == "L04AC05"
    assert by_name["methotrexate"] == "L04AX03"


@pytest.mark.parametrize("old,new", [("L04AA33", "L04AG05"), ("L04AA23", "L04AG03"), ("L04AA29", "L04AF01")])
def test_pre_2024_codes_are_accepted_and_mapped(old, new):
    assert drugs.resolve(old).atc == new


def test_drugs_are_found_by_name_case_insensitively():
    assert drugs.resolve("Vedolizumab").atc == "L04AG05"


def test_an_unknown_code_is_refused():
    with pytest.raises(drugs.UnknownDrug):
        drugs.resolve("X99ZZ99")


def test_every_disease_has_several_candidates_and_codes_are_unique():
    for disease in ("crohns_disease", "ulcerative_colitis", "rheumatoid_arthritis", "multiple_sclerosis"):
        assert len(drugs.candidates_for(disease)) >= 6
    atcs = [d.atc for d in drugs.DRUGS]
    assert len(atcs) == len(set(atcs))
    assert not set(drugs.PRE_2024_CODES) & set(atcs)
