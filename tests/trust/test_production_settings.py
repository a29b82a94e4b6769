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


def test_every_response_carries_a_request_id(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    given = str(uuid.uuid4())
    assert uuid.UUID(client.get("/health/")["X-Request-ID"])
    assert client.get("/health/", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    forged = client.get("/health/", HTTP_X_REQUEST_ID="x\r\nInjected: 1")["X-Request-ID"]
    assert forged != "x\r\nInjected: 1" and uuid.UUID(forged)


def test_an_audit_event_carries_the_request_id_the_trusted_proxy_gave(alice_client, ra_patient_lu, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    given = str(uuid.uuid4())
    alice_client.get(f"/patients/{ra_patient_lu.pk}/", HTTP_X_REQUEST_ID=given)
    assert str(AuditEvent.objects.get(action="patient_view").request_id) == given


def test_a_request_id_chosen_by_a_client_without_a_proxy_is_not_stored(alice_client, ra_patient_lu, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    chosen = str(uuid.uuid4())
    response = alice_client.get(f"/patients/{ra_patient_lu.pk}/", HTTP_X_REQUEST_ID=chosen)
    stored = str(AuditEvent.objects.get(action="patient_view").request_id)
    assert stored != chosen and response["X-Request-ID"] == stored


def test_sign_in_counts_the_client_behind_the_trusted_proxy_not_the_proxy(rf, settings):
    from clinnova.audit import client_address

    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_address(request) == "203.0.113.7"  # the left entry was written by the client
    assert client_address(rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="junk")) == "10.9.9.9"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.9.9.9"


def test_forwarded_for_is_not_believed_unless_a_proxy_count_is_configured(monkeypatch):
    env = {k: v for k, v in os.environ.items() if k != "TRUSTED_PROXY_COUNT"}
    env.update(HTTPS="1", DEBUG="0", SECRET_KEY="x" * 50, DATABASE_URL="postgres://a:b@db.invalid/c")
    out = subprocess.run([sys.executable, "-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
                          "'clinnova.settings'; from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "0", out.stderr


def test_a_client_reaching_gunicorn_directly_cannot_spoof_its_address(rf, settings):
    from clinnova.audit import client_address

    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_NETWORKS = ["172.31.255.0/29"]
    spoofed = rf.get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client_address(spoofed) == "198.51.100.9"
    proxied = rf.get("/", REMOTE_ADDR="172.31.255.3", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client_address(proxied) == "203.0.113.7"


def test_spoofed_forwarded_for_headers_do_not_escape_the_sign_in_lockout(client, db, settings, alice):
    """24 guesses across 6 accounts, each with a new X-Forwarded-For, as the review tried: the address locks."""
    from django.contrib.auth.models import User

    settings.TRUSTED_PROXY_COUNT = 0
    for i in range(6):
        User.objects.create_user(f"target{i}", password="a-long-test-password")
    statuses = []
    for attempt in range(24):
        response = client.post("/accounts/login/", {"username": f"target{attempt % 6}", "password": "wrong"},
                               HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}", REMOTE_ADDR="198.51.100.9")
        statuses.append(response.status_code)
    assert 429 in statuses
    assert AuditEvent.objects.filter(address="198.51.100.9").exists()
    assert not AuditEvent.objects.filter(address__startswith="203.0.113.").exists()


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
