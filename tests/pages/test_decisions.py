"""Recording what the clinician decided: continue, optimise, defer, start a ranked drug or another drug."""

import datetime as dt
import re
import threading
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from clinnova.models import AuditEvent
from patients.models import TherapyExposure
from recommendations import decisions
from recommendations.decisions import DecisionInput
from recommendations.models import Decision, Recommendation
from recommendations.selectors import recommendation_payload
from tests.conftest import tiers_shown


def _ranking(patient):
    rec = Recommendation.objects.get(visit__patient=patient, superseded_at__isnull=True)
    drugs = recommendation_payload(rec.visit)["drugs"]
    return rec, drugs[0], drugs[1]


def _post(client, patient, **data):
    data.setdefault("idempotency_key", str(uuid.uuid4()))
    return client.post(f"/patients/{patient.pk}/decisions/", data)


def _on_adalimumab(patient):
    return TherapyExposure.objects.create(patient=patient, drug_atc="L04AB04", started_on=dt.date(2022, 3, 1))


def test_nothing_is_pre_selected_and_submitting_nothing_records_nothing(alice_client, scored_patient):
    rec, _, _ = _ranking(scored_patient)
    page = alice_client.get(f"/patients/{scored_patient.pk}/").content.decode()
    form = page[page.index('id="decision"'):page.index("</form>", page.index('id="decision"'))]
    assert 'name="choice"' in form and "checked" not in form
    response = _post(alice_client, scored_patient, recommendation=rec.pk)
    assert response.status_code == 400 and "Choose what you decided." in response.content.decode()
    assert not Decision.objects.exists()


def test_starting_the_top_suggestion_needs_no_reason(alice_client, alice, scored_patient):
    rec, top, _ = _ranking(scored_patient)
    response = _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{top['atc']}")
    assert response.status_code == 302 and response["Location"].endswith("#decisions")
    decision = Decision.objects.get()
    assert decision.kind == "start_ranked" and decision.was_top and decision.reason == ""
    assert decision.decided_by == alice and decision.visit_id == rec.visit_id
    assert decision.model_version_id == rec.model_version_id


def test_starting_another_ranked_drug_without_a_reason_is_refused_at_the_form(alice_client, scored_patient):
    rec, _, second = _ranking(scored_patient)
    tiers_shown(rec, first_tier=1, top=True)  # a leader the ensemble tells apart, whatever the shipped model says
    response = _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{second['atc']}")
    page = response.content.decode()
    assert response.status_code == 400
    assert f"Say why you chose {second['name']} over the top suggestion." in page
    # The page opens at the form (its action carries #decision), the summary at its top, the error under its field.
    assert 'action="/patients/' in page and '/decisions/#decision"' in page
    assert page.index('id="decision-errors"') < page.index('name="choice"')
    assert page.index("err-reason\">Say why") > page.index('id="id_reason"')
    assert re.search(rf'value="start:{second["atc"]}"[^>]*checked', page), "the chosen drug stays chosen"
    assert not Decision.objects.exists()


def test_other_needs_a_few_words(alice_client, scored_patient):
    rec, _, second = _ranking(scored_patient)
    response = _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{second['atc']}",
                     reason="other")
    assert response.status_code == 400
    assert "Describe the reason in a few words." in response.content.decode()
    assert not Decision.objects.exists()


def test_an_override_is_stored_with_its_reason_and_listed_on_the_page(alice_client, scored_patient):
    rec, _, second = _ranking(scored_patient)
    tiers_shown(rec, first_tier=1, top=True)
    _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{second['atc']}", reason="other",
          reason_text="Prefers a monthly infusion")
    decision = Decision.objects.get()
    assert not decision.was_top and decision.reason == "other"
    page = alice_client.get(f"/patients/{scored_patient.pk}/").content.decode()
    decisions_part = page[page.index('id="decisions"'):]
    assert f"Start {second['name']}" in decisions_part and "No, overridden" in decisions_part
    assert "Other: Prefers a monthly infusion" in decisions_part
    assert f"Recorded: Start {second['name']}." in decisions_part


def test_continuing_and_optimising_name_a_current_therapy(alice_client, scored_patient):
    _on_adalimumab(scored_patient)
    rec, _, _ = _ranking(scored_patient)
    page = alice_client.get(f"/patients/{scored_patient.pk}/").content.decode()
    assert "Continue adalimumab" in page and "Escalate or optimise the dose of adalimumab" in page
    _post(alice_client, scored_patient, recommendation=rec.pk, choice="continue:L04AB04")
    _post(alice_client, scored_patient, recommendation=rec.pk, choice="optimise:L04AB04",
          reason_text="40 mg weekly instead of every other week")
    kinds = list(Decision.objects.order_by("decided_at").values_list("kind", "drug_atc", "reason_text"))
    assert kinds == [("continue", "L04AB04", ""), ("optimise", "L04AB04", "40 mg weekly instead of every other week")]


