"""The patient list: the clinician's own sites, filters, search, and each row's status in one query."""

import datetime as dt

from django.utils import timezone

from patients.models import Diagnosis, Patient, PatientIdentifier, Visit
from doors.pages.selectors import patient_list
from recommendations.jobs import jobs_run_pending
from recommendations.models import JobStatus, Recommendation, ScoringJob
from recommendations.selectors import recommendation_status
from tests.pages.conftest import ra_visit


def _rows(client, query=""):
    return client.get(f"/patients/{query}").content.decode()


def test_the_list_shows_only_the_patients_of_the_clinicians_sites(alice_client, site_lu, site_fr):
    ra_visit(site_lu, ref="LU-0001")
    ra_visit(site_fr, ref="FR-0001")
    page = _rows(alice_client)
    assert "LU-0001" in page and "FR-0001" not in page


def test_it_filters_by_disease_and_searches_the_ehr_patient_id(alice_client, site_lu):
    ra_visit(site_lu, ref="LU-RA-0007")
    ra_visit(site_lu, ref="LU-RA-0042")
    assert "LU-RA-0007" in _rows(alice_client, "?disease=rheumatoid_arthritis")
    assert "LU-RA-0007" not in _rows(alice_client, "?disease=crohns_disease")
    searched = _rows(alice_client, "?q=0042")
    assert "LU-RA-0042" in searched and "LU-RA-0007" not in searched


def test_it_filters_by_site_among_the_clinicians_own(client, alice, site_lu, site_fr):
    site_fr.members.add(alice)
    ra_visit(site_lu, ref="LU-0001")
    ra_visit(site_fr, ref="FR-0001")
    client.force_login(alice)
    page = _rows(client, "?site=FR")
    assert "FR-0001" in page and "LU-0001" not in page
    assert '<option value="FR" selected>' in page


def test_a_row_shows_disease_latest_visit_activity_and_ranking_status(alice_client, scored_patient):
    page = _rows(alice_client)
    visit = scored_patient.visits.get()
    assert "Rheumatoid arthritis" in page
    assert f'datetime="{visit.visit_date:%Y-%m-%d}"' in page
    assert f"DAS28-ESR <strong>{visit.activity_score:g}</strong>" in page
    assert visit.activity_category in page
    assert '<span class="status status-ready">Ready</span>' in page


def test_the_status_is_pending_failed_or_no_active_model_as_the_recommendation_says(alice, site_lu, ra_model):
    ready = ra_visit(site_lu, ref="LU-READY")
    jobs_run_pending()
    failed = ra_visit(site_lu, ref="LU-FAILED")
    ScoringJob.objects.filter(visit=failed).update(status=JobStatus.FAILED, reason="RuntimeError: boom")
    ra_model.status = "retired"
    ra_model.save(update_fields=["status"])
    no_model = ra_visit(site_lu, ref="LU-NOMODEL")
    jobs_run_pending()

    listed = {p.pk: p.recommendation_status for p in patient_list(user=alice)}
    for visit, expected in ((ready, "ready"), (failed, "failed"), (no_model, "no_active_model")):
        assert listed[visit.patient_id] == recommendation_status(visit) == expected, expected
    # One still waiting for its worker:
    waiting = ra_visit(site_lu, ref="LU-WAITING")
    assert {p.pk: p.recommendation_status for p in patient_list(user=alice)}[waiting.patient_id] == "pending"
    assert recommendation_status(waiting) == "pending"


def test_the_list_is_paginated(alice_client, site_lu):
    _many_patients(site_lu, 30)
    first, second = _rows(alice_client), _rows(alice_client, "?page=2")
    assert "Page 1 of 2 · 30 patients" in first and 'rel="next"' in first
    assert "Page 2 of 2" in second and second.count('<th scope="row">') == 5


def test_a_thousand_patients_are_listed_in_a_bounded_number_of_queries(alice_client, site_lu,
                                                                        django_assert_max_num_queries):
    _many_patients(site_lu, 1000)
    with django_assert_max_num_queries(10):
        response = alice_client.get("/patients/?disease=rheumatoid_arthritis")
    assert "1000 patients" in response.content.decode()
    with django_assert_max_num_queries(10):
        alice_client.get("/patients/?page=7&q=LU-")


def _many_patients(site, n: int) -> None:
    """n RA patients with one scored visit each, written in bulk (the list only reads them)."""
    today = timezone.localdate()
    patients = Patient.objects.bulk_create(Patient(site=site, sex="female", birth_year=1960 + i % 30)
                                           for i in range(n))
    PatientIdentifier.objects.bulk_create(PatientIdentifier(patient=p, system="urn:test:bulk", value=f"LU-{i:05d}")
                                          for i, p in enumerate(patients))
    Diagnosis.objects.bulk_create(Diagnosis(patient=p, disease="rheumatoid_arthritis", diagnosed_on=dt.date(2015, 1, 1))
                                  for p in patients)
    visits = Visit.objects.bulk_create(
        Visit(patient=p, site=site, disease="rheumatoid_arthritis", visit_date=today - dt.timedelta(days=i % 300),
              activity_score=3.1, activity_label="DAS28-ESR", activity_category="Low disease activity")
        for i, p in enumerate(patients))
    ScoringJob.objects.bulk_create(ScoringJob(visit=v, status=JobStatus.DONE) for v in visits)
    Recommendation.objects.bulk_create(Recommendation(visit=v, status="no_active_model") for v in visits[::2])
