"""The patient page: header, activity chart, ranked drugs with SHAP waterfalls, and the compare view."""

import datetime as dt
import math

import pytest

from clinnova.models import AuditEvent
from doors.pages.selectors import patient_page
from patients.services import TherapyInput
from recommendations.explanations import comparison, sigmoid, waterfall
from recommendations.jobs import jobs_run_pending
from recommendations.selectors import recommendation_payload
from tests.pages.conftest import METHOTREXATE_FAILED, ra_visit


def _page(client, patient) -> str:
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_header_shows_pseudonymous_id_sex_age_disease_and_duration(alice_client, scored_patient):
    page = _page(alice_client, scored_patient)
    assert "Patient LU-0001" in page
    assert "Female" in page and "(born 1968)" in page
    assert "Rheumatoid arthritis" in page
    assert "years <span class=\"muted\">(diagnosed Apr 2015)</span>" in page


def test_the_activity_chart_is_an_accessible_svg_with_the_therapies_beneath(alice_client, site_lu, ra_model):
    adalimumab = TherapyInput(drug="adalimumab", started_on=dt.date.today() - dt.timedelta(days=150))
    ra_visit(site_lu, ref="LU-CHART", days_ago=200, therapies=[METHOTREXATE_FAILED], tender_joint_count_28=14)
    visit = ra_visit(site_lu, ref="LU-CHART", days_ago=20, tender_joint_count_28=3, therapies=[adalimumab])
    page = _page(alice_client, visit.patient)
    start = page.index('<svg class="activity drawing-wide"')
    chart = page[start:page.index("</svg>", start)]
    assert 'role="img"' in chart and 'aria-labelledby="t-das28_esr-wide d-das28_esr-wide"' in chart
    assert "DAS28-ESR over time, against its activity bands, with therapies</title>" in chart
    assert "DAS28-ESR at 2 visits" in chart
    assert chart.count('<circle class="pt"') == 2
    assert "adalimumab" in chart and "lane-ongoing" in chart
    assert "methotrexate" not in chart  # stopped years before the first visit drawn
    assert "1 earlier therapy ended before the first visit shown" in page


def test_every_activity_score_is_charted_against_its_bands_with_values_written_and_tabled(alice_client, site_lu,
                                                                                        ra_model):
    ra_visit(site_lu, ref="LU-BANDS", days_ago=200, tender_joint_count_28=14)
    visit = ra_visit(site_lu, ref="LU-BANDS", days_ago=20, tender_joint_count_28=3)
    page = _page(alice_client, visit.patient)
    for key in ("das28_esr", "das28_crp", "cdai", "sdai"):
        assert f'aria-labelledby="t-{key}-wide d-{key}-wide"' in page, key
        assert f'aria-labelledby="t-{key}-narrow d-{key}-narrow"' in page, key  # the phone's drawing
    das28 = page[page.index('<svg class="activity drawing-wide"'):]
    das28 = das28[:das28.index("</svg>")]
    assert 'class="band band-target shade-0"' in das28 and 'class="band band-off-target shade-1"' in das28
    assert "Remission &lt; 2.6" in page and "High disease activity &gt; 5.1" in page
    assert "Target: remission or low disease activity" in page and "Fransen J, van Riel PLCM" in page
    for score in visit.scores.values():  # each value written beside its point, and in the table
        value = f"{round(score['value'], 2):g}"
        assert f'text-anchor="middle">{value}</text>' in page and f"<td>{value}</td>" in page


def test_lab_trends_show_each_value_against_its_reference_range(alice_client, site_lu, ra_model):
    ra_visit(site_lu, ref="LU-LABS", days_ago=90, crp=31.5, albumin=33.0)
    visit = ra_visit(site_lu, ref="LU-LABS", days_ago=5, crp=4.2, albumin=41.0)
    page = _page(alice_client, visit.patient)
    labs = page[page.index('id="labs-title"'):]
    assert "CRP over time, against its reference range" in labs and "Usual upper reference limit 5 mg/L" in labs
    assert "<td>31.5 mg/L</td>" in labs and "<td>4.2 mg/L</td>" in labs and "<td>41 g/L</td>" in labs
    assert 'class="band band-reference shade-0"' in labs
    assert "Fecal calprotectin" not in labs  # not measured for this patient


