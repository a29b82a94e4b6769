"""Recording which drug the clinician will start, and why when it is not the top suggestion."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from clinnova.models import AuditEvent
from recommendations import decisions
from recommendations.models import Decision, Recommendation
from recommendations.selectors import recommendation_payload


def _ranking(patient):
    rec = Recommendation.objects.get(visit__patient=patient, superseded_at__isnull=True)
    drugs = recommendation_payload(rec.visit)["drugs"]
    return rec, drugs[0], drugs[1]


def _post(client, patient, **data):
    return client.post(f"/patients/{patient.pk}/decisions/", data)


def test_starting_the_top_suggestion_needs_no_reason(alice_client, alice, scored_patient):
    rec, top, _ = _ranking(scored_patient)
    response = _post(alice_client, scored_patient, recommendation=rec.pk, drug_atc=top["atc"])
    assert response.status_code == 302 and response["Location"].endswith("#decisions")
    decision = Decision.objects.get()
    assert decision.was_top and decision.reason == "" and decision.decided_by == alice
    assert decision.visit_id == rec.visit_id and decision.model_version_id == rec.model_version_id


def test_starting_another_drug_without_a_reason_is_refused_next_to_the_field(alice_client, scored_patient):
    rec, _, second = _ranking(scored_patient)
    response = _post(alice_client, scored_patient, recommendation=rec.pk, drug_atc=second["atc"])
    page = response.content.decode()
    assert response.status_code == 400
    assert f"Say why you chose {second['name']} over the top suggestion." in page
    assert page.index("Say why you chose") > page.index('id="id_reason"')  # under the reason select
    assert re.search(rf'value="{second["atc"]}"[^>]*checked', page), "the chosen drug stays chosen"
    assert not Decision.objects.exists()


def test_other_needs_a_few_words(alice_client, scored_patient):
    rec, _, second = _ranking(scored_patient)
    response = _post(alice_client, scored_patient, recommendation=rec.pk, drug_atc=second["atc"], reason="other")
    assert response.status_code == 400
    assert "Describe the reason in a few words." in response.content.decode()
    assert not Decision.objects.exists()


def test_an_override_is_stored_with_its_reason_and_listed_on_the_page(alice_client, scored_patient):
    rec, _, second = _ranking(scored_patient)
    _post(alice_client, scored_patient, recommendation=rec.pk, drug_atc=second["atc"], reason="other",
          reason_text="Prefers a monthly infusion")
    decision = Decision.objects.get()
    assert not decision.was_top and decision.reason == "other"
    page = alice_client.get(f"/patients/{scored_patient.pk}/").content.decode()
    decisions_part = page[page.index('id="decisions"'):]
    assert second["name"] in decisions_part and "No, overridden" in decisions_part
    assert "Other: Prefers a monthly infusion" in decisions_part
    assert f"Recorded: you will start {second['name']}." in page


def test_a_decision_is_audited_in_the_same_transaction(alice_client, alice, scored_patient, monkeypatch):
    rec, top, second = _ranking(scored_patient)
    _post(alice_client, scored_patient, recommendation=rec.pk, drug_atc=top["atc"])
    event = AuditEvent.objects.get(action="decision_record")
    assert event.actor_user == alice and event.patient_id == scored_patient.pk
    assert event.object_id == str(Decision.objects.get().pk) and event.detail["drug_atc"] == top["atc"]

    def audit_fails(**kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(decisions, "audit_record", audit_fails)
    with pytest.raises(RuntimeError):
        decisions.decision_record(patient=scored_patient, recommendation_id=rec.pk, drug_atc=second["atc"],
                                  reason="patient_preference", actor=decisions.Actor(user=alice))
    assert Decision.objects.count() == 1  # the unaudited decision was rolled back


def test_a_superseded_ranking_stores_nothing_and_says_so(alice_client, scored_patient):
    rec, top, _ = _ranking(scored_patient)
    Recommendation.objects.filter(pk=rec.pk).update(superseded_at=timezone.now())
    response = _post(alice_client, scored_patient, recommendation=rec.pk, drug_atc=top["atc"])
    assert response.status_code == 302
    assert not Decision.objects.exists()
    page = alice_client.get(response["Location"]).content.decode()
    assert "The ranking changed while you were deciding" in page and "Nothing was recorded" in page


def test_a_drug_outside_the_ranking_is_refused(alice_client, scored_patient):
    rec, _, _ = _ranking(scored_patient)
    response = _post(alice_client, scored_patient, recommendation=rec.pk, drug_atc="L04AG05",
                     reason="clinical_judgement")
    assert response.status_code == 400 and "Choose one of the ranked drugs." in response.content.decode()
    assert not Decision.objects.exists()


def test_a_post_without_a_csrf_token_is_refused(alice, scored_patient):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    rec, top, _ = _ranking(scored_patient)
    response = _post(browser, scored_patient, recommendation=rec.pk, drug_atc=top["atc"])
    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_a_clinician_of_another_site_cannot_decide_for_the_patient(bob_client, scored_patient):
    rec, top, _ = _ranking(scored_patient)
    assert _post(bob_client, scored_patient, recommendation=rec.pk, drug_atc=top["atc"]).status_code == 404
    assert not Decision.objects.exists()


def test_a_recommendation_of_another_patient_cannot_be_used(alice_client, scored_patient, site_lu):
    from recommendations.jobs import jobs_run_pending
    from tests.pages.conftest import ra_visit

    other = ra_visit(site_lu, ref="LU-OTHER")
    jobs_run_pending()
    rec, top, _ = _ranking(scored_patient)
    response = _post(alice_client, other.patient, recommendation=rec.pk, drug_atc=top["atc"])
    assert response.status_code == 400 and not Decision.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_four_identical_decision_posts_at_once_store_one_decision(alice, ra_model, scored_patient):
    import threading

    from django.db import connection

    from tests.conftest import services_missing
    from tests.trust.helpers import verified

    if connection.vendor == "sqlite":
        services_missing("concurrent writers need PostgreSQL (SQLite answers 'database is locked')")
    rec, top, _ = _ranking(scored_patient)
    clients = [Client() for _ in range(4)]
    for c in clients:
        verified(c, alice)
    start, codes = threading.Barrier(4), []

    def send(c):
        try:
            start.wait()
            codes.append(_post(c, scored_patient, recommendation=rec.pk, drug_atc=top["atc"]).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [302] * 4
    assert Decision.objects.count() == 1
    assert AuditEvent.objects.filter(action="decision_record").count() == 1


def test_the_same_decision_posted_twice_is_stored_once(alice_client, scored_patient):
    rec, top, _ = _ranking(scored_patient)
    for _ in range(2):
        assert _post(alice_client, scored_patient, recommendation=rec.pk, drug_atc=top["atc"]).status_code == 302
    assert Decision.objects.count() == 1
