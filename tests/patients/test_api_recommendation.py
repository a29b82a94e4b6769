import json

from clinnova.models import AuditEvent
from doors.api.responses import RecommendationOut, render_recommendation
from patients.models import Visit
from recommendations.selectors import recommendation_payload
from tests.patients.api_helpers import auth, visit_body


def post_visit(client, token):
    response = client.post("/api/v1/visits/", visit_body(), content_type="application/json", **auth(token))
    assert response.status_code == 201, response.content
    return response.json()


def test_an_ehr_reads_the_ranked_drugs_of_its_visit_with_shap_and_the_synthetic_notice(
        client, ehr_lu, ra_model, django_capture_on_commit_callbacks):
    _, token = ehr_lu
    with django_capture_on_commit_callbacks(execute=True):
        body = post_visit(client, token)
    response = client.get(body["recommendation"]["url"], **auth(token))
    assert response.status_code == 200
    rec = response.json()
    assert rec["status"] == "ready"
    assert rec["notice"] == "Trained on synthetic data · not for clinical use"
    assert rec["model_version"]["trained_on"] == "synthetic data"
    top = rec["drugs"][0]
    assert top["rank"] == 1 and 0 <= top["probability"] <= 1
    crp = next(r for r in top["shap"] if r["feature"] == "crp")
    assert crp["label"] == "CRP" and crp["value"] == 14.0
    assert AuditEvent.objects.filter(action="recommendation_read", object_id=body["visit"]).exists()


def test_the_recommendation_is_pending_until_scored_and_says_no_active_model_without_one(
        client, ehr_lu, django_capture_on_commit_callbacks):
    _, token = ehr_lu
    body = post_visit(client, token)  # on-commit callbacks not run: the job is still pending
    assert client.get(body["recommendation"]["url"], **auth(token)).json()["status"] == "pending"
    from recommendations.jobs import jobs_run_pending

    jobs_run_pending()
    assert client.get(body["recommendation"]["url"], **auth(token)).json()["status"] == "no_active_model"


def test_another_sites_client_gets_404_for_the_recommendation(client, ehr_lu, ehr_fr, ra_model):
    body = post_visit(client, ehr_lu[1])
    response = client.get(body["recommendation"]["url"], **auth(ehr_fr[1]))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_recommendation_is_rendered_exactly_as_its_published_serializer_renders_it(
        client, ehr_lu, ra_model, django_capture_on_commit_callbacks):
    _, token = ehr_lu
    with django_capture_on_commit_callbacks(execute=True):
        body = post_visit(client, token)
    served = client.get(body["recommendation"]["url"], **auth(token)).json()
    reference = json.loads(json.dumps(RecommendationOut(recommendation_payload(Visit.objects.get())).data))
    assert served == reference and served["drugs"][0]["shap"]
    # A key the selector adds without declaring it in the schema does not reach a client.
    payload = {**recommendation_payload(Visit.objects.get()), "undeclared": 1}
    assert "undeclared" not in render_recommendation(payload)


def test_a_new_visit_is_answered_pending_and_its_url_then_gives_the_live_status(
        client, ehr_lu, ra_model, django_capture_on_commit_callbacks):
    _, token = ehr_lu
    with django_capture_on_commit_callbacks(execute=True):  # scored in place as soon as the visit commits
        body = post_visit(client, token)
    # The answer was built once the job was queued, without reading it back: "pending", whatever came after.
    assert body["recommendation"]["status"] == "pending"
    assert client.get(body["recommendation"]["url"], **auth(token)).json()["status"] == "ready"
    again = client.post("/api/v1/visits/", visit_body(), content_type="application/json", **auth(token))
    assert (again.status_code, again.json()["recommendation"]["status"]) == (200, "ready")
