"""CDS Hooks calls are trusted only with a fresh ES384/RS384 JWT of a registered client; anything else is a 401
that says in a few words what failed, and nothing of the keys."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from recommendations.models import CdsClient, CdsFeedback, UsedJti
from tests.integration.cds_helpers import FEEDBACK_PATH, SERVICE_PATH, CdsEhr, call, cds_ehr_register, patient_view


def unsigned(ehr: CdsEhr) -> str:
    now = int(time.time())
    return jwt.encode({"iss": ehr.iss, "aud": settings.SITE_URL + SERVICE_PATH, "exp": now + 60, "iat": now,
                       "jti": str(uuid.uuid4())}, None, algorithm="none", headers={"kid": ehr.kid})


def hs256_with_the_public_key(ehr: CdsEhr) -> str:
    # The classic confusion attack: the public key used as an HMAC secret (PyJWT will not sign it, so by hand).
    public = ehr.private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT", "kid": ehr.kid}
    claims = {"iss": ehr.iss, "aud": settings.SITE_URL + SERVICE_PATH, "exp": now + 60, "iat": now,
              "jti": str(uuid.uuid4())}
    signing_input = b".".join(base64url(json.dumps(part).encode()) for part in (header, claims))
    return (signing_input + b"." + base64url(hmac.new(public, signing_input, hashlib.sha256).digest())).decode()


def base64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


# Each refusal and the short reason the caller is told (RFC 6750 §3.1 error_description).
BAD_TOKENS = {
    "alg_none": (unsigned, "alg not accepted: ES384 or RS384"),
    "hs256": (hs256_with_the_public_key, "alg not accepted: ES384 or RS384"),
    "wrong_aud": (lambda e: e.token(aud="https://elsewhere.example/cds-services/clinnova-therapy-ranking"),
                  "aud does not match"),
    "aud_of_another_service_path": (lambda e: e.token(FEEDBACK_PATH), "aud does not match"),
    "aud_of_the_discovery_endpoint": (lambda e: e.token("/cds-services"), "aud does not match"),
    "expired": (lambda e: e.token(exp=int(time.time()) - 120, iat=int(time.time()) - 420), "expired"),
    "exp_an_hour_ahead": (lambda e: e.token(exp=int(time.time()) + 3600), "exp more than 300 seconds ahead"),
    "exp_a_string": (lambda e: e.token(exp=str(int(time.time()) + 60)), "exp must be a number of seconds"),
    "iat_a_string": (lambda e: e.token(iat=str(int(time.time()))), "iat must be a number of seconds"),
    "no_iat": (lambda e: e.token(iat=None), "missing claim iat"),
    "no_jti": (lambda e: e.token(jti=None), "missing claim jti"),
    "unknown_iss": (lambda e: e.token(iss="https://unknown-ehr.example"), "unknown issuer"),
    "unknown_kid": (lambda e: e.token(headers={"kid": "another-key"}), "unknown kid for this issuer"),
    "signed_by_another_key": (lambda e: e.token(key=ec.generate_private_key(ec.SECP384R1())), "bad signature"),
    "es256": (lambda e: e.token(key=ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"),
              "alg not accepted: ES384 or RS384"),
    "not_a_jwt": (lambda e: "not.a.jwt", "malformed token"),
}


def refusal(response) -> str:
    """The reason of a 401, checked for the shape RFC 6750 gives it in the body and the challenge."""
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error", "error_description"} and body["error"] == "invalid_token"
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="clinnova-cds-hooks"') and 'error="invalid_token"' in challenge
    assert f'error_description="{body["error_description"]}"' in challenge
    return body["error_description"]


@pytest.mark.parametrize("make, reason", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_token_that_cannot_be_trusted_is_401_with_a_short_reason(client, cds_ehr, make, reason):
    response = call(client, cds_ehr, patient_view("LU-0001"), token=make(cds_ehr))
    assert refusal(response) == reason


def test_the_reason_reveals_no_key_and_no_claim_of_the_token(client, cds_ehr):
    token = cds_ehr.token(key=ec.generate_private_key(ec.SECP384R1()), jti="secret-nonce-1234")
    response = call(client, cds_ehr, patient_view("LU-0001"), token=token)
    text = response.content.decode() + response["WWW-Authenticate"]
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(cds_ehr.private_key.public_key()))
    assert "secret-nonce-1234" not in text and cds_ehr.iss not in text and cds_ehr.kid not in text
    assert public["x"] not in text and token.split(".")[2] not in text


def test_a_reused_jti_is_refused(client, cds_ehr):
    token = cds_ehr.token()
    assert call(client, cds_ehr, patient_view("LU-0001"), token=token).status_code == 200
    replay = call(client, cds_ehr, patient_view("LU-0001"), token=token)
    assert refusal(replay) == "jti replayed"
    assert UsedJti.objects.count() == 1


def test_no_authorization_header_is_401_saying_so(client, cds_ehr):
    response = client.post(SERVICE_PATH, json.dumps(patient_view("LU-0001")), content_type="application/json")
    assert refusal(response) == "no Bearer token in the Authorization header"
    response = client.post(SERVICE_PATH, json.dumps(patient_view("LU-0001")), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Token {cds_ehr.token()}")
    assert refusal(response) == "no Bearer token in the Authorization header"


def test_a_revoked_client_is_refused(client, cds_ehr):
    CdsClient.objects.update(revoked_at=timezone.now())
    assert refusal(call(client, cds_ehr, patient_view("LU-0001"))) == "unknown issuer"


def test_feedback_needs_a_token_for_its_own_url(client, cds_ehr):
    card = call(client, cds_ehr, patient_view("LU-0001")).json()["cards"]
    body = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted",
                          "outcomeTimestamp": dt.datetime.now(dt.UTC).isoformat()}]}
    refused = call(client, cds_ehr, body, path=FEEDBACK_PATH, token=cds_ehr.token(aud="https://elsewhere.example"))
    assert refusal(refused) == "aud does not match"
    assert not card  # LU-0001 has no visit here: no card was issued, so feedback names one it never got
    assert call(client, cds_ehr, body, path=FEEDBACK_PATH).status_code == 400
    assert CdsFeedback.objects.count() == 0


def test_an_rs384_client_is_accepted_too(client, site_lu, tmp_path):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    path = tmp_path / "rsa.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": "rsa-1"}]}))
    call_command("register_cds_client", iss="https://rsa-ehr.example", jwks=str(path), site="LU",
                 stdout=open("/dev/null", "w"))
    ehr = CdsEhr(iss="https://rsa-ehr.example", kid="rsa-1", private_key=private_key)
    assert call(client, ehr, patient_view("LU-0001"), token=ehr.token(algorithm="RS384")).status_code == 200
    assert call(client, ehr, patient_view("LU-0001"), token=ehr.token(algorithm="RS256")).status_code == 401


def test_registering_keys_again_replaces_them(client, cds_ehr, tmp_path):
    newer = cds_ehr_register(tmp_path, iss=cds_ehr.iss)
    assert CdsClient.objects.count() == 1
    assert call(client, newer, patient_view("LU-0001")).status_code == 200
    assert call(client, cds_ehr, patient_view("LU-0001")).status_code == 401  # the old key is gone


def test_the_command_refuses_private_keys_and_unknown_sites(site_lu, tmp_path):
    private = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP384R1())))
    path = tmp_path / "private.json"
    path.write_text(json.dumps({"keys": [{**private, "kid": "k"}]}))
    with pytest.raises(CommandError, match="private key material"):
        call_command("register_cds_client", iss="x", jwks=str(path), site="LU")
    with pytest.raises(CommandError, match="No site"):
        call_command("register_cds_client", iss="x", jwks=str(path), site="ZZ")
    assert not CdsClient.objects.exists()
