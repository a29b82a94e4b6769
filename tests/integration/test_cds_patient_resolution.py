"""CDS Hooks context.patientId is the EHR's FHIR Patient.id: it resolves the patient that EHR sent, and nothing
another EHR, or another identifier system, calls by the same value."""

from __future__ import annotations

import pytest

from patients.models import EHRClient
from recommendations.jobs import jobs_run_pending
from tests.integration.cds_helpers import call, cds_ehr_register, patient_view
from tests.integration.fhir_helpers import post_bundle
from tests.integration.synthea_bundles import synthea_bundle

ISS = "https://ehr.lu-hospital.example/cds"


@pytest.fixture
def linked(ehr_lu, tmp_path):
    """The Luxembourg EHR: its FHIR client (ehr_lu) and its CDS Hooks client are one EHR."""
    cds = cds_ehr_register(tmp_path, iss=ISS)
    EHRClient.objects.filter(cds_issuer=ISS).update(cds_issuer="")  # only what this EHR itself sent resolves
    ehr, token = ehr_lu
    ehr.cds_issuer = ISS
    ehr.save(update_fields=["cds_issuer"])
    return cds, ehr, token


def test_the_patient_view_for_the_ehrs_patient_id_returns_the_cards(client, linked, ra_model):
    cds, ehr, token = linked
    bundle = synthea_bundle("rheumatoid_arthritis")
    assert post_bundle(client, token, bundle).status_code == 200
    jobs_run_pending()
    patient_id = bundle["entry"][0]["resource"]["id"]
    cards = call(client, cds, patient_view(patient_id)).json()["cards"]
    assert cards and cards[0]["summary"].startswith("Clinnova: ")


def test_another_ehrs_cds_client_gets_no_cards_for_that_patient_id(client, linked, ra_model, tmp_path):
    cds, ehr, token = linked
    bundle = synthea_bundle("rheumatoid_arthritis")
    post_bundle(client, token, bundle)
    jobs_run_pending()
    other = cds_ehr_register(tmp_path, iss="https://other-ehr.lu-hospital.example/cds")
    assert call(client, other, patient_view(bundle["entry"][0]["resource"]["id"])).json() == {"cards": []}


def test_an_identifier_value_of_another_system_does_not_name_the_patient(client, linked, ra_patient_lu, ra_model):
    """The shared fixture's patient is "LU-0001" of system urn:test:ehr, which this EHR never sent: the same value
    in a CDS call is not that patient (it could be another person in this EHR)."""
    cds, ehr, token = linked
    jobs_run_pending()
    assert call(client, cds, patient_view("LU-0001")).json() == {"cards": []}
    assert call(client, cds, patient_view(str(ra_patient_lu.pk))).json()["cards"]  # Clinnova's own id still does
