import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

from clinnova.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]


def _csp(response) -> dict[str, list[str]]:
    directives = [d.strip().split() for d in response["Content-Security-Policy"].split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def test_the_deploy_check_passes_with_production_settings():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "HTTPS", "ALLOWED_HOSTS", "CLINNOVA_TEST")}
    env.update({
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": "postgres://clinnova:secret@db.invalid:5432/clinnova",  # never connected to by the check
        "HTTPS": "1",
        "ALLOWED_HOSTS": "clinnova.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://clinnova.example.org",
    })
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_pages_carry_a_content_security_policy_without_inline_scripts(alice_client):
    for response in (alice_client.get("/patients/"), alice_client.get("/accounts/login/")):
        csp = _csp(response)
        assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
        assert csp["default-src"] == ["'self'"] and csp["img-src"] == ["'self'", "data:"]
        assert csp["frame-ancestors"] == ["'none'"] and csp["form-action"] == ["'self'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_only_the_api_docs_page_allows_its_inline_start_up_script(client, db):
    docs = _csp(client.get("/api/docs/"))
    assert "'unsafe-inline'" in docs["script-src"] and docs["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in client.get("/api/schema/").get("Content-Security-Policy", "")


def test_no_page_of_ours_has_an_inline_script_or_style(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert "<script>" not in html and "<style" not in html and " style=" not in html


def test_every_response_carries_a_request_id(client, db):
    given = str(uuid.uuid4())
    assert uuid.UUID(client.get("/health/")["X-Request-ID"])
    assert client.get("/health/", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    forged = client.get("/health/", HTTP_X_REQUEST_ID="x\r\nInjected: 1")["X-Request-ID"]
    assert forged != "x\r\nInjected: 1" and uuid.UUID(forged)


def test_an_audit_event_carries_the_request_id_of_its_request(alice_client, ra_patient_lu):
    given = str(uuid.uuid4())
    alice_client.get(f"/patients/{ra_patient_lu.pk}/", HTTP_X_REQUEST_ID=given)
    assert str(AuditEvent.objects.get(action="patient_view").request_id) == given


def test_sign_in_counts_the_client_behind_the_trusted_proxy_not_the_proxy(rf, settings):
    from clinnova.audit import client_address

    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_address(request) == "203.0.113.7"  # the left entry was written by the client
    assert client_address(rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="junk")) == "10.9.9.9"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.9.9.9"


def test_the_container_health_check_is_answered_in_production_mode(client, db, settings):
    settings.ALLOWED_HOSTS = ["clinnova.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/health/", HTTP_HOST="127.0.0.1:8000")  # as docker compose's probe asks
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert client.get("/patients/", HTTP_HOST="127.0.0.1:8000").status_code == 400


def test_plain_http_is_redirected_to_https_in_production_mode(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/accounts/login/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
