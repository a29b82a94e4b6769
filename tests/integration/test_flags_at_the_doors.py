"""Each kind of flag where people read it: the JSON recommendation, FHIR RiskAssessment, CDS Hooks cards and the
patient page; the ranking puts drugs to start first, then drugs outside their licence, then contraindicated drugs."""

import datetime as dt

import pytest
from fhir.resources.R4B.riskassessment import RiskAssessment

from clinnova.audit import Actor
from doors.fhir import codes
from patients.services import PatientInput, TherapyInput, visit_ingest
from recommendations.jobs import jobs_run_pending
from recommendations.scoring import _rank
from recommendations.selectors import recommendation_payload
from tests.conftest import RA_VISIT
from tests.integration.cds_helpers import call, cds_ehr_register, patient_view
from tests.patients.api_helpers import auth

TODAY = dt.date.today()
MS_VISIT = {"ms_course": "PPMS", "edss": 6.0, "relapses_12m": 0, "gd_lesions": 0, "new_t2_lesions": 0,
            "tuberculosis_status": "none", "jcv_antibody_positive": False}


def _visit(site, disease, measurements, ref, *, therapies=(), sex="male", birth_year=1975):
    visit = visit_ingest(site=site, disease=disease, visit_date=TODAY - dt.timedelta(days=1), measurements=measurements,
                         actor=Actor(client="test"), therapies=list(therapies),
                         patient_input=PatientInput(system="urn:test:ehr", value=ref, sex=sex, birth_year=birth_year,
                                                    diagnosed_on=dt.date(2016, 1, 1)))
    jobs_run_pending()
    return visit


@pytest.fixture
def ppms_visit(site_lu, all_models):
    """A man with primary progressive MS that is no longer early: no candidate is licensed for him."""
    return _visit(site_lu, "multiple_sclerosis", MS_VISIT, "LU-PPMS")


def test_the_ranking_order_is_start_then_not_licensed_then_contraindicated_then_current():
    def item(atc, p, *severities, current=False):
        return {"drug_atc": atc, "probability": p, "current": current, "rank": 0,
                "flags": [{"severity": s, "rule": s} for s in severities]}

    items = [item("A", 0.9, "contraindicated"), item("B", 0.8, "not_licensed"), item("C", 0.2, "check_before_starting"),
             item("D", 0.95, current=True), item("E", 0.5, "caution"), item("F", 0.7, "not_licensed", "contraindicated")]
    _rank(items)
    assert [it["drug_atc"] for it in items] == ["E", "C", "B", "A", "F", "D"]
    assert [it["rank"] for it in items] == [1, 2, 3, 4, 5, 6]


def test_the_json_recommendation_carries_each_kind_with_its_source_and_the_ranking_group(client, ehr_lu, ppms_visit):
    payload = recommendation_payload(ppms_visit)
    fingolimod = next(d for d in payload["drugs"] if d["name"] == "fingolimod")
    licence = next(f for f in fingolimod["flags"] if f["rule"] == "licence")
    assert licence["severity"] == "not_licensed" and fingolimod["licensed"] is False
    assert fingolimod["group"] == "not_licensed" and licence["source"].startswith("Gilenya (fingolimod) EU SmPC, "
                                                                                 "section 4.1")
    # Nothing recorded about hepatitis B: anti-CD20 antibodies ask for it before starting.
    ocrelizumab = next(d for d in payload["drugs"] if d["name"] == "ocrelizumab")
    assert ocrelizumab["check_before_starting"]
    check = next(f for f in ocrelizumab["flags"] if f["severity"] == "check_before_starting"
                 and f["evidence"][0]["variable"] == "hbsag")
    assert check["message"].startswith("HBsAg not recorded; Anti-HBc not recorded — required before starting "
                                       "ocrelizumab; SmPC 4.4")
    assert {d["group"] for d in payload["drugs"]} == {"not_licensed"}


def test_no_ppms_patient_gets_an_unlicensed_drug_as_top_suggestion_on_the_page(alice_client, ppms_visit):
    page = alice_client.get(f"/patients/{ppms_visit.patient_id}/").content.decode()
    assert "Top suggestion" not in page
    assert "Not licensed for this patient" in page and "Not licensed for primary progressive MS" in page


def test_a_drug_to_start_that_needs_a_check_is_marked_on_the_page(alice_client, site_lu, ra_model):
    visit = _visit(site_lu, "rheumatoid_arthritis", dict(RA_VISIT), "LU-CHECK",
                   therapies=[TherapyInput(drug="methotrexate", started_on=dt.date(2019, 1, 1),
                                           stopped_on=dt.date(2020, 1, 1), outcome="secondary_loss_of_response")])
    page = alice_client.get(f"/patients/{visit.patient_id}/").content.decode()
    assert "need a check before starting" in page or "needs a check before starting" in page
    assert '<span class="tag tag-check">Check before starting</span>' in page
    assert "TB screening (IGRA or TST) not recorded — required before starting" in page


def test_the_fhir_risk_assessment_carries_every_flag_with_kind_rule_and_source(client, ehr_lu, ppms_visit):
    response = client.get(f"/fhir/RiskAssessment?patient={ppms_visit.patient_id}", **auth(ehr_lu[1]))
    assessment = response.json()["entry"][0]["resource"]
    RiskAssessment.model_validate(assessment)
    prediction = next(p for p in assessment["prediction"]
                      if p["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "L04AE01")
    groups = [e["valueCode"] for e in prediction["extension"] if e["url"] == codes.RANKING_GROUP]
    assert groups == ["not_licensed"]
    flags = [{x["url"]: x for x in e["extension"]} for e in prediction["extension"] if e["url"] == codes.SAFETY_FLAG]
    kinds = {f["kind"]["valueCoding"]["code"] for f in flags}
    assert {"not_licensed", "check_before_starting"} <= kinds
    licence = next(f for f in flags if f["rule"]["valueString"] == "licence")
    assert "Gilenya (fingolimod) EU SmPC, section 4.1" in licence["source"]["valueString"]
    assert licence["verified"]["valueCode"] in ("V", "P", "N")
    assert "Not licensed: Not licensed for primary progressive MS" in prediction["rationale"]


def test_cds_cards_are_critical_for_contraindications_and_warnings_for_checks_and_licences(
        client, site_lu, ppms_visit, tmp_path):
    ehr = cds_ehr_register(tmp_path)
    cards = call(client, ehr, patient_view("LU-PPMS")).json()["cards"]
    assert cards[0]["indicator"] == "info" and "not licensed" in cards[0]["detail"]
    assert "(not licensed)" in cards[0]["summary"]  # no drug outside its licence reads as a plain suggestion
    licence = [c for c in cards[1:] if "not licensed" in c["summary"]]
    checks = [c for c in cards[1:] if "check before starting" in c["summary"]]
    assert licence and all(c["indicator"] == "warning" for c in licence)
    assert checks and all(c["indicator"] == "warning" for c in checks)
    assert all("_Source: " in c["detail"] for c in licence + checks)
    assert not [c for c in cards if c["indicator"] == "critical"]
