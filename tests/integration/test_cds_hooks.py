import datetime as dt
import uuid

import pytest
from django.conf import settings

from clinnova.audit import Actor
from patients.models import Visit
from patients.services import PatientInput, visit_ingest
from recommendations.jobs import jobs_run_pending
from recommendations.models import CdsFeedback, Recommendation
from tests.conftest import RA_VISIT
from tests.integration.cds_helpers import FEEDBACK_PATH, call, cds_ehr_register, patient_view

LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"


def observation(loinc: str, value: float, unit: str, day: dt.date) -> dict:
    return {"resource": {"resourceType": "Observation", "status": "final",
                         "code": {"coding": [{"system": LOINC, "code": loinc}]},
                         "effectiveDateTime": day.isoformat(),
                         "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}}


def test_discovery_lists_the_therapy_ranking_service_for_patient_view(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    [service] = response.json()["services"]
    assert service["id"] == "clinnova-therapy-ranking" and service["hook"] == "patient-view"
    assert service["title"] and "synthetic" in service["description"]
    assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    assert service["prefetch"]["observations"].startswith("Observation?patient={{context.patientId}}")


def test_patient_view_answers_an_info_card_with_the_top_drugs_and_their_reasons(client, cds_ehr, scored_patient,
                                                                                 ra_model, django_assert_max_num_queries):
    # One of them stores the issued cards, one finds the EHR clients whose ids this CDS client may use.
    with django_assert_max_num_queries(14):
        response = call(client, cds_ehr, patient_view("LU-0001"))
    assert response.status_code == 200
    cards = response.json()["cards"]
    info = cards[0]
    assert info["indicator"] == "info"
    uuid.UUID(info["uuid"])
    assert info["summary"].startswith("Clinnova: ") and "%" in info["summary"] and len(info["summary"]) < 140
    rec = Recommendation.objects.get()
    top = rec.items.order_by("rank")[0]
    assert f"**{top.drug.name}**" in info["detail"] and "chance of response" in info["detail"]
    assert "Trained on synthetic data · not for clinical use" in info["detail"]
    source = info["source"]
    assert source["label"].startswith("Clinnova") and "synthetic training data" in source["label"]
    assert f"v{ra_model.version}" in source["label"]
    [link] = info["links"]
    assert link["type"] == "absolute"
    assert link["url"] == settings.SITE_URL + scored_patient.get_absolute_url()


def test_the_patient_is_also_found_by_its_clinnova_id(client, cds_ehr, scored_patient):
    cards = call(client, cds_ehr, patient_view(str(scored_patient.pk))).json()["cards"]
    assert cards and cards[0]["indicator"] == "info"


def test_a_contraindication_on_a_top_drug_is_a_critical_card(client, cds_ehr, site_lu, ra_model):
    # Active tuberculosis contraindicates every RA candidate (methotrexate too: SmPC 4.3, severe chronic infection).
    visit_ingest(site=site_lu, disease="rheumatoid_arthritis", visit_date=dt.date.today() - dt.timedelta(days=2),
                 measurements={**RA_VISIT, "tuberculosis_status": "active"}, actor=Actor(client="test"),
                 patient_input=PatientInput(system="urn:test:ehr", value="LU-0002", sex="male", birth_year=1960))
    jobs_run_pending()
    cards = call(client, cds_ehr, patient_view("LU-0002")).json()["cards"]
    critical = [c for c in cards if c["indicator"] == "critical"]
    assert len(critical) == 3  # one per top drug
    assert all("contraindicated" in c["summary"] and "tuberculosis" in c["summary"].lower() for c in critical)
    assert all("Source: " in c["detail"] and "SmPC, section 4.3" in c["detail"] for c in critical)
    assert all(c["source"]["label"].startswith("Clinnova") and c["uuid"] != cards[0]["uuid"] for c in critical)


def test_an_unknown_patient_or_another_sites_patient_gets_no_cards(client, cds_ehr, scored_patient, site_fr,
                                                                    tmp_path):
    assert call(client, cds_ehr, patient_view("nobody")).json() == {"cards": []}
    ehr_fr = cds_ehr_register(tmp_path, iss="https://ehr.fr-hospital.example", site="FR")
    assert call(client, ehr_fr, patient_view("LU-0001")).json() == {"cards": []}


def test_newer_prefetched_observations_change_the_answer_without_storing_a_visit(client, cds_ehr, scored_patient):
    before = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"][0]
    newer = dt.date.today() - dt.timedelta(days=1)
    observations = {"resourceType": "Bundle", "type": "searchset", "entry": [
        observation("1988-5", 9.5, "mg/dL", newer),  # CRP 95 mg/L, from 14
        observation("4537-7", 88, "mm/h", newer),  # ESR 88, from 32
        observation("2345-7", 5.4, "mmol/L", newer),  # glucose: not in the dictionary, passed over
        observation("1988-5", 1.0, "mg/dL", dt.date(2020, 1, 1)),  # older than the visit, passed over
    ]}
    visits, recommendations = Visit.objects.count(), Recommendation.objects.count()
    after = call(client, cds_ehr, patient_view("LU-0001", prefetch={"observations": observations})).json()["cards"][0]
    assert after["detail"] != before["detail"]
    assert f"observations up to {newer.isoformat()} (CRP, ESR); not stored" in after["detail"]
    assert Visit.objects.count() == visits and Recommendation.objects.count() == recommendations


def test_a_pending_recommendation_is_scored_on_the_fly(client, cds_ehr, ra_patient_lu, ra_model):
    cards = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"]
    assert "scored now, not yet stored" in cards[0]["detail"]
    assert not Recommendation.objects.exists()


def test_a_malformed_request_is_400(client, cds_ehr):
    response = call(client, cds_ehr, {"hook": "order-select", "context": {}})
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"hook", "hookInstance", "context.patientId"}


def test_feedback_stores_accepted_and_overridden_cards_with_the_reason(client, cds_ehr, scored_patient):
    card = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"][0]["uuid"]
    earlier = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).replace(microsecond=0)
    body = {"feedback": [
        {"card": card, "outcome": "accepted", "acceptedSuggestions": [], "outcomeTimestamp": earlier.isoformat()},
        {"card": card, "outcome": "overridden",
         "outcomeTimestamp": (earlier + dt.timedelta(minutes=2)).astimezone(dt.timezone(dt.timedelta(hours=1)))
         .isoformat(),
         "overrideReason": {"reason": {"code": "patient-preference", "system": "https://ehr.example/override-reasons",
                                       "display": "Patient preference"},
                            "userComment": "Prefers an oral drug"}},
    ]}
    response = call(client, cds_ehr, body, path=FEEDBACK_PATH)
    assert response.status_code == 200
    accepted, overridden = CdsFeedback.objects.order_by("outcome_at")
    assert str(accepted.card) == card and accepted.outcome == "accepted"
    assert overridden.outcome == "overridden" and overridden.override_code == "patient-preference"
    assert overridden.override_display == "Patient preference" and overridden.user_comment == "Prefers an oral drug"


def test_feedback_that_does_not_fit_the_spec_is_400_and_nothing_is_stored(client, cds_ehr):
    body = {"feedback": [{"card": "not-a-uuid", "outcome": "ignored", "outcomeTimestamp": "yesterday"}]}
    response = call(client, cds_ehr, body, path=FEEDBACK_PATH)
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"feedback[0].card"}
    assert not CdsFeedback.objects.exists()


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-12:00",
                                  "2000-01-01T00:00:00Z"])