def test_continuing_a_drug_the_patient_is_not_on_is_refused(alice_client, scored_patient):
    rec, _, _ = _ranking(scored_patient)
    response = _post(alice_client, scored_patient, recommendation=rec.pk, choice="continue:L04AB04")
    assert response.status_code == 400 and "Choose one of the current therapies of this patient." in response.content.decode()
    assert not Decision.objects.exists()


def test_a_deferral_needs_a_date_within_a_year(alice_client, scored_patient):
    rec, _, _ = _ranking(scored_patient)
    today = timezone.localdate()
    refused = _post(alice_client, scored_patient, recommendation=rec.pk, choice="defer")
    assert refused.status_code == 400 and "Give the date on which you will decide." in refused.content.decode()
    past = _post(alice_client, scored_patient, recommendation=rec.pk, choice="defer",
                 review_on=(today - dt.timedelta(days=1)).isoformat())
    assert past.status_code == 400 and "must lie after today and at most a year ahead" in past.content.decode()
    assert not Decision.objects.exists()
    review = today + dt.timedelta(days=28)
    _post(alice_client, scored_patient, recommendation=rec.pk, choice="defer", review_on=review.isoformat(),
          reason_text="Awaiting the colonoscopy")
    decision = Decision.objects.get()
    assert decision.kind == "defer" and decision.review_on == review and decision.drug_atc == ""
    page = alice_client.get(f"/patients/{scored_patient.pk}/").content.decode()
    assert f"Defer the decision until {review:%-d %b %Y}" in page


def test_a_drug_not_in_the_ranking_comes_from_the_catalogue_with_a_reason(alice_client, scored_patient):
    rec, _, _ = _ranking(scored_patient)
    ranked = set(rec.items.values_list("drug_atc", flat=True))
    assert "L04AC05" not in ranked  # ustekinumab: not a candidate for rheumatoid arthritis
    refused = _post(alice_client, scored_patient, recommendation=rec.pk, choice="other", other_drug="L04AC05")
    assert refused.status_code == 400 and "which is not in the ranking" in refused.content.decode()
    ranked_one = _post(alice_client, scored_patient, recommendation=rec.pk, choice="other",
                       other_drug=next(iter(ranked)), reason="clinical_judgement")
    assert ranked_one.status_code == 400
    assert "Choose a drug of the catalogue that is not in the ranking." in ranked_one.content.decode()
    _post(alice_client, scored_patient, recommendation=rec.pk, choice="other", other_drug="L04AC05",
          reason="clinical_judgement", reason_text="Concomitant psoriatic arthritis")
    decision = Decision.objects.get()
    assert decision.kind == "start_other" and decision.drug_atc == "L04AC05" and not decision.was_top


def test_the_same_form_posted_twice_records_one_decision(alice_client, scored_patient):
    rec, top, _ = _ranking(scored_patient)
    key = str(uuid.uuid4())
    first = _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{top['atc']}",
                  idempotency_key=key)
    second = _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{top['atc']}",
                   idempotency_key=key)
    assert first.status_code == second.status_code == 302
    assert Decision.objects.count() == 1
    assert AuditEvent.objects.filter(action="decision_record").count() == 1
    page = alice_client.get(second["Location"]).content.decode()
    assert "This form was already submitted" in page


@pytest.mark.django_db(transaction=True)
def test_parallel_posts_of_one_form_store_one_decision(alice, site_lu, ra_model):
    if connection.vendor != "postgresql":
        pytest.skip("parallel writers need PostgreSQL (SQLite serialises every write)")
    from recommendations.jobs import jobs_run_pending
    from tests.pages.conftest import ra_visit

    patient = ra_visit(site_lu, ref="LU-PAR").patient
    jobs_run_pending()
    rec, top, _ = _ranking(patient)
    key = str(uuid.uuid4())
    statuses, barrier = [], threading.Barrier(4)

    def post():
        browser = Client()
        browser.force_login(alice)
        barrier.wait()
        statuses.append(_post(browser, patient, recommendation=rec.pk, choice=f"start:{top['atc']}",
                              idempotency_key=key).status_code)
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302] * 4
    assert Decision.objects.filter(idempotency_key=key).count() == 1