def test_the_ranked_drugs_show_probability_class_and_a_bar(alice_client, scored_patient):
    page = _page(alice_client, scored_patient)
    drugs = recommendation_payload(scored_patient.visits.get())["drugs"]
    top = drugs[0]
    pct = round(top["probability"] * 100)
    assert f'<span class="prob">{pct} %</span>' in page and "chance of response" in page
    assert f'<rect class="pbar-fg" width="{pct}" height="10"/>' in page
    assert top["class"] in page
    # The label only where the ensemble found a leader (recommendations.tiers), as the payload says.
    assert ("Top suggestion" in page) == any(d["top_suggestion"] for d in drugs)
    assert page.count('class="drug-item') == len(drugs)


def test_each_percentage_says_what_response_means_and_what_the_average_patient_gets(alice_client, scored_patient):
    page = _page(alice_client, scored_patient)
    payload = recommendation_payload(scored_patient.visits.get())
    average = round(sigmoid(payload["base_value"]) * 100)
    context = f"Response: EULAR good response at month 6 (DAS28 improvement &gt; 1.2 and DAS28 ≤ 3.2) · average patient {average} %"
    assert page.count(context) == len(payload["drugs"])


def test_edss_is_written_as_neurologists_write_it(alice_client, site_lu, all_models):
    from clinnova.audit import Actor
    from patients.services import PatientInput, visit_ingest

    visit = visit_ingest(site=site_lu, disease="multiple_sclerosis", visit_date=dt.date.today(),
                         measurements={"edss": 4.5}, actor=Actor(client="test"),
                         patient_input=PatientInput(system="urn:test", value="LU-MS-1", sex="female", birth_year=1985))
    page = _page(alice_client, visit.patient)
    assert "<td>4.5</td>" in page and "4.50" not in page
    listed = alice_client.get("/patients/").content.decode()
    assert "EDSS <strong>4.5</strong>" in listed and "4.50" not in listed


def test_a_contraindicated_drug_is_set_apart_after_the_others(alice_client, site_lu, ra_model):
    visit = ra_visit(site_lu, ref="LU-NYHA", heart_failure_nyha="III")
    jobs_run_pending()
    page = _page(alice_client, visit.patient)
    block = page[page.index('<div class="contra-block">'):page.index('id="decision"')]
    assert "Contraindicated for this patient" in block
    for anti_tnf in ("adalimumab", "certolizumab pegol"):
        assert anti_tnf in block
    # Etanercept's SmPC puts heart failure under warnings (4.4), not contraindications.
    assert "etanercept" not in block
    assert "Heart failure NYHA class III" in block
    ranked_part = page[page.index('<ol class="ranked">'):page.index('<div class="contra-block">')]
    assert "adalimumab" not in ranked_part


def test_each_drug_explains_itself_in_a_waterfall_in_plain_words(alice_client, scored_patient):
    page = _page(alice_client, scored_patient)
    details = page[page.index('<details class="explain" id="explain-'):]
    details = details[:details.index("</details>")]
    assert "<summary>Why " in details
    assert '<svg class="wf"' in details and 'role="img"' in details
    assert "Average patient:" in details and "log-odds" in details and "percentage points" in details
    # A value with its unit, as the dictionary describes it, among the reasons: "CRP 14 mg/L (high; reference ≤ 5)".
    top = recommendation_payload(scored_patient.visits.get())["drugs"][0]
    assert next(r["text"] for r in top["shap"] if r.get("reason")) in page.replace("&#x27;", "'")
    assert "Raised the probability" in details and "Lowered the probability" in details