def test_feedback_from_an_impossible_time_is_400_naming_the_field(client, cds_ehr, when):
    body = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted", "outcomeTimestamp": when}]}
    response = call(client, cds_ehr, body, path=FEEDBACK_PATH)
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"feedback[0].outcomeTimestamp"}
    assert not CdsFeedback.objects.exists()


def test_scoring_on_the_fly_ranks_as_the_scoring_service_does(scored_patient):
    from doors.cds.ranking import _live, _stored

    visit = scored_patient.visits.get()
    stored, live = _stored(visit), _live(visit, {}, visit.visit_date)
    assert [d.atc for d in live.drugs] == [d.atc for d in stored.drugs]
    assert [d.probability for d in live.drugs] == pytest.approx([d.probability for d in stored.drugs], abs=1e-5)
    assert live.drugs[0].reasons == stored.drugs[0].reasons
    assert [d.interval for d in live.drugs] == [pytest.approx(d.interval, abs=1e-5) for d in stored.drugs]
    assert [(d.tier, d.top_suggestion) for d in live.drugs] == [(d.tier, d.top_suggestion) for d in stored.drugs]


def test_the_card_gives_every_top_drug_its_interval_and_says_top_only_when_confident(client, cds_ehr,
                                                                                     scored_patient):
    info = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"][0]
    rec = Recommendation.objects.get()
    for item in rec.items.order_by("rank")[:3]:
        low, high = round(item.probability_low * 100), round(item.probability_high * 100)
        assert f"**{item.drug.name}**" in info["detail"] and f"({low}–{high} %)" in info["detail"]
    has_top = rec.items.filter(top_suggestion=True).exists()
    assert ("**top suggestion**" in info["detail"]) == has_top and (" top" in info["summary"]) == has_top


def test_a_ranking_without_the_minimum_data_set_says_so_on_the_card_and_names_no_top(client, cds_ehr, site_lu,
                                                                                       ra_model):
    measurements = {k: v for k, v in RA_VISIT.items() if k != "swollen_joint_count_28"}
    visit_ingest(site=site_lu, disease="rheumatoid_arthritis", visit_date=dt.date.today(), measurements=measurements,
                 actor=Actor(client="test"), patient_input=PatientInput(system="urn:test:ehr", value="LU-0002",
                                                                        sex="male", birth_year=1970))
    jobs_run_pending()
    info = call(client, cds_ehr, patient_view("LU-0002")).json()["cards"][0]
    assert "Not enough data to rank — missing: " in info["detail"] and "**top suggestion**" not in info["detail"]
    assert info["summary"].startswith("Clinnova: not enough data to rank")


def test_the_manifests_outcome_is_shown_literally_in_the_card_never_as_markdown(client, cds_ehr, scored_patient):
    from recommendations.models import ModelVersion

    version = ModelVersion.objects.get(disease="rheumatoid_arthritis")
    version.manifest = {**version.manifest, "outcome": "**Remission** _now_ # 1"}
    version.save(update_fields=["manifest"])
    detail = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"][0]["detail"]
    assert r"(\*\*Remission\*\* \_now\_ \# 1)" in detail
