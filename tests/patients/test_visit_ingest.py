import datetime as dt

import pytest

from clinnova.audit import Actor
from clinnova.models import AuditEvent
from patients.dictionary import DictionaryError
from patients.models import Patient, TherapyExposure, Visit
from patients.services import PatientInput, TherapyInput, visit_amend, visit_ingest
from tests.conftest import RA_VISIT

ACTOR = Actor(client="test-ehr")
TODAY = dt.date.today()


def ingest(site, **overrides):
    kwargs = dict(
        site=site, disease="rheumatoid_arthritis", visit_date=TODAY, measurements=dict(RA_VISIT), actor=ACTOR,
        patient_input=PatientInput(system="urn:test:ehr", value="P-1", sex="female", birth_year=1970),
    )
    kwargs.update(overrides)
    return visit_ingest(**kwargs)


def test_a_visit_is_stored_with_its_derived_scores(site_lu):
    visit = ingest(site_lu)
    visit.refresh_from_db()
    # DAS28-ESR = 0.56·√8 + 0.28·√5 + 0.70·ln 32 + 0.014·60 = 1.584 + 0.626 + 2.426 + 0.84 = 5.48
    assert visit.scores["das28_esr"]["value"] == pytest.approx(5.48, abs=0.01)
    assert visit.activity_label == "DAS28-ESR"
    assert visit.activity_category == "High disease activity"
    assert visit.patient.site == site_lu


def test_the_same_identifier_means_the_same_patient(site_lu):
    first = ingest(site_lu)
    second = ingest(site_lu, visit_date=TODAY - dt.timedelta(days=90))
    assert first.patient_id == second.patient_id
    assert Patient.objects.count() == 1


def test_therapies_are_resolved_from_pre_2024_codes(site_lu):
    ingest(site_lu, therapies=[TherapyInput(drug="L04AA29", started_on=dt.date(2020, 1, 1),
                                            stopped_on=dt.date(2021, 1, 1), outcome="primary_non_response")])
    therapy = TherapyExposure.objects.get()
    assert therapy.drug.name == "tofacitinib"
    assert therapy.drug_atc == "L04AF01"


def test_it_writes_an_audit_event_with_the_visit(site_lu):
    visit = ingest(site_lu)
    event = AuditEvent.objects.get(action="visit_create")
    assert event.actor_client == "test-ehr"
    assert event.patient_id == visit.patient_id
    assert event.object_id == str(visit.pk)


@pytest.mark.parametrize("overrides,field", [
    ({"measurements": {**RA_VISIT, "crp": 600}}, "measurements.crp"),
    ({"visit_date": TODAY + dt.timedelta(days=2)}, "date"),
    ({"visit_date": dt.date(1960, 5, 1)}, "date"),
    ({"disease": "asthma"}, "disease"),
    ({"therapies": [TherapyInput(drug="Z99", started_on=dt.date(2020, 1, 1))]}, "therapies[0].drug"),
    ({"patient_input": PatientInput(system="s", value="v", sex="unknown", birth_year=1970)}, "patient.sex"),
])
def test_bad_input_names_the_field_and_stores_nothing(site_lu, overrides, field):
    with pytest.raises(DictionaryError) as exc:
        ingest(site_lu, **overrides)
    assert field in {e.field for e in exc.value.errors}
    assert Visit.objects.count() == 0
    assert Patient.objects.count() == 0
    assert TherapyExposure.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_an_amendment_keeps_the_previous_version(site_lu):
    visit = ingest(site_lu)
    amended = visit_amend(visit=visit, visit_date=visit.visit_date,
                          measurements={**RA_VISIT, "tender_joint_count_28": 0, "swollen_joint_count_28": 0},
                          actor=ACTOR)
    assert amended.version == 2
    old = amended.revisions.get()
    assert old.measurements["tender_joint_count_28"] == 8
    assert amended.scores["das28_esr"]["value"] < old.scores["das28_esr"]["value"]


def test_the_audit_trail_refuses_an_update_below_the_orm(site_lu):
    from django.db import DatabaseError, connection, transaction

    ingest(site_lu)
    event = AuditEvent.objects.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE clinnova_auditevent SET action = 'tampered' WHERE id = %s", [event.id])
    assert AuditEvent.objects.get().action == "visit_create"
