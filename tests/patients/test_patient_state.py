"""The patient's state on a date: facts hold, conditions carry forward until they expire, measurements age."""

import datetime as dt

import pytest

from clinnova.audit import Actor
from patients.models import RecordEntry
from patients.services import PatientInput, TherapyInput, visit_ingest
from patients.state import Status, patient_state

TODAY = dt.date.today()
EHR = Actor(client="test")


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def ra_visit(site, *, on, measurements, therapies=(), ref="LU-0100"):
    return visit_ingest(site=site, disease="rheumatoid_arthritis", visit_date=on, measurements=measurements,
                        actor=EHR, therapies=list(therapies),
                        patient_input=PatientInput(system="urn:test:ehr", value=ref, sex="female", birth_year=1960,
                                                   diagnosed_on=dt.date(2012, 3, 1)))


@pytest.fixture
def heart_failure_then_joints(site_lu):
    """The story of the issue: NYHA III and untreated latent TB yesterday, only joint counts today."""
    first = ra_visit(site_lu, on=days_ago(1), measurements={"heart_failure_nyha": "III",
                                                            "tuberculosis_status": "latent_untreated",
                                                            "tender_joint_count_28": 9})
    second = ra_visit(site_lu, on=TODAY, measurements={"tender_joint_count_28": 7, "swollen_joint_count_28": 4})
    return first, second


def test_a_condition_recorded_yesterday_is_still_known_today_with_its_date(heart_failure_then_joints):
    first, second = heart_failure_then_joints
    state = patient_state(second.patient, on=TODAY, visit=second)
    hf = state.values["heart_failure_nyha"]
    assert (hf.value, hf.status, hf.recorded_on) == ("III", Status.CURRENT, days_ago(1))
    assert state.value("tuberculosis_status") == "latent_untreated"
    assert state.values["tuberculosis_status"].recorded_on == days_ago(1)


def test_a_measurement_belongs_to_its_visit_and_the_latest_one_is_current(heart_failure_then_joints):
    _, second = heart_failure_then_joints
    state = patient_state(second.patient, on=TODAY)
    assert state.value("tender_joint_count_28") == 7
    assert state.values["tender_joint_count_28"].recorded_on == TODAY


def test_a_screening_past_its_validity_window_is_expired_and_reads_as_unknown(site_lu):
    visit = ra_visit(site_lu, on=days_ago(400), measurements={"tuberculosis_status": "none"})
    state = patient_state(visit.patient, on=TODAY)
    tb = state.values["tuberculosis_status"]
    assert tb.status == Status.EXPIRED and tb.value == "none"
    assert tb.expires_on == days_ago(400) + dt.timedelta(days=365)
    assert state.value("tuberculosis_status") is None
    assert "tuberculosis_status" not in state.known()


def test_a_lab_value_older_than_its_window_is_not_current(site_lu):
    visit = ra_visit(site_lu, on=days_ago(120), measurements={"crp": 30.0})
    state = patient_state(visit.patient, on=TODAY)
    assert state.values["crp"].status == Status.EXPIRED
    assert state.value("crp") is None
    # Within its 90 days it was current.
    assert patient_state(visit.patient, on=days_ago(40)).value("crp") == 30.0


def test_a_history_of_malignancy_never_expires_but_no_malignancy_does(site_lu):
    visit = ra_visit(site_lu, on=days_ago(800), measurements={"malignancy_history": True, "vte_history": False})
    state = patient_state(visit.patient, on=TODAY)
    assert state.value("malignancy_history") is True
    assert state.values["vte_history"].status == Status.EXPIRED


def test_a_never_recorded_variable_is_unknown_never_false(ra_patient_lu):
    state = patient_state(ra_patient_lu, on=TODAY)
    assert state.values["heart_failure_nyha"].status == Status.UNKNOWN
    assert state.value("heart_failure_nyha") is None
    assert "vte_history" not in state.known()


