"""Fixtures for the page tests: Alice's scored patient, Mia signed in with her second factor."""

from __future__ import annotations

import datetime as dt

import pytest

from clinnova.audit import Actor
from patients.services import PatientInput, TherapyInput, visit_ingest
from recommendations.jobs import jobs_run_pending
from tests.conftest import RA_VISIT


@pytest.fixture
def scored_patient(ra_patient_lu, ra_model):
    """Alice's RA patient with the recommendation of her latest visit computed."""
    jobs_run_pending()
    return ra_patient_lu


@pytest.fixture
def mia_client(mia):
    """Mia's own browser (not the shared `client`, which may be Alice's), past her second factor."""
    from django.test import Client

    from tests.trust.helpers import verified

    browser = Client()
    verified(browser, mia)
    return browser


def ra_visit(site, *, ref: str, days_ago: int = 3, therapies=(), **changes):
    """One RA visit of the patient `ref` at `site` (created on first use), measurements changed as given."""
    measurements = {**RA_VISIT, **changes}
    return visit_ingest(
        site=site, disease="rheumatoid_arthritis", visit_date=dt.date.today() - dt.timedelta(days=days_ago),
        measurements={k: v for k, v in measurements.items() if v is not None}, actor=Actor(client="test"),
        patient_input=PatientInput(system="urn:test:ehr", value=ref, sex="female", birth_year=1968,
                                   diagnosed_on=dt.date(2015, 4, 1)),
        therapies=list(therapies),
    )


METHOTREXATE_FAILED = TherapyInput(drug="methotrexate", started_on=dt.date(2016, 1, 1),
                                   stopped_on=dt.date(2017, 6, 1), outcome="primary_non_response")
