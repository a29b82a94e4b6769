"""Existing visits keep their meaning: the migration builds the record's entries from the stored visits."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("patients", "0002_ehr_clients")]
AFTER = [("patients", "0005_therapy_stop_has_reason")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_builds_facts_conditions_and_therapy_lines_from_stored_visits():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    site = old.get_model("patients", "Site").objects.create(code="LU", name="Luxembourg", country="LU")
    patient = old.get_model("patients", "Patient").objects.create(site=site, sex="female", birth_year=1980)
    old.get_model("patients", "Diagnosis").objects.create(patient=patient, disease="multiple_sclerosis",
                                                          subtype="SPMS", diagnosed_on=dt.date(2010, 1, 1))
    Visit = old.get_model("patients", "Visit")
    Visit.objects.create(patient=patient, site=site, disease="multiple_sclerosis", visit_date=dt.date(2025, 1, 10),
                         measurements={"edss": 4.0, "jcv_antibody_positive": True, "jcv_index": 2.1,
                                       "smoking_status": "former"}, source="api", source_id="V-1")
    Visit.objects.create(patient=patient, site=site, disease="multiple_sclerosis", visit_date=dt.date(2025, 6, 1),
                         measurements={"edss": 4.5}, source="api", source_id="V-2")
    Therapy = old.get_model("patients", "TherapyExposure")
    Therapy.objects.create(patient=patient, drug_atc="L04AX07", started_on=dt.date(2015, 1, 1),
                           stopped_on=dt.date(2018, 1, 1), outcome="ongoing")
    Therapy.objects.create(patient=patient, drug_atc="L04AG03", started_on=dt.date(2018, 2, 1))

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    entries = new.get_model("patients", "RecordEntry").objects.filter(patient_id=patient.pk)
    assert {(e.variable, e.value, e.effective_on) for e in entries} == {
        ("jcv_antibody_positive", True, dt.date(2025, 1, 10)), ("jcv_index", 2.1, dt.date(2025, 1, 10)),
        ("smoking_status", "former", dt.date(2025, 1, 10)), ("ms_course", "SPMS", dt.date(2010, 1, 1)),
    }
    lines = new.get_model("patients", "TherapyExposure").objects.filter(patient_id=patient.pk).order_by("started_on")
    assert [(t.drug_atc, t.outcome, t.source) for t in lines] == [("L04AX07", "not_recorded", "migration"),
                                                                   ("L04AG03", "ongoing", "migration")]
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
