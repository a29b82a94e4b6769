"""One selector resolves a patient the way an EHR client names it, and never by another client's or system's id."""

from __future__ import annotations

import datetime as dt

import pytest

from clinnova.audit import Actor
from patients.dictionary import DictionaryError
from patients.models import PatientReference
from patients.selectors import patient_for_client
from patients.services import PatientInput, visit_ingest
from tests.conftest import RA_VISIT
from tests.patients.api_helpers import ehr_client_create

FHIR_ID, IDENTIFIER = PatientReference.Kind.FHIR_ID, PatientReference.Kind.IDENTIFIER
MRN = "http://hospital.example/mrn"


def _store(site, client, *, value="", references=(), visit_days=3):
    return visit_ingest(
        site=site, disease="rheumatoid_arthritis", visit_date=dt.date.today() - dt.timedelta(days=visit_days),
        measurements=dict(RA_VISIT), actor=Actor(client="test"),
        patient_input=PatientInput(system=client.identifier_system if value else "", value=value, sex="female",
                                   birth_year=1968, client_id=client.pk, references=tuple(references)),
    ).patient


@pytest.fixture
def epic(site_lu):
    return ehr_client_create(site_lu, "epic")[0]


@pytest.fixture
def cerner(site_lu):
    """A second EHR of the same site, whose ids overlap Epic's."""
    return ehr_client_create(site_lu, "cerner")[0]


def test_a_patient_is_found_by_the_fhir_id_the_client_sent(epic):
    patient = _store(epic.site, epic, references=[(FHIR_ID, "", "PatientinMusterfrau")])
    assert patient_for_client(clients=[epic], patient_id="PatientinMusterfrau") == patient
    assert patient_for_client(clients=[epic], patient_id="Patient/PatientinMusterfrau") == patient


def test_a_patient_is_found_by_the_clients_own_id_and_by_clinnovas_id(epic):
    patient = _store(epic.site, epic, value="P-100")
    assert patient_for_client(clients=[epic], patient_id="P-100") == patient
    assert patient_for_client(clients=[epic], patient_id=str(patient.pk)) == patient


def test_another_clients_ids_do_not_resolve(epic, cerner):
    _store(epic.site, epic, value="P-100", references=[(FHIR_ID, "", "abc"), (IDENTIFIER, MRN, "77")])
    assert patient_for_client(clients=[cerner], patient_id="abc") is None
    assert patient_for_client(clients=[cerner], patient_id="P-100") is None
    assert patient_for_client(clients=[cerner], identifier=(MRN, "77")) is None


def test_an_identifier_resolves_only_with_its_own_system(epic):
    patient = _store(epic.site, epic, value="P-100", references=[(IDENTIFIER, MRN, "77")])
    assert patient_for_client(clients=[epic], identifier=(MRN, "77")) == patient
    assert patient_for_client(clients=[epic], identifier=("http://other.example/ids", "77")) is None
    assert patient_for_client(clients=[epic], patient_id="77") is None  # an MRN value is not a Patient.id
    assert patient_for_client(clients=[epic], identifier=(epic.identifier_system, "P-100")) == patient


def test_the_same_value_at_two_clients_names_two_patients(epic, cerner):
    mine = _store(epic.site, epic, references=[(FHIR_ID, "", "123")])
    theirs = _store(cerner.site, cerner, references=[(FHIR_ID, "", "123")])
    assert mine != theirs
    assert patient_for_client(clients=[epic], patient_id="123") == mine
    assert patient_for_client(clients=[cerner], patient_id="123") == theirs
    assert patient_for_client(clients=[epic, cerner], patient_id="123") is None  # ambiguous: no patient, not a guess


def test_another_sites_client_finds_nothing(epic, site_fr):
    fr = ehr_client_create(site_fr, "dxcare")[0]
    patient = _store(epic.site, epic, references=[(FHIR_ID, "", "abc")])
    assert patient_for_client(clients=[fr], patient_id="abc") is None
    assert patient_for_client(clients=[fr], patient_id=str(patient.pk)) is None


def test_a_revoked_client_resolves_nothing(epic):
    _store(epic.site, epic, references=[(FHIR_ID, "", "abc")])
    epic.revoked_at = dt.datetime.now(dt.UTC)
    epic.save()
    assert patient_for_client(clients=[epic], patient_id="abc") is None


def test_a_later_visit_by_patient_id_alone_finds_the_same_patient_and_adds_new_ids(epic):
    first = _store(epic.site, epic, value="P-100", references=[(FHIR_ID, "", "abc")], visit_days=30)
    again = _store(epic.site, epic, references=[(FHIR_ID, "", "abc"), (IDENTIFIER, MRN, "77")])
    assert again == first
    assert patient_for_client(clients=[epic], identifier=(MRN, "77")) == first


def test_ids_that_name_two_different_patients_are_refused(epic):
    _store(epic.site, epic, value="P-100")
    _store(epic.site, epic, references=[(FHIR_ID, "", "abc")])
    with pytest.raises(DictionaryError) as exc:
        _store(epic.site, epic, value="P-100", references=[(FHIR_ID, "", "abc")], visit_days=1)
    assert "names another patient" in exc.value.errors[0].message


@pytest.mark.parametrize("bad", ["", "x" * 101, "a\x00b"])
def test_an_impossible_id_resolves_nothing(epic, bad):
    assert patient_for_client(clients=[epic], patient_id=bad) is None


def test_create_ehr_client_links_the_ehrs_cds_issuer(site_lu):
    from io import StringIO

    from django.core.management import call_command

    from patients.models import EHRClient

    out = StringIO()
    call_command("create_ehr_client", site="LU", name="epic", cds_issuer="https://ehr.example/cds", stdout=out)
    assert EHRClient.objects.get(name="epic").cds_issuer == "https://ehr.example/cds"
    assert "CDS Hooks issuer https://ehr.example/cds" in out.getvalue()
    call_command("create_ehr_client", site="LU", name="epic", rotate=True, cds_issuer="", stdout=StringIO())
    assert EHRClient.objects.get(name="epic").cds_issuer == ""