def test_a_decision_is_audited_in_the_same_transaction(alice_client, alice, scored_patient, monkeypatch):
    rec, top, second = _ranking(scored_patient)
    _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{top['atc']}")
    event = AuditEvent.objects.get(action="decision_record")
    assert event.actor_user == alice and event.patient_id == scored_patient.pk
    assert event.object_id == str(Decision.objects.get().pk) and event.detail["drug_atc"] == top["atc"]
    assert event.detail["kind"] == "start_ranked"

    def audit_fails(**kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(decisions, "audit_record", audit_fails)
    with pytest.raises(RuntimeError):
        decisions.decision_record(
            patient=scored_patient, actor=decisions.Actor(user=alice), current_drugs=set(),
            today=timezone.localdate(),
            data=DecisionInput(recommendation_id=rec.pk, kind="start_ranked", drug_atc=second["atc"],
                               reason="patient_preference", idempotency_key=uuid.uuid4()))
    assert Decision.objects.count() == 1  # the unaudited decision was rolled back


def test_a_superseded_ranking_stores_nothing_and_says_so_above_the_new_ranking(alice_client, scored_patient):
    rec, top, _ = _ranking(scored_patient)
    Recommendation.objects.filter(pk=rec.pk).update(superseded_at=timezone.now())
    response = _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{top['atc']}")
    assert response.status_code == 302 and response["Location"].endswith("#decision-alert")
    assert not Decision.objects.exists()
    page = alice_client.get(response["Location"]).content.decode()
    ranking = page[page.index('id="recommendation"'):]
    assert ranking.index('id="decision-alert"') < ranking.index("</section>")
    assert "The ranking changed while you were deciding" in ranking and "Nothing was recorded" in ranking
    assert page.count("The ranking changed while you were deciding") == 1  # not also at the top of the page


def test_a_drug_outside_the_ranking_is_refused_as_a_ranked_start(alice_client, scored_patient):
    rec, _, _ = _ranking(scored_patient)
    response = _post(alice_client, scored_patient, recommendation=rec.pk, choice="start:L04AG05",
                     reason="clinical_judgement")
    assert response.status_code == 400 and "Choose one of the ranked drugs." in response.content.decode()
    assert not Decision.objects.exists()


def test_a_post_without_a_csrf_token_is_refused(alice, scored_patient):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    rec, top, _ = _ranking(scored_patient)
    response = _post(browser, scored_patient, recommendation=rec.pk, choice=f"start:{top['atc']}")
    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_a_clinician_of_another_site_cannot_decide_for_the_patient(bob_client, scored_patient):
    rec, top, _ = _ranking(scored_patient)
    assert _post(bob_client, scored_patient, recommendation=rec.pk, choice=f"start:{top['atc']}").status_code == 404
    assert not Decision.objects.exists()


def test_a_recommendation_of_another_patient_cannot_be_used(alice_client, scored_patient, site_lu):
    from recommendations.jobs import jobs_run_pending
    from tests.pages.conftest import ra_visit

    other = ra_visit(site_lu, ref="LU-OTHER")
    jobs_run_pending()
    rec, top, _ = _ranking(scored_patient)
    response = _post(alice_client, other.patient, recommendation=rec.pk, choice=f"start:{top['atc']}")
    assert response.status_code == 400 and not Decision.objects.exists()


def test_a_current_therapy_is_continued_or_optimised_not_started(alice_client, site_lu, ra_model):
    from patients.services import TherapyInput
    from recommendations.jobs import jobs_run_pending
    from tests.pages.conftest import ra_visit

    adalimumab = TherapyInput(drug="adalimumab", started_on=dt.date(2022, 3, 1))
    patient = ra_visit(site_lu, ref="LU-ON-ADA", therapies=[adalimumab]).patient
    jobs_run_pending()
    rec = Recommendation.objects.get(visit__patient=patient, superseded_at__isnull=True)
    assert rec.items.get(drug_atc="L04AB04").current
    page = alice_client.get(f"/patients/{patient.pk}/").content.decode()
    assert 'value="continue:L04AB04"' in page and 'value="start:L04AB04"' not in page
    refused = _post(alice_client, patient, recommendation=rec.pk, choice="start:L04AB04", reason="clinical_judgement")
    assert refused.status_code == 400 and "adalimumab is a current therapy: continue or optimise it." in \
        refused.content.decode()
    assert not Decision.objects.exists()
@pytest.mark.django_db(transaction=True)
def test_four_tabs_posting_the_same_decision_at_once_store_one_decision(alice, ra_model, scored_patient):
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
            codes.append(_post(c, scored_patient, recommendation=rec.pk, choice=f"start:{top['atc']}").status_code)
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


def test_the_same_decision_from_two_tabs_is_stored_once(alice_client, scored_patient):
    rec, top, _ = _ranking(scored_patient)
    for _ in range(2):
        assert _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{top['atc']}").status_code == 302
    assert Decision.objects.count() == 1


def test_a_drug_of_the_first_tier_needs_no_reason_when_no_drug_leads(alice_client, scored_patient):
    rec, _, second = _ranking(scored_patient)
    tiers_shown(rec, first_tier=2, top=False)
    response = _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{second['atc']}")
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.reason == "" and decision.was_top, "a drug of the first tier is not an override"


def test_a_drug_behind_the_first_tier_needs_a_reason(alice_client, scored_patient):
    rec, _, second = _ranking(scored_patient)
    tiers_shown(rec, first_tier=1, top=False)
    response = _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{second['atc']}")
    assert response.status_code == 400
    assert f"Say why you chose {second['name']} over the drugs of the first tier." in response.content.decode()
    assert not Decision.objects.exists()


def test_a_ranking_without_its_minimum_data_set_is_not_overridden_by_any_choice(alice_client, scored_patient):
    rec, _, second = _ranking(scored_patient)
    tiers_shown(rec, first_tier=0, top=False)
    rec.rankable = False
    rec.save(update_fields=["rankable"])
    response = _post(alice_client, scored_patient, recommendation=rec.pk, choice=f"start:{second['atc']}")
    assert response.status_code == 302 and Decision.objects.get().reason == ""
