"""The printable one-page summary and its text for the EHR note."""

import uuid

from django.utils import timezone

from clinnova.models import AuditEvent
from recommendations.models import Recommendation
from recommendations.selectors import recommendation_payload
from tests.conftest import tiers_shown


def test_the_summary_names_patient_date_clinician_model_and_its_notice(alice_client, scored_patient):
    page = alice_client.get(f"/patients/{scored_patient.pk}/summary/").content.decode()
    drugs = recommendation_payload(scored_patient.visits.get())["drugs"]
    assert "Therapy ranking · patient LU-0001" in page
    assert f"{timezone.localtime():%-d %b %Y}" in page and "by alice" in page
    assert "Trained on synthetic data · not for clinical use." in page and "Rheumatoid arthritis version 1" in page
    assert "Response means: EULAR good response at month 6" in page
    assert page.count("<tr") == len(drugs) + 1
    assert "None recorded yet for this ranking." in page
    assert AuditEvent.objects.filter(action="patient_view", patient_id=scored_patient.pk, detail__page="summary")


def test_the_text_for_the_ehr_note_carries_the_ranking_and_the_decision(alice_client, scored_patient):
    rec = Recommendation.objects.get(visit__patient=scored_patient, superseded_at__isnull=True)
    second = rec.items.order_by("rank")[1]
    tiers_shown(rec, first_tier=1, top=True)  # a leader the ensemble tells apart, whatever the shipped model says
    alice_client.post(f"/patients/{scored_patient.pk}/decisions/", {
        "recommendation": rec.pk, "idempotency_key": str(uuid.uuid4()), "choice": f"start:{second.drug_atc}",
        "reason": "patient_preference", "reason_text": "Prefers a drug given at home"})
    text = alice_client.get(f"/patients/{scored_patient.pk}/summary/").context["text"]
    lines = text.splitlines()
    assert lines[0] == "Clinnova therapy ranking, patient LU-0001 (site LU)"
    assert "Model: Rheumatoid arthritis version 1. Trained on synthetic data · not for clinical use." in text
    assert f"1. {rec.items.get(rank=1).drug.name} " in text and "(top suggestion)" in text
    assert (f"Decision: Start {second.drug.name}" in text
            and "Reason: Patient preference, Prefers a drug given at home." in text)
    assert "<" not in text  # plain text, no markup


def test_another_sites_clinician_gets_not_found(bob_client, scored_patient):
    assert bob_client.get(f"/patients/{scored_patient.pk}/summary/").status_code == 404


def test_the_summary_is_read_in_a_bounded_number_of_queries(alice_client, scored_patient,
                                                             django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        alice_client.get(f"/patients/{scored_patient.pk}/summary/")