def test_a_waterfall_runs_from_the_average_patient_to_the_drugs_chance_in_percentage_points(scored_patient):
    payload = recommendation_payload(scored_patient.visits.get())
    for drug in payload["drugs"]:
        w = waterfall(drug, payload["base_value"])
        contributions = [float(s.value) for s in w.steps if s.kind in ("up", "down")]
        # The steps, rounded to 0.1 point each, add up to the drug's chance.
        base_pct = sigmoid(payload["base_value"]) * 100
        assert base_pct + sum(contributions) == pytest.approx(drug["probability"] * 100, abs=0.1 * len(contributions))
        assert w.steps[0].kind == "base" and w.steps[-1].kind == "score"
        assert f"{round(drug['probability'] * 100)} %" in w.steps[-1].text
        assert sigmoid(drug["margin"]) == pytest.approx(drug["probability"], abs=1e-3)
        assert w.logodds_ticks and all(t.label.endswith(" %") for t in w.logodds_ticks)
        # The drug itself is explained, and no unrecorded input is offered as a reason of its own.
        texts = [s.text for s in w.steps]
        assert any("this drug's average response in patients like the cohort" in t for t in texts)
        assert not any(t.endswith("not recorded") for t in texts)


def test_the_page_shows_the_same_points_as_the_api(alice_client, scored_patient):
    payload = recommendation_payload(scored_patient.visits.get())
    page = _page(alice_client, scored_patient)
    top = payload["drugs"][0]
    reason = next(r for r in top["shap"] if r.get("reason"))
    assert f"{reason['text']} <span class=\"muted\">({reason['pp']:+.1f} points)</span>" in page.replace("&#x27;", "'")


def test_a_feature_computed_per_drug_is_described_not_called_missing(alice_client, site_lu, ra_model):
    visit = ra_visit(site_lu, ref="LU-MTX", therapies=[METHOTREXATE_FAILED])
    jobs_run_pending()
    context = patient_page(visit.patient, today=visit.visit_date)
    texts = {d["name"]: next(r["text"] for r in d["shap"] if r["feature"] == "prior_same_class_failure")
             for d in context["recommendation"]["drugs"]}
    assert texts["methotrexate"] == "Same drug class failed before: yes"
    assert texts["abatacept"] == "Same drug class failed before: no"


def test_missing_inputs_are_listed_with_a_note_on_certainty(alice_client, site_lu, ra_model):
    visit = ra_visit(site_lu, ref="LU-GAPS", albumin=None, haemoglobin=None)
    jobs_run_pending()
    page = _page(alice_client, visit.patient)
    assert "the ranking is less certain" in page
    missing = page[page.index("Not recorded at this visit:"):]
    assert "Albumin" in missing[:300] and "Haemoglobin" in missing[:300]


def test_while_the_ranking_is_computed_the_page_says_so_and_refreshes_itself(alice_client, ra_patient_lu):
    page = _page(alice_client, ra_patient_lu)
    assert '<meta http-equiv="refresh" content="3">' in page
    assert "The ranking is being computed" in page


def test_a_ready_page_does_not_refresh_itself(alice_client, scored_patient):
    assert 'http-equiv="refresh"' not in _page(alice_client, scored_patient)


def test_the_patient_page_is_read_in_a_bounded_number_of_queries(alice_client, alice, scored_patient,
                                                                  django_assert_max_num_queries):
    import uuid

    from django.utils import timezone

    from clinnova.audit import Actor
    from patients.models import TherapyExposure
    from recommendations.decisions import DecisionInput, decision_record

    TherapyExposure.objects.create(patient=scored_patient, drug_atc="L04AB04", started_on=dt.date(2020, 1, 1))
    rec_id = patient_page(scored_patient, today=scored_patient.visits.get().visit_date)["recommendation"]["id"]
    for atc in ("L04AB04", "L04AC07", "L04AX03"):
        decision_record(patient=scored_patient, actor=Actor(user=alice), current_drugs=set(),
                        today=timezone.localdate(),
                        data=DecisionInput(recommendation_id=rec_id, kind="start_ranked", drug_atc=atc,
                                           reason="clinical_judgement", idempotency_key=uuid.uuid4()))
    with django_assert_max_num_queries(20):
        alice_client.get(f"/patients/{scored_patient.pk}/")


