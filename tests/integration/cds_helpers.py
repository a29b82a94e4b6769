"""A CDS Hooks client as an EHR runs one: an EC P-384 key pair, its public JWK Set, ES384-signed JWTs."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.management import call_command

SERVICE_PATH = "/cds-services/clinnova-therapy-ranking"
FEEDBACK_PATH = SERVICE_PATH + "/feedback"


@dataclass
class CdsEhr:
    iss: str
    kid: str
    private_key: ec.EllipticCurvePrivateKey

    def token(self, path: str = SERVICE_PATH, *, headers: dict | None = None, key=None, algorithm: str = "ES384",
              **claims) -> str:
        now = int(time.time())
        payload = {"iss": self.iss, "sub": "client-id-of-the-ehr", "aud": settings.SITE_URL + path,
                   "exp": now + 300, "iat": now, "jti": str(uuid.uuid4()), **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key or self.private_key, algorithm=algorithm,
                          headers={"kid": self.kid, "typ": "JWT", **(headers or {})})


def cds_ehr_register(tmp_path, *, iss: str = "https://ehr.lu-hospital.example/cds", site: str = "LU") -> CdsEhr:
    """Generate a key pair and register its public half with `manage.py register_cds_client`."""
    private_key = ec.generate_private_key(ec.SECP384R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key()))
    kid = "key-2026-1"
    path = tmp_path / f"jwks-{uuid.uuid4().hex}.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": kid, "alg": "ES384", "use": "sig"}]}))
    call_command("register_cds_client", iss=iss, jwks=str(path), site=site, stdout=open("/dev/null", "w"))
    ehr_client_link(iss, site=site)
    return CdsEhr(iss=iss, kid=kid, private_key=private_key)


def ehr_client_link(iss: str, *, site: str = "LU", identifier_system: str = "urn:test:ehr") -> None:
    """Tell Clinnova that the CDS client `iss` is the EHR whose patients carry ids of `identifier_system` (the
    shared fixtures' patients are "LU-0001" ... of urn:test:ehr): its context.patientId then resolves them."""
    from patients.models import EHRClient, Site

    ehr = EHRClient.objects.filter(identifier_system=identifier_system).first()
    if ehr is None:
        ehr = EHRClient(site=Site.objects.get(code=site), name=f"cds-{site.lower()}",
                        identifier_system=identifier_system)
        ehr.token_issue()
    elif ehr.site.code != site:
        return  # another site's EHR: its patients must not resolve for this client
    ehr.cds_issuer = iss
    ehr.save()


def patient_view(patient_id: str, *, prefetch: dict | None = None) -> dict:
    """A patient-view request shaped as the CDS Hooks 2.0 specification's example."""
    return {
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": "https://ehr.lu-hospital.example/fhir",
        "hook": "patient-view",
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
        "prefetch": prefetch or {"patient": {"resourceType": "Patient", "id": patient_id, "gender": "female"}},
    }


def call(client, ehr: CdsEhr, body: dict, path: str = SERVICE_PATH, token: str | None = None, **headers):
    token = token or ehr.token(path.rstrip("/"))
    return client.post(path, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
                       **headers)
