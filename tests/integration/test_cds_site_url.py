"""The node's public URL (SITE_URL) is the audience EHRs sign for and the base of every link they are given."""

from pathlib import Path

import pytest
from django.conf import settings

from tests.integration.cds_helpers import SERVICE_PATH, call, patient_view

PUBLIC = "https://clinnova.lu-hospital.example"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def public_url(settings):
    settings.SITE_URL = PUBLIC
    settings.ALLOWED_HOSTS = ["clinnova.lu-hospital.example", "clinnova.internal", "testserver"]
    return PUBLIC


@pytest.mark.parametrize("aud", [
    PUBLIC + SERVICE_PATH,
    PUBLIC + SERVICE_PATH + "/",  # the URL with its trailing slash
    "HTTPS://Clinnova.LU-Hospital.example" + SERVICE_PATH,  # scheme and host are case-blind (RFC 3986 §6.2.2.1)
    "https://clinnova.lu-hospital.example:443" + SERVICE_PATH,  # the default port spelled out
    [PUBLIC + SERVICE_PATH, "https://another-service.example/"],  # RFC 7519: aud may be a list
], ids=["exact", "trailing_slash", "case", "default_port", "list"])
def test_a_client_whose_aud_is_the_url_it_called_is_accepted(client, public_url, cds_ehr, scored_patient, aud):
    response = call(client, cds_ehr, patient_view("LU-0001"), token=cds_ehr.token(aud=aud),
                    path=SERVICE_PATH + ("/" if isinstance(aud, str) and aud.endswith("/") else ""))
    assert response.status_code == 200, response.content
    assert response.json()["cards"]


def test_the_service_answers_with_and_without_the_trailing_slash(client, public_url, cds_ehr, scored_patient):
    slash = call(client, cds_ehr, patient_view("LU-0001"), path=SERVICE_PATH + "/",
                 token=cds_ehr.token(aud=PUBLIC + SERVICE_PATH))
    assert slash.status_code == 200 and slash.json()["cards"]


def test_card_links_and_source_lead_to_pages_on_the_public_url(client, public_url, cds_ehr, scored_patient):
    cards = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"]
    info = cards[0]
    assert info["links"][0]["url"] == PUBLIC + scored_patient.get_absolute_url()
    assert info["source"]["url"] == PUBLIC + scored_patient.get_absolute_url()
    for card in cards[1:]:
        assert card["source"]["url"].startswith(PUBLIC + "/rules/?drug=")
    assert "127.0.0.1" not in str(cards)


def test_a_clinician_of_the_site_can_open_every_card_link_after_signing_in(client, cds_ehr, scored_patient, alice):
    cards = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"]
    urls = {card["source"]["url"] for card in cards} | {link["url"] for card in cards for link in card["links"]}
    paths = {url.removeprefix(settings.SITE_URL) for url in urls}
    assert len(paths) >= 2
    for path in paths:
        assert client.get(path).status_code == 302  # signed out: to the sign-in page (no SMART launch)
    client.force_login(alice)
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_the_request_host_counts_only_when_trusted(client, public_url, cds_ehr, scored_patient, settings):
    internal = "http://clinnova.internal" + SERVICE_PATH
    refused = call(client, cds_ehr, patient_view("LU-0001"), token=cds_ehr.token(aud=internal),
                   HTTP_HOST="clinnova.internal")
    assert refused.status_code == 401 and refused.json()["error_description"] == "aud does not match"

    settings.TRUST_REQUEST_HOST = True
    answered = call(client, cds_ehr, patient_view("LU-0001"), token=cds_ehr.token(aud=internal),
                    HTTP_HOST="clinnova.internal")
    assert answered.status_code == 200
    assert answered.json()["cards"][0]["links"][0]["url"].startswith("http://clinnova.internal/patients/")
    # SITE_URL stays an audience beside it.
    assert call(client, cds_ehr, patient_view("LU-0001"), HTTP_HOST="clinnova.internal").status_code == 200
    # A host outside ALLOWED_HOSTS is refused before any token is read.
    assert call(client, cds_ehr, patient_view("LU-0001"), HTTP_HOST="evil.example").status_code == 400


def test_the_fhir_base_and_full_urls_are_on_the_public_url(client, public_url):
    statement = client.get("/fhir/metadata").json()
    assert statement["implementation"]["url"].startswith(PUBLIC + "/fhir")


@pytest.mark.parametrize("document", ["README.md", "DEVELOPERS.md", "docker-compose.yml"])
def test_site_url_is_documented_where_a_deployment_is_configured(document):
    text = (ROOT / document).read_text()
    assert "SITE_URL" in text and "TRUST_REQUEST_HOST" in text