def test_viewing_is_audited_and_another_sites_clinician_gets_not_found(alice_client, bob_client, scored_patient):
    # bob_client and alice_client are the same test client: Bob signs in last.
    assert bob_client.get(f"/patients/{scored_patient.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="access_refused", patient_id=scored_patient.pk).exists()


# --- compare ----------------------------------------------------------------------


def test_compare_puts_two_drugs_side_by_side_and_says_why_one_scores_higher(alice_client, scored_patient):
    drugs = recommendation_payload(scored_patient.visits.get())["drugs"]
    a, b = drugs[0], drugs[-1]
    response = alice_client.get(f"/patients/{scored_patient.pk}/compare/?a={a['atc']}&b={b['atc']}")
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Why {a['name']} over {b['name']} for patient LU-0001?" in page
    assert f"The drugs themselves: {a['name']} rather than {b['name']}" in page
    assert page.count('<svg class="wf"') == 2 and '<svg class="diff"' in page
    assert AuditEvent.objects.filter(action="patient_view", patient_id=scored_patient.pk,
                                     detail__page="compare").exists()


def test_compare_starts_with_the_top_two(alice_client, scored_patient):
    drugs = recommendation_payload(scored_patient.visits.get())["drugs"]
    response = alice_client.get(f"/patients/{scored_patient.pk}/compare/")
    assert response.status_code == 302
    assert response["Location"].endswith(f"?a={drugs[0]['atc']}&b={drugs[1]['atc']}")


def test_compare_asks_for_two_different_ranked_drugs(alice_client, scored_patient):
    page = alice_client.get(f"/patients/{scored_patient.pk}/compare/?a=L04AB04&b=L04AB04").content.decode()
    assert "Choose two different drugs" in page
    page = alice_client.get(f"/patients/{scored_patient.pk}/compare/?a=L04AB04&b=XXX").content.decode()
    assert "Choose two different drugs" in page


def test_another_sites_clinician_cannot_compare_for_the_patient(bob_client, scored_patient):
    assert bob_client.get(f"/patients/{scored_patient.pk}/compare/?a=L04AB04&b=L04AC07").status_code == 404


def test_the_differences_between_two_drugs_add_up_to_the_gap(scored_patient):
    payload = recommendation_payload(scored_patient.visits.get())
    a, b = payload["drugs"][0], payload["drugs"][3]
    result = comparison(a, b, payload["base_value"])
    assert sum(r.diff for r in result.rows) == pytest.approx((a["probability"] - b["probability"]) * 100, abs=0.01)
    assert result.rows[0].text.startswith("The drugs themselves") or abs(result.rows[0].diff) >= abs(
        next(r.diff for r in result.rows if r.text.startswith("The drugs themselves")))
    assert math.isclose(result.logodds_gap, a["margin"] - b["margin"])


def test_the_two_waterfalls_of_the_compare_view_share_one_scale(scored_patient):
    from doors.pages.selectors import patient_compare

    payload = recommendation_payload(scored_patient.visits.get())
    a, b = payload["drugs"][0]["atc"], payload["drugs"][-1]["atc"]
    result = patient_compare(scored_patient, a=a, b=b)
    wa, wb = result["a"]["waterfall"], result["b"]["waterfall"]
    assert [(t.x, t.label) for t in wa.logodds_ticks] == [(t.x, t.label) for t in wb.logodds_ticks]
    # The first row (the drugs themselves) is never cut on the page.
    assert len(result["comparison"].rows[0].text) <= 48 or "…" not in result["comparison"].rows[0].text