def test_a_fact_holds_until_a_new_dated_entry_changes_it_and_history_is_kept(site_lu):
    def cd_visit(on, behaviour):
        return visit_ingest(site=site_lu, disease="crohns_disease", visit_date=on, actor=EHR,
                            measurements={"montreal_behaviour": behaviour, "hbi_abdominal_pain": 1},
                            patient_input=PatientInput(system="urn:test:ehr", value="LU-CD-1", sex="male",
                                                       birth_year=1990))

    cd_visit(days_ago(900), "B1")
    later = cd_visit(days_ago(30), "B2")
    cd_visit_without = visit_ingest(site=site_lu, disease="crohns_disease", visit_date=TODAY, actor=EHR,
                                    patient=later.patient, measurements={"hbi_abdominal_pain": 2})
    state = patient_state(cd_visit_without.patient, on=TODAY)
    assert state.value("montreal_behaviour") == "B2"
    assert state.values["montreal_behaviour"].recorded_on == days_ago(30)
    assert patient_state(later.patient, on=days_ago(100)).value("montreal_behaviour") == "B1"
    assert list(RecordEntry.objects.filter(patient=later.patient, variable="montreal_behaviour")
                .order_by("effective_on").values_list("value", flat=True)) == ["B1", "B2"]


def test_a_state_on_an_earlier_date_never_sees_what_was_recorded_later(heart_failure_then_joints):
    first, _ = heart_failure_then_joints
    state = patient_state(first.patient, on=days_ago(2))
    assert state.value("heart_failure_nyha") is None
    assert state.value("tender_joint_count_28") is None


def test_the_current_drug_counts_as_exposure_and_is_current(site_lu):
    visit = visit_ingest(site=site_lu, disease="ulcerative_colitis", visit_date=TODAY, actor=EHR,
                         measurements={"mayo_stool_frequency": 2},
                         therapies=[TherapyInput(drug="adalimumab", started_on=dt.date(2010, 5, 1))],
                         patient_input=PatientInput(system="urn:test:ehr", value="LU-UC-1", sex="female",
                                                    birth_year=1980, diagnosed_on=dt.date(2008, 1, 1)))
    state = patient_state(visit.patient, on=TODAY)
    assert state.value("prior_anti_tnf_exposure") is True
    assert state.value("prior_anti_tnf_failure") is False
    assert state.value("prior_advanced_therapies") == 1
    assert state.current_drugs == {"L04AB04"}


def test_a_stop_is_recorded_with_its_reason_and_never_undone_by_a_message_without_one(site_lu):
    start = dt.date(2020, 1, 1)
    visit = ra_visit(site_lu, on=days_ago(10), measurements={},
                     therapies=[TherapyInput(drug="etanercept", started_on=start, stopped_on=days_ago(20),
                                             outcome="adverse_event", stop_detail="injection-site reaction")])
    ra_visit(site_lu, on=days_ago(5), measurements={}, therapies=[TherapyInput(drug="etanercept", started_on=start)])
    line = visit.patient.therapies.get()
    assert (line.stopped_on, line.outcome, line.stop_detail) == (days_ago(20), "adverse_event",
                                                                 "injection-site reaction")


def test_a_stop_without_a_reason_is_stored_as_not_recorded_not_as_other(site_lu):
    visit = ra_visit(site_lu, on=TODAY, measurements={},
                     therapies=[TherapyInput(drug="methotrexate", started_on=dt.date(2019, 1, 1),
                                             stopped_on=dt.date(2021, 1, 1))])
    assert visit.patient.therapies.get().outcome == "not_recorded"


def test_an_ms_course_named_by_the_diagnosis_is_the_course_the_state_reads(site_lu):
    visit = visit_ingest(site=site_lu, disease="multiple_sclerosis", visit_date=TODAY, actor=EHR,
                         measurements={"edss": 3.5},
                         patient_input=PatientInput(system="urn:test:ehr", value="LU-MS-1", sex="female",
                                                    birth_year=1985, subtype="PPMS"))
    assert patient_state(visit.patient, on=TODAY).value("ms_course") == "PPMS"
