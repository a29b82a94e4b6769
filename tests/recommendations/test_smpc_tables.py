"""The SmPC tables as a pharmacist reviews them: every candidate has a licence, every rule a source that says how far
it was checked, every input a dictionary variable."""

import re
import string

import pytest

from patients import dictionary
from patients.drugs import DRUGS, resolve
from recommendations.licences import indications_for
from recommendations.rules_catalogue import rule_rows
from recommendations.smpc import INDICATIONS, RULES
from recommendations.smpc.base import SEVERITIES
from recommendations.smpc.documents import DOCUMENTS

# EU-approved candidates the catalogue is adding (issue 12): the tables cover them already, by ATC code.
EU_CANDIDATES = {"L04AC16": ("crohns_disease", "ulcerative_colitis"), "L04AC24": ("ulcerative_colitis",),
                 "L04AE05": ("ulcerative_colitis",), "L04AF04": ("rheumatoid_arthritis", "ulcerative_colitis"),
                 "L04AC14": ("rheumatoid_arthritis",), "L04AE03": ("multiple_sclerosis",),
                 "L04AE04": ("multiple_sclerosis",), "L04AG14": ("multiple_sclerosis",)}


@pytest.mark.parametrize("drug", [d for d in DRUGS if d.diseases], ids=lambda d: d.name)
def test_every_candidate_of_the_catalogue_has_a_licence_row_for_each_of_its_diseases(drug):
    for disease in drug.diseases:
        assert indications_for(drug.atc, disease), f"{drug.name} ({drug.atc}) has no licence row for {disease}"


@pytest.mark.parametrize("atc,diseases", EU_CANDIDATES.items())
def test_the_new_eu_candidates_are_covered_before_they_enter_the_catalogue(atc, diseases):
    for disease in diseases:
        assert indications_for(atc, disease), (atc, disease)
    assert any(rule.applies_to(atc) for rule in RULES)


def test_every_rule_and_licence_names_a_document_known_by_atc_code():
    atcs = {atc for rule in RULES for atc in rule.sources} | {i.atc for i in INDICATIONS}
    assert atcs <= set(DOCUMENTS)
    for atc in atcs:
        assert re.fullmatch(r"[A-Z]\d{2}[A-Z]{2}\d{2}", atc)


def test_every_source_says_how_far_it_was_checked():
    sources = [s for rule in RULES for s in rule.sources.values()] + [i.source for i in INDICATIONS]
    for source in sources:
        if source.level == "N":
            assert source.text.endswith("(not verified against the current SmPC text)"), source
        elif source.level == "P":
            assert "(partly verified" in source.text, source
        elif source.level == "V":
            assert "(checked against " in source.text, source
        else:
            assert source.level == "project" and "project choice" in source.text
        assert source.section or source.level == "project", source


def test_every_rule_reads_dictionary_variables_and_fills_its_messages():
    for rule in RULES:
        assert rule.severity in SEVERITIES
        for name in rule.when.variables():
            assert name in dictionary.BY_NAME, (rule.code, name)
        for atc in rule.sources:
            for template in (rule.message, rule.why):
                text = rule.text(template, drug="X", atc=atc)
                assert "{" not in text and "}" not in text, (rule.code, atc)
        fields = {f for _, f, _, _ in string.Formatter().parse(rule.message) if f}
        assert fields <= {"drug", "note"}, rule.code


def test_every_condition_variable_a_clinician_records_says_what_to_check():
    asked = {name for rule in RULES for name in rule.when.variables()}
    asked |= {name for i in INDICATIONS for r in i.requires for name in r.when.variables()}
    for name in asked - {"sex", "age", "disease_duration", "childbearing_potential"}:
        assert dictionary.BY_NAME[name].ask, name


def test_the_rules_are_unique_per_code_and_the_page_lists_every_drug_rule_pair():
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes))
    assert len(rule_rows()) == sum(len(rule.sources) for rule in RULES)


def test_pre_2024_and_older_atc_codes_resolve_to_the_catalogue_drug():
    for old, name in (("L04AA33", "vedolizumab"), ("L04AA29", "tofacitinib"), ("N07XX09", "dimethyl fumarate"),
                      ("L01XC02", "rituximab"), ("L01BA01", "methotrexate")):
        assert resolve(old).name == name
