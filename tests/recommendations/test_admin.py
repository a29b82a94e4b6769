"""The recommendations part of the Django admin: model versions, jobs and CDS clients, read-only, nothing deleted."""

import pytest
from django.contrib.auth.models import User

from tests.trust.helpers import verified


@pytest.fixture
def root_client(client, db):
    verified(client, User.objects.create_superuser("root", password="a-long-test-password"))
    return client


def test_a_superuser_sees_the_recommendations_pages_that_hold_no_patient_data(root_client, ra_model, ra_patient_lu):
    from recommendations.jobs import jobs_run_pending

    jobs_run_pending()
    for page in ("modelversion", "scoringjob", "rescorerun", "cdsclient", "cdsfeedback"):
        assert root_client.get(f"/admin/recommendations/{page}/").status_code == 200, page
    for page in ("recommendation", "decision"):
        assert root_client.get(f"/admin/recommendations/{page}/").status_code == 404, page
    jobs = root_client.get("/admin/recommendations/scoringjob/").content.decode()
    assert "LU-0001" not in jobs and str(ra_patient_lu.pk) not in jobs


def test_the_admin_cannot_edit_a_model_version(root_client, ra_model):
    response = root_client.post(f"/admin/recommendations/modelversion/{ra_model.pk}/change/", {"status": "retired"})
    ra_model.refresh_from_db()
    assert ra_model.status == "active"
    assert response.status_code in (200, 403)
