"""The new visit form: generated from the data dictionary, validated by it, stored through visit_ingest."""

import datetime as dt
import re
from pathlib import Path

from patients import dictionary, scores
from patients.dictionary import Kind, Origin
from patients.models import Visit, VisitSource
from recommendations.models import ScoringJob

SCORES_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "scores.js"


def _form(client, patient, query=""):
    response = client.get(f"/patients/{patient.pk}/visits/new{query}")
    assert response.status_code == 200
    return response.content.decode()


def _input(page: str, name: str) -> str:
    match = re.search(rf'<(input|select)[^>]*name="{name}"[^>]*>', page)
    assert match, name
    return match.group(0)


def test_the_form_has_one_field_per_measured_variable_of_the_disease(alice_client, ra_patient_lu):
    page = _form(alice_client, ra_patient_lu)
    for var in dictionary.variables_for("rheumatoid_arthritis", origin=Origin.MEASURED):
        assert f'name="{var.name}"' in page, var.name
        assert f'<label for="id_{var.name}">{var.label}' in page
    assert 'name="hbi_abdominal_pain"' not in page and 'name="age"' not in page  # other disease; derived


def test_numbers_carry_their_unit_range_and_step(alice_client, ra_patient_lu):
    page = _form(alice_client, ra_patient_lu)
    crp = _input(page, "crp")
    assert 'type="number"' in crp and 'min="0"' in crp and 'max="500"' in crp and 'step="any"' in crp
    assert '<span class="unit">(mg/L)</span>' in page and "0 to 500 mg/L" in page
    assert 'step="1"' in _input(page, "tender_joint_count_28")
    assert 'step="0.125"' in _input(page, "haq_di") and "in steps of 0.125" in page


def test_codes_are_selects_and_yes_no_questions_allow_unknown(alice_client, ra_patient_lu):
    page = _form(alice_client, ra_patient_lu)
    smoking = page[page.index('name="smoking_status"'):page.index("</select>", page.index('name="smoking_status"'))]
    for code in dictionary.BY_NAME["smoking_status"].codes:
        assert f'value="{code.code}"' in smoking and code.label in smoking
    vte = page[page.index('name="vte_history"'):page.index("</select>", page.index('name="vte_history"'))]
    assert 'value="" selected>Not recorded' in vte and 'value="yes">Yes' in vte and 'value="no">No' in vte


def test_a_crohns_patient_gets_the_harvey_bradshaw_items_and_its_live_score(alice_client, site_lu):
    from clinnova.audit import Actor
    from patients.services import PatientInput, visit_ingest

    visit = visit_ingest(site=site_lu, disease="crohns_disease", visit_date=dt.date.today(), measurements={"crp": 3},
                         actor=Actor(client="test"),
                         patient_input=PatientInput(system="urn:test", value="LU-CD-1", sex="male", birth_year=1990))
    page = _form(alice_client, visit.patient)
    assert "New visit · Crohn&#x27;s disease" in page
    for name in ("hbi_general_wellbeing", "hbi_liquid_stools", "montreal_location", "fecal_calprotectin"):
        assert f'name="{name}"' in page
    assert '<output id="out-hbi"' in page and 'name="esr"' not in page


def test_an_out_of_range_value_is_refused_next_to_its_field_and_every_value_is_kept(alice_client, ra_patient_lu):
    before = Visit.objects.count()
    response = alice_client.post(f"/patients/{ra_patient_lu.pk}/visits/new", {
        "visit_date": dt.date.today().isoformat(), "crp": "900", "esr": "31", "smoking_status": "former",
        "rf_positive": "yes", "tender_joint_count_28": "5",
    })
    page = response.content.decode()
    assert response.status_code == 400 and Visit.objects.count() == before
    crp_field = page[page.index('<label for="id_crp">'):page.index('<label for="id_albumin">')]
    assert "CRP is out of range: must be a number from 0 to 500 mg/L" in crp_field
    assert 'aria-invalid="true"' in _input(page, "crp") and 'value="900"' in _input(page, "crp")
    assert 'value="31"' in _input(page, "esr")
    assert 'value="former" selected' in page and 'value="yes" selected' in page
    assert 'href="#id_crp"' in page  # the summary at the top links to the field


def test_a_visit_in_the_future_is_refused_next_to_the_date(alice_client, ra_patient_lu):
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    response = alice_client.post(f"/patients/{ra_patient_lu.pk}/visits/new", {"visit_date": tomorrow.isoformat()})
    assert response.status_code == 400
    page = response.content.decode()
    date_field = page[page.index('<label for="id_visit_date">'):page.index("</section>", page.index("id_visit_date"))]
    assert "The visit date must not be in the future: allowed from" in date_field


