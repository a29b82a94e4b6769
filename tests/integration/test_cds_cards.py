"""Every card Clinnova issues is kept, so that feedback is tied to the card it answers and a clinician sees it."""

import datetime as dt
import uuid

from recommendations.models import CdsCard, CdsFeedback, Recommendation
from tests.integration.cds_helpers import FEEDBACK_PATH, call, cds_ehr_register, patient_view


def feedback(card: str, outcome: str = "accepted", when: dt.datetime | None = None, **extra) -> dict:
    when = when or dt.datetime.now(dt.UTC)
    return {"feedback": [{"card": card, "outcome": outcome, "outcomeTimestamp": when.isoformat(), **extra}]}


def test_every_issued_card_is_stored_with_what_it_showed(client, cds_ehr, scored_patient, ra_model):
    cards = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"]
    stored = {str(c.uuid): c for c in CdsCard.objects.select_related("client")}
    assert set(stored) == {c["uuid"] for c in cards}
    rec = Recommendation.objects.get()
    top = rec.items.order_by("rank")[0]
    for card in cards:
        row = stored[card["uuid"]]
        assert row.patient == scored_patient and row.visit == scored_patient.visits.get()
        assert row.recommendation == rec and row.model_version == ra_model
        assert row.client.iss == cds_ehr.iss and row.service_id == "clinnova-therapy-ranking"
        assert row.indicator == card["indicator"] and row.summary == card["summary"]
        assert row.hook_instance == "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
    info = stored[cards[0]["uuid"]]
    assert info.kind == "ranking" and info.drug_atc == top.drug_atc
    for card in cards[1:]:
        row = stored[card["uuid"]]
        assert row.kind == "flag" and row.drug is not None and row.drug.name in card["summary"]


def test_a_ranking_scored_on_the_fly_is_kept_without_a_stored_recommendation(client, cds_ehr, ra_patient_lu, ra_model):
    cards = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"]
    row = CdsCard.objects.get(uuid=cards[0]["uuid"])
    assert row.recommendation is None and row.model_version == ra_model


def test_feedback_is_stored_against_the_card_it_answers(client, cds_ehr, scored_patient):
    card = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"][0]["uuid"]
    assert call(client, cds_ehr, feedback(card), path=FEEDBACK_PATH).status_code == 200
    row = CdsFeedback.objects.get()
    assert row.issued_card.uuid == uuid.UUID(card) and row.issued_card.patient == scored_patient


def test_feedback_for_a_card_never_issued_is_400_naming_it_and_nothing_is_stored(client, cds_ehr, scored_patient):
    card = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"][0]["uuid"]
    never = str(uuid.uuid4())
    body = {"feedback": [feedback(card)["feedback"][0], feedback(never)["feedback"][0]]}
    response = call(client, cds_ehr, body, path=FEEDBACK_PATH)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "feedback[1].card" and "not a card this service issued" in error["message"]
    assert not CdsFeedback.objects.exists()  # all or nothing


def test_feedback_from_another_client_for_a_card_it_was_not_shown_is_400(client, cds_ehr, scored_patient, tmp_path):
    card = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"][0]["uuid"]
    other = cds_ehr_register(tmp_path, iss="https://another-ehr.lu-hospital.example")
    response = call(client, other, feedback(card), path=FEEDBACK_PATH)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "feedback[0].card"
    assert not CdsFeedback.objects.exists()


def test_feedback_dated_before_the_card_was_issued_is_400(client, cds_ehr, scored_patient):
    card = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"][0]["uuid"]
    response = call(client, cds_ehr, feedback(card, when=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)),
                    path=FEEDBACK_PATH)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "feedback[0].outcomeTimestamp"


def test_the_clinicians_response_in_the_ehr_shows_beside_the_decisions(client, cds_ehr, scored_patient, alice):
    cards = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"]
    override = {"reason": {"code": "patient-preference", "system": "https://ehr.example/override-reasons",
                           "display": "Patient preference"}, "userComment": "Prefers an oral drug"}
    assert call(client, cds_ehr, feedback(cards[0]["uuid"], "overridden", overrideReason=override),
                path=FEEDBACK_PATH).status_code == 200
    client.force_login(alice)
    page = client.get(scored_patient.get_absolute_url()).content.decode()
    assert "Responses in the EHR to Clinnova&#x27;s cards" in page or "Responses in the EHR to Clinnova's cards" in page
    section = page[page.index("card-responses"):]
    assert "Overridden" in section and "Patient preference: Prefers an oral drug" in section
    assert cds_ehr.iss in section
