"""The patient list: the clinician's own sites, filters, search, and each row's status in one query."""

import datetime as dt

from django.utils import timezone

from patients.models import Diagnosis, Patient, PatientIdentifier, TherapyExposure, Visit
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
    assert "Page 2 of 2" in second and second.count('<th scope="row"') == 5


def test_a_thousand_patients_are_listed_in_a_bounded_number_of_queries(alice_client, site_lu,
                                                                        django_assert_max_num_queries):
    _many_patients(site_lu, 1000)
    with django_assert_max_num_queries(10):
        response = alice_client.get("/patients/?disease=rheumatoid_arthritis")
    assert "1000 patients" in response.content.decode()
    with django_assert_max_num_queries(10):
        alice_client.get("/patients/?page=7&q=LU-")
    for sort in ("decision", "activity", "therapy", "change"):
        with django_assert_max_num_queries(10):
            alice_client.get(f"/patients/?sort={sort}&activity=at&decision=pending&therapy=none")


def test_a_row_shows_the_current_therapy_and_the_time_since_it_last_changed(alice_client, site_lu):
    patient = ra_visit(site_lu, ref="LU-T1").patient
    TherapyExposure.objects.create(patient=patient, drug_atc="L04AX03", started_on=dt.date(2016, 1, 1),
                                   stopped_on=dt.date(2017, 6, 1), outcome="primary_non_response")
    TherapyExposure.objects.create(patient=patient, drug_atc="L04AB04", started_on=dt.date(2017, 6, 1))
    row = patient_list(user=patient.site.members.first() or _alice(), today=dt.date(2026, 6, 1)).get(pk=patient.pk)
    assert row.current_therapy_name == "adalimumab" and row.current_therapy_count == 1
    assert row.last_change == dt.date(2017, 6, 1)
    page = _rows(alice_client)
    assert "adalimumab" in page and 'datetime="2017-06-01"' in page


def test_activity_is_judged_against_the_diseases_target(alice, site_lu):
    at = ra_visit(site_lu, ref="LU-LOW", tender_joint_count_28=1, swollen_joint_count_28=0, esr=8, patient_global=10)
    above = ra_visit(site_lu, ref="LU-HIGH")
    rows = {p.pk: p for p in patient_list(user=alice)}
    assert at.activity_category in ("Remission", "Low disease activity")
    assert rows[at.patient_id].activity_target == "at" and rows[above.patient_id].activity_target == "above"
    assert [p.pk for p in patient_list(user=alice, activity="above")] == [above.patient_id]
    assert [p.pk for p in patient_list(user=alice, sort="activity")][0] == above.patient_id


def test_decision_status_says_pending_decided_deferred_or_new_ranking(alice, site_lu, ra_model):
    import uuid

    from clinnova.audit import Actor
    from recommendations.decisions import DecisionInput, decision_record

    def decide(visit, **kw):
        rec = Recommendation.objects.get(visit=visit, superseded_at__isnull=True)
        data = DecisionInput(recommendation_id=rec.pk, idempotency_key=uuid.uuid4(), **kw)
        decision_record(patient=visit.patient, data=data, actor=Actor(user=alice), current_drugs=set(),
                        today=timezone.localdate())

    pending = ra_visit(site_lu, ref="LU-P")
    decided = ra_visit(site_lu, ref="LU-D")
    deferred = ra_visit(site_lu, ref="LU-DEF")
    renewed = ra_visit(site_lu, ref="LU-NEW", days_ago=40)
    jobs_run_pending()
    top = Recommendation.objects.get(visit=decided).items.order_by("rank").first().drug_atc
    decide(decided, kind="start_ranked", drug_atc=top)
    decide(deferred, kind="defer", review_on=timezone.localdate() + dt.timedelta(days=14))
    decide(renewed, kind="start_ranked", drug_atc=top)
    ra_visit(site_lu, ref="LU-NEW", days_ago=2)  # a new visit, a new ranking after the decision
    jobs_run_pending()

    status = {p.pk: p.decision_status for p in patient_list(user=alice)}
    assert status[pending.patient_id] == "pending" and status[decided.patient_id] == "decided"
    assert status[deferred.patient_id] == "deferred" and status[renewed.patient_id] == "new_ranking"
    due = {p.pk: p.decision_status for p in patient_list(user=alice, today=timezone.localdate() + dt.timedelta(days=15))}
    assert due[deferred.patient_id] == "review_due"
    assert [p.pk for p in patient_list(user=alice, decision="new_ranking")] == [renewed.patient_id]
    assert [p.pk for p in patient_list(user=alice, sort="decision")][0] == renewed.patient_id


def test_the_list_filters_by_current_therapy_and_sorts_by_it(alice, site_lu):
    on_ada = ra_visit(site_lu, ref="LU-ADA").patient
    on_none = ra_visit(site_lu, ref="LU-NONE").patient
    on_aba = ra_visit(site_lu, ref="LU-ABA").patient
    TherapyExposure.objects.create(patient=on_ada, drug_atc="L04AB04", started_on=dt.date(2020, 1, 1))
    TherapyExposure.objects.create(patient=on_aba, drug_atc="L04AA24", started_on=dt.date(2021, 1, 1))
    assert [p.pk for p in patient_list(user=alice, therapy="L04AB04")] == [on_ada.pk]
    assert [p.pk for p in patient_list(user=alice, therapy="none")] == [on_none.pk]
    assert [p.pk for p in patient_list(user=alice, sort="therapy")] == [on_aba.pk, on_ada.pk, on_none.pk]
    assert [p.pk for p in patient_list(user=alice, sort="change")][:2] == [on_ada.pk, on_aba.pk]


def test_the_list_page_offers_every_sort_and_filter(alice_client, site_lu):
    ra_visit(site_lu, ref="LU-0001")
    page = _rows(alice_client, "?sort=decision&decision=pending")
    for label in ("Decision needed first", "Most active first", "Current therapy A–Z",
                  "Longest since a therapy change first", "New ranking since the last decision", "Above target"):
        assert label in page
    assert 'aria-sort="other"' in page


def _alice():
    from django.contrib.auth.models import User

    return User.objects.get(username="alice")


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
