"""CDS Hooks calls are trusted only with a fresh ES384/RS384 JWT of a registered client; anything else is a bare 401."""

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


@pytest.fixture
def cds_ehr(site_lu, tmp_path):
    return cds_ehr_register(tmp_path)


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


BAD_TOKENS = {
    "alg_none": unsigned,
    "hs256": hs256_with_the_public_key,
    "wrong_aud": lambda e: e.token(aud="https://elsewhere.example/cds-services/clinnova-therapy-ranking"),
    "aud_of_another_service_path": lambda e: e.token(FEEDBACK_PATH),
    "expired": lambda e: e.token(exp=int(time.time()) - 120, iat=int(time.time()) - 420),
    "exp_an_hour_ahead": lambda e: e.token(exp=int(time.time()) + 3600),
    "exp_a_string": lambda e: e.token(exp=str(int(time.time()) + 60)),
    "iat_a_string": lambda e: e.token(iat=str(int(time.time()))),
    "no_iat": lambda e: e.token(iat=None),
    "no_jti": lambda e: e.token(jti=None),
    "unknown_iss": lambda e: e.token(iss="https://unknown-ehr.example"),
    "unknown_kid": lambda e: e.token(headers={"kid": "another-key"}),
    "signed_by_another_key": lambda e: e.token(key=ec.generate_private_key(ec.SECP384R1())),
    "es256": lambda e: e.token(key=ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"),
    "not_a_jwt": lambda e: "not.a.jwt",
}


@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_token_that_cannot_be_trusted_is_a_bare_401(client, cds_ehr, make):
    response = call(client, cds_ehr, patient_view("LU-0001"), token=make(cds_ehr))
    assert response.status_code == 401
    assert response.content == b""
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_reused_jti_is_refused(client, cds_ehr):
    token = cds_ehr.token()
    assert call(client, cds_ehr, patient_view("LU-0001"), token=token).status_code == 200
    replay = call(client, cds_ehr, patient_view("LU-0001"), token=token)
    assert replay.status_code == 401 and replay.content == b""
    assert UsedJti.objects.count() == 1


def test_no_authorization_header_is_a_bare_401(client, cds_ehr):
    response = client.post(SERVICE_PATH, json.dumps(patient_view("LU-0001")), content_type="application/json")
    assert response.status_code == 401 and response.content == b""
    response = client.post(SERVICE_PATH, json.dumps(patient_view("LU-0001")), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Token {cds_ehr.token()}")
    assert response.status_code == 401 and response.content == b""


def test_a_revoked_client_is_refused(client, cds_ehr):
    CdsClient.objects.update(revoked_at=timezone.now())
    assert call(client, cds_ehr, patient_view("LU-0001")).status_code == 401


def test_feedback_needs_a_token_for_its_own_url(client, cds_ehr):
    body = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted",
                          "outcomeTimestamp": dt.datetime.now(dt.UTC).isoformat()}]}
    refused = call(client, cds_ehr, body, path=FEEDBACK_PATH, token=cds_ehr.token(aud="https://elsewhere.example"))
    assert refused.status_code == 401 and refused.content == b""
    assert call(client, cds_ehr, body, path=FEEDBACK_PATH).status_code == 200
    assert CdsFeedback.objects.count() == 1


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
