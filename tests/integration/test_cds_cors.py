"""Browser-based CDS clients (the CDS Hooks sandbox) get CORS answers, from registered origins only."""

import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from recommendations.models import CdsClient
from tests.integration.cds_helpers import SERVICE_PATH, call, patient_view

SANDBOX = "https://sandbox.cds-hooks.org"


def preflight(client, origin: str, path: str = SERVICE_PATH):
    return client.options(path, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                          HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type")


def test_a_preflight_from_a_configured_origin_is_answered_without_a_token(client, cds_ehr, settings):
    settings.CORS_ALLOWED_ORIGINS = [SANDBOX]
    response = preflight(client, SANDBOX)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SANDBOX
    assert {"authorization", "content-type"} <= {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response  # bearer tokens, never cookies


def test_an_origin_nobody_registered_gets_no_cors_headers(client, cds_ehr, settings):
    settings.CORS_ALLOWED_ORIGINS = [SANDBOX]
    response = preflight(client, "https://evil.example")
    assert "Access-Control-Allow-Origin" not in response


def test_an_origin_registered_with_a_client_is_allowed_until_the_client_is_revoked(client, cds_ehr, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(CdsClient.objects.get().jwks))
    call_command("register_cds_client", iss=cds_ehr.iss, jwks=str(path), site="LU", origins=[SANDBOX],
                 stdout=open("/dev/null", "w"))
    assert preflight(client, SANDBOX)["Access-Control-Allow-Origin"] == SANDBOX
    # Registering new keys without --origin keeps the origins.
    call_command("register_cds_client", iss=cds_ehr.iss, jwks=str(path), site="LU", stdout=open("/dev/null", "w"))
    assert CdsClient.objects.get().origins == [SANDBOX]
    CdsClient.objects.update(revoked_at=timezone.now())
    assert "Access-Control-Allow-Origin" not in preflight(client, SANDBOX)


def test_the_call_and_its_refusal_are_readable_by_the_page(client, cds_ehr, settings):
    settings.CORS_ALLOWED_ORIGINS = [SANDBOX]
    answered = call(client, cds_ehr, patient_view("LU-0001"), HTTP_ORIGIN=SANDBOX)
    assert answered.status_code == 200 and answered["Access-Control-Allow-Origin"] == SANDBOX
    refused = call(client, cds_ehr, patient_view("LU-0001"), token="not.a.jwt", HTTP_ORIGIN=SANDBOX)
    assert refused.status_code == 401 and refused["Access-Control-Allow-Origin"] == SANDBOX
    assert refused["Access-Control-Expose-Headers"] == "WWW-Authenticate"
    assert refused.json()["error"] == "invalid_token"


def test_cors_stays_off_outside_the_cds_door(client, db, settings):
    settings.CORS_ALLOWED_ORIGINS = [SANDBOX]
    assert "Access-Control-Allow-Origin" not in preflight(client, SANDBOX, "/api/v1/visits/")
    assert "Access-Control-Allow-Origin" not in preflight(client, SANDBOX, "/fhir/")


def test_the_command_refuses_an_origin_with_a_path_or_a_wildcard(site_lu, tmp_path, cds_ehr):
    from django.core.management import CommandError

    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(CdsClient.objects.get().jwks))
    for origin in ("https://sandbox.cds-hooks.org/", "https://*.example", "sandbox.cds-hooks.org"):
        with pytest.raises(CommandError, match="an origin is scheme://host"):
            call_command("register_cds_client", iss=cds_ehr.iss, jwks=str(path), site="LU", origins=[origin])