def test_saving_stores_a_web_form_visit_scores_it_and_returns_to_the_patient(alice_client, ra_patient_lu, ra_model,
                                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(f"/patients/{ra_patient_lu.pk}/visits/new", {
            "visit_date": dt.date.today().isoformat(), "tender_joint_count_28": "4", "swollen_joint_count_28": "2",
            "esr": "20", "patient_global": "30", "crp": "", "rf_positive": "no",
        })
    assert response.status_code == 302 and response["Location"] == f"/patients/{ra_patient_lu.pk}/"
    visit = Visit.objects.filter(patient=ra_patient_lu).order_by("-created_at").first()
    assert visit.source == VisitSource.FORM and visit.visit_date == dt.date.today()
    assert visit.measurements == {"tender_joint_count_28": 4, "swollen_joint_count_28": 2, "esr": 20.0,
                                  "patient_global": 30.0, "rf_positive": False}
    expected = scores.derived_scores(visit.measurements)["das28_esr"].value
    assert visit.scores["das28_esr"]["value"] == expected and visit.activity_score == expected
    assert ScoringJob.objects.get(visit=visit).status == "done"
    page = alice_client.get(response["Location"]).content.decode()
    assert "Visit saved." in page and '<ol class="ranked">' in page


def test_the_derived_scores_shown_again_after_an_error_come_from_the_server(alice_client, ra_patient_lu):
    page = alice_client.post(f"/patients/{ra_patient_lu.pk}/visits/new", {
        "visit_date": dt.date.today().isoformat(), "tender_joint_count_28": "4", "swollen_joint_count_28": "2",
        "esr": "20", "patient_global": "30", "crp": "900",
    }).content.decode()
    das = scores.derived_scores({"tender_joint_count_28": 4, "swollen_joint_count_28": 2, "esr": 20,
                                 "patient_global": 30})["das28_esr"]
    output = page[page.index('<output id="out-das28_esr"'):page.index("</output>", page.index("out-das28_esr"))]
    assert output.endswith(f">{das.value:g}")
    assert das.category_label in page


def test_another_sites_clinician_cannot_open_the_form(bob_client, ra_patient_lu):
    assert bob_client.get(f"/patients/{ra_patient_lu.pk}/visits/new").status_code == 404
    assert bob_client.post(f"/patients/{ra_patient_lu.pk}/visits/new", {}).status_code == 404


def test_the_live_scores_script_uses_the_published_cut_offs():
    # The browser test checks the formulas; here the category cut-offs are read against patients/scores.py.
    js = SCORES_JS.read_text()
    for name, (bands, top) in scores._BANDS.items():
        line = re.search(rf"^\s*{name}: \[\[(.*)\], \"(\w+)\"\],?$", js, re.M)
        assert line, name
        js_bands = re.findall(r'\["(<=?)", ([\d.]+), "(\w+)"\]', line.group(1))
        assert [(op, float(bound), cat) for op, bound, cat in js_bands] == [(op, float(b), c) for op, b, c in bands]
        assert line.group(2) == top


def test_the_form_covers_every_kind_of_variable():
    kinds = {v.kind for disease in dictionary.Disease
             for v in dictionary.variables_for(disease, origin=Origin.MEASURED)}
    assert kinds == {Kind.QUANTITY, Kind.INTEGER, Kind.BOOLEAN, Kind.CODE, Kind.DATE}


def test_the_live_scores_include_sdai_for_rheumatoid_arthritis(alice_client, ra_patient_lu):
    page = _form(alice_client, ra_patient_lu)
    assert '<output id="out-sdai" for="id_tender_joint_count_28 id_swollen_joint_count_28 id_patient_global ' \
           'id_evaluator_global id_crp" data-score="sdai"' in page
    assert '<span class="score-label" id="label-sdai">SDAI</span>' in page


def test_a_refused_value_names_its_unit_as_the_label_does(alice_client, site_lu):
    from clinnova.audit import Actor
    from patients.services import PatientInput, visit_ingest

    visit = visit_ingest(site=site_lu, disease="crohns_disease", visit_date=dt.date.today(), measurements={"crp": 3},
                         actor=Actor(client="test"),
                         patient_input=PatientInput(system="urn:test", value="LU-CD-2", sex="male", birth_year=1990))
    page = alice_client.post(f"/patients/{visit.patient.pk}/visits/new", {
        "visit_date": dt.date.today().isoformat(), "fecal_calprotectin": "20000", "hbi_liquid_stools": "90",
    }).content.decode()
    assert "must be a number from 0 to 10000 µg/g" in page and "ug/g" not in page
    assert "40 per day" in page and "40 /d" not in page
