"""The patient page shows the record: the state with dates, expired values marked, current therapy first,
and a flowsheet with units in words."""

import datetime as dt

import pytest

from clinnova.audit import Actor
from patients.services import PatientInput, TherapyInput, visit_ingest
from recommendations.jobs import jobs_run_pending

TODAY = dt.date.today()


@pytest.fixture
def ra_patient_with_history(site_lu, ra_model):
    """Latent TB treated 14 months ago (expired screen), heart failure NYHA III yesterday, on abatacept."""
    who = PatientInput(system="urn:test:ehr", value="LU-RA-7", sex="male", birth_year=1958,
                       diagnosed_on=dt.date(2011, 9, 1))
    visit_ingest(site=site_lu, disease="rheumatoid_arthritis", visit_date=TODAY - dt.timedelta(days=430),
                 actor=Actor(client="test"), patient_input=who,
                 measurements={"tuberculosis_status": "latent_treated", "smoking_status": "former",
                               "smoking_pack_years": 12, "esr": 30},
                 therapies=[TherapyInput(drug="etanercept", started_on=dt.date(2016, 1, 1),
                                         stopped_on=dt.date(2019, 3, 1), outcome="secondary_loss_of_response")])
    visit = visit_ingest(site=site_lu, disease="rheumatoid_arthritis", visit_date=TODAY - dt.timedelta(days=1),
                         actor=Actor(client="test"), patient_input=who,
                         measurements={"heart_failure_nyha": "III", "tender_joint_count_28": 6, "esr": 24},
                         therapies=[TherapyInput(drug="abatacept", started_on=dt.date(2019, 4, 1),
                                                 dose="125 mg weekly")])
    jobs_run_pending()
    return visit.patient


def page_of(client, patient) -> str:
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, element_id: str) -> str:
    start = page.index(f'aria-labelledby="{element_id}"')
    return page[start:page.index("</section>", start)]


def test_the_state_shows_each_value_with_its_date_and_marks_the_expired_ones(alice_client, ra_patient_with_history):
    state = section(page_of(alice_client, ra_patient_with_history), "state-title")
    yesterday = TODAY - dt.timedelta(days=1)
    assert "NYHA III" in state and f"recorded {yesterday:%-d %b %Y}" in state
    tb = state[state.index("Tuberculosis"):state.index("</div>", state.index("Tuberculosis"))]
    assert "Latent, treated" in tb and "expired" in tb and "treated as unknown" in tb
    assert "pack-years" in state and "{pack-years}" not in state
    assert "History of venous thromboembolism" in state and "not recorded" in state


def test_current_therapy_comes_first_and_is_not_offered_as_a_drug_to_start(alice_client, ra_patient_with_history):
    page = page_of(alice_client, ra_patient_with_history)
    therapies = section(page, "therapies-title")
    assert therapies.index("abatacept") < therapies.index("etanercept")
    assert "125 mg weekly" in therapies and "Secondary loss of response" in therapies
    ranked = section(page, "rec-title")
    current = ranked[ranked.index("Current therapy"):ranked.index("Drugs to start")]
    assert "abatacept" in current
    to_start = ranked[ranked.index("Drugs to start"):]
    assert "<span class=\"drug\">abatacept</span>" not in to_start


def test_the_flowsheet_has_measurements_as_rows_and_visits_as_columns(alice_client, ra_patient_with_history):
    flow = section(page_of(alice_client, ra_patient_with_history), "visits-title")
    header = flow[flow.index("<thead>"):flow.index("</thead>")]
    assert header.count('scope="col"') == 3  # the label column and two visits
    esr = flow[flow.index(">ESR"):flow.index("</tr>", flow.index(">ESR"))]
    assert "mm/h" in esr and "<td>24</td>" in esr and "<td>30</td>" in esr


def test_the_mayo_endoscopic_and_edss_read_as_clinicians_write_them(alice_client, site_lu):
    visit = visit_ingest(site=site_lu, disease="multiple_sclerosis", visit_date=TODAY, actor=Actor(client="test"),
                         measurements={"edss": 4.5, "ms_course": "RRMS"},
                         patient_input=PatientInput(system="urn:test:ehr", value="LU-MS-3", sex="female",
                                                    birth_year=1988))
    page = page_of(alice_client, visit.patient)
    assert "<td>4.5</td>" in section(page, "visits-title")
    assert "Relapsing-remitting" in page[:page.index('id="state"')]  # the header reads the state's MS course
