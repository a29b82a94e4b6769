"""Fixtures shared by the CDS Hooks tests."""

import pytest

from recommendations.jobs import jobs_run_pending
from tests.integration.cds_helpers import cds_ehr_register


@pytest.fixture
def cds_ehr(site_lu, tmp_path):
    """The Luxembourg hospital's EHR, registered as a CDS Hooks client of site LU."""
    return cds_ehr_register(tmp_path)


@pytest.fixture
def scored_patient(ra_patient_lu, ra_model):
    """Alice's patient with rheumatoid arthritis (EHR id LU-0001), her visit scored by the shipped model."""
    jobs_run_pending()
    return ra_patient_lu
