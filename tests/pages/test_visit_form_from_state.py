"""The new-visit form starts from the patient's state, and records therapy starts, stops and switches."""

import datetime as dt

import pytest

from clinnova.audit import Actor
from patients.models import RecordEntry, Visit
from patients.services import PatientInput, TherapyInput, visit_ingest
from patients.state import patient_state

TODAY = dt.date.today()
LAST_VISIT = TODAY - dt.timedelta(days=13)


@pytest.fixture
def uc_patient_on_adalimumab(site_lu):
    """A man with ulcerative colitis, left-sided, on adalimumab since 2010, NYHA II recorded 13 days ago."""
    visit = visit_ingest(
        site=site_lu, disease="ulcerative_colitis", visit_date=LAST_VISIT, actor=Actor(client="test"),
        measurements={"montreal_extent": "E2", "heart_failure_nyha": "II", "crp": 8.0, "mayo_stool_frequency": 2},
        therapies=[TherapyInput(drug="adalimumab", started_on=dt.date(2010, 5, 1))],
        patient_input=PatientInput(system="urn:test:ehr", value="LU-UC-9", sex="male", birth_year=1979,
                                   diagnosed_on=dt.date(2007, 2, 1)))
    return visit.patient


def form_page(client, patient) -> str:
    response = client.get(f"/patients/{patient.pk}/visits/new")
    assert response.status_code == 200
    return response.content.decode()


def test_facts_and_conditions_are_prefilled_with_their_date_and_measurements_start_empty(
        alice_client, uc_patient_on_adalimumab):
    page = form_page(alice_client, uc_patient_on_adalimumab)
    extent = page[page.index('name="montreal_extent"'):page.index("</select>", page.index('name="montreal_extent"'))]
    assert 'value="E2" selected' in extent
    assert f"Unchanged since {LAST_VISIT:%-d %b %Y}" in page
    assert 'name="confirm_heart_failure_nyha"' in page
    crp = page[page.index('name="crp"'):page.index(">", page.index('name="crp"'))]
    assert "value=" not in crp


def test_pregnancy_is_not_asked_of_a_male_patient(alice_client, uc_patient_on_adalimumab):
    assert 'name="pregnancy_status"' not in form_page(alice_client, uc_patient_on_adalimumab)


def post(client, patient, **data):
    body = {"visit_date": TODAY.isoformat(), "disease": "ulcerative_colitis", "montreal_extent": "E2",
            "heart_failure_nyha": "II", "mayo_stool_frequency": "1", **data}
    return client.post(f"/patients/{patient.pk}/visits/new", body)


def test_an_unchanged_condition_keeps_its_date_unless_confirmed_today(alice_client, uc_patient_on_adalimumab):
    patient = uc_patient_on_adalimumab
    assert post(alice_client, patient).status_code == 302
    assert patient_state(patient, on=TODAY).values["heart_failure_nyha"].recorded_on == LAST_VISIT
    assert post(alice_client, patient, visit_date=TODAY.isoformat(), confirm_heart_failure_nyha="on").status_code == 302
    assert patient_state(patient, on=TODAY).values["heart_failure_nyha"].recorded_on == TODAY


def test_a_changed_fact_is_a_new_dated_entry(alice_client, uc_patient_on_adalimumab):
    patient = uc_patient_on_adalimumab
    assert post(alice_client, patient, montreal_extent="E3").status_code == 302
    assert list(RecordEntry.objects.filter(patient=patient, variable="montreal_extent")
                .order_by("effective_on").values_list("value", flat=True)) == ["E2", "E3"]


def test_starting_infliximab_while_adalimumab_is_current_asks_whether_adalimumab_stops(
        alice_client, uc_patient_on_adalimumab):
    patient = uc_patient_on_adalimumab
    response = post(alice_client, patient, start_drug="L04AB02")
    assert response.status_code == 400
    assert "adalimumab is current: does it continue with infliximab, or stop (and when)?" in response.content.decode()
    assert Visit.objects.filter(patient=patient).count() == 1

    line = patient.therapies.get()
    response = post(alice_client, patient, start_drug="L04AB02", start_dose="5 mg/kg",
                    **{f"line_{line.pk}": "stops", f"line_{line.pk}_stop": TODAY.isoformat(),
                       f"line_{line.pk}_reason": "secondary_loss_of_response"})
    assert response.status_code == 302
    lines = {t.drug_atc: t for t in patient.therapies.all()}
    assert (lines["L04AB04"].stopped_on, lines["L04AB04"].outcome) == (TODAY, "secondary_loss_of_response")
    assert (lines["L04AB02"].started_on, lines["L04AB02"].dose, lines["L04AB02"].stopped_on) == (TODAY, "5 mg/kg",
                                                                                                 None)
    assert patient_state(patient, on=TODAY).current_drugs == {"L04AB02"}


def test_a_stop_needs_its_date_and_reason(alice_client, uc_patient_on_adalimumab):
    line = uc_patient_on_adalimumab.therapies.get()
    response = post(alice_client, uc_patient_on_adalimumab, **{f"line_{line.pk}": "stops"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Say when adalimumab stopped." in page and "Say why adalimumab stopped" in page
