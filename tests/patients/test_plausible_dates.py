"""Dates that make sense: refused with the field and the allowed range, at every write, amendments included."""

import datetime as dt

import pytest

from clinnova.audit import Actor
from patients.dictionary import DictionaryError
from patients.models import Patient, Visit
from patients.services import PatientInput, TherapyInput, visit_amend, visit_ingest

EHR = Actor(client="test")
TODAY = dt.date.today()


def ingest(site, *, on=TODAY, birth_year=1970, diagnosed_on=None, therapies=()):
    return visit_ingest(site=site, disease="rheumatoid_arthritis", visit_date=on, measurements={"esr": 20},
                        actor=EHR, therapies=list(therapies),
                        patient_input=PatientInput(system="urn:test:ehr", value="LU-D-1", sex="male",
                                                   birth_year=birth_year, diagnosed_on=diagnosed_on))


def fields_of(exc) -> dict:
    return {e.field: e.message for e in exc.value.errors}


def test_a_visit_before_the_patients_birth_year_is_refused_with_the_allowed_range(site_lu):
    with pytest.raises(DictionaryError) as exc:
        ingest(site_lu, on=dt.date(1969, 12, 31))
    assert "must not be before the patient's birth year 1970: allowed from 1970-01-01" in fields_of(exc)["date"]
    assert not Patient.objects.exists()


def test_a_diagnosis_dated_year_one_is_refused_not_scored_as_two_thousand_years_of_disease(site_lu):
    with pytest.raises(DictionaryError) as exc:
        ingest(site_lu, diagnosed_on=dt.date(1, 1, 1))
    assert "patient.diagnosed_on" in fields_of(exc)
    assert not Visit.objects.exists()


def test_an_amendment_passes_the_same_checks_as_a_new_visit(site_lu):
    visit = ingest(site_lu, on=dt.date(2025, 6, 1))
    with pytest.raises(DictionaryError) as exc:
        visit_amend(visit=visit, visit_date=dt.date(1, 1, 1), measurements={"esr": 20}, actor=EHR)
    assert "must not be before the patient's birth year 1970" in fields_of(exc)["date"]
    visit.refresh_from_db()
    assert visit.visit_date == dt.date(2025, 6, 1) and visit.version == 1


def test_a_therapy_cannot_stop_before_it_starts_or_after_the_visit(site_lu):
    with pytest.raises(DictionaryError) as exc:
        ingest(site_lu, on=dt.date(2025, 6, 1), therapies=[
            TherapyInput(drug="methotrexate", started_on=dt.date(2020, 1, 1), stopped_on=dt.date(2019, 1, 1),
                         outcome="primary_non_response"),
            TherapyInput(drug="etanercept", started_on=dt.date(2024, 1, 1), stopped_on=dt.date(2025, 7, 1),
                         outcome="adverse_event"),
            TherapyInput(drug="abatacept", started_on=dt.date(1899, 1, 1)),
        ])
    errors = fields_of(exc)
    assert "must not be before the start (2020-01-01)" in errors["therapies[0].stop"]
    assert "must not be after the visit date" in errors["therapies[1].stop"]
    assert "must not be before the patient's birth year 1970" in errors["therapies[2].start"]


def test_an_age_outside_the_dictionary_range_is_refused_before_scoring(site_lu):
    with pytest.raises(DictionaryError) as exc:
        ingest(site_lu, birth_year=1900)
    assert "outside its range" in fields_of(exc)["patient.birth_year"]
