"""CDS Hooks client authentication: a JWT signed by a registered client's key, used once.

Keys are parsed once per client and process (a JWK Set changes only through register_cds_client);
the jti is recorded in the request, so a replayed token finds the unique index taken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time

import jwt
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions, throttling

from clinnova.site_url import base_urls, url_normalise
from recommendations.models import CdsClient, UsedJti

log = logging.getLogger(__name__)

ALGORITHMS = ["ES384", "RS384"]
# Clock skew tolerated on exp and iat.
LEEWAY = 30
PURGE_EVERY = 60.0

_keys: dict[int, tuple[str, dict[str, jwt.PyJWK]]] = {}
_lock = threading.Lock()
_last_purge = 0.0


class InvalidToken(Exception):
    """Why a token was refused: `reason` is told to the caller (short, fixed words, no key material or claim
    the caller did not send), `detail` only to the log."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail or reason


def keys_of(client: CdsClient) -> dict[str, jwt.PyJWK]:
    """The client's public keys by kid, parsed once per JWK Set content."""
    fingerprint = hashlib.sha256(json.dumps(client.jwks, sort_keys=True).encode()).hexdigest()
    with _lock:
        cached = _keys.get(client.pk)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
    keys = jwks_parse(client.jwks)
    with _lock:
        _keys[client.pk] = (fingerprint, keys)
    return keys


def jwks_parse(jwks: dict) -> dict[str, jwt.PyJWK]:
    """Public ES384/RS384 keys of a JWK Set by kid; ValueError when there is none or one is unusable."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ValueError('a JWK Set is {"keys": [...]} with at least one key')
    keys = {}
    for jwk in jwks["keys"]:
        kid = jwk.get("kid") if isinstance(jwk, dict) else None
        if not kid:
            raise ValueError("every key needs a kid: CDS Hooks JWTs name their key by kid")
        if "d" in jwk or "p" in jwk:
            raise ValueError(f"key {kid} holds private key material: register only the public keys")
        default = {"EC": "ES384", "RSA": "RS384"}.get(jwk.get("kty"))
        algorithm = jwk.get("alg") or default
        if algorithm not in ALGORITHMS:
            raise ValueError(f"key {kid}: only {' and '.join(ALGORITHMS)} keys are accepted, not {algorithm}")
        try:
            keys[kid] = jwt.PyJWK(jwk, algorithm=algorithm)
        except jwt.PyJWTError as exc:
            raise ValueError(f"key {kid} cannot be read: {exc}") from None
    return keys


# PyJWT's refusals in the caller's words (RFC 6750 §3.1 error_description: for the developer, not the user).
_PYJWT_REASONS = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "issued in the future (iat)"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.InvalidAlgorithmError, "alg not accepted: ES384 or RS384"),
    (jwt.MissingRequiredClaimError, None),  # names the claim
    (jwt.InvalidIssuedAtError, "iat must be a number of seconds"),
    (jwt.DecodeError, "malformed token"),
)


def token_verify(token: str, *, audiences: list[str]) -> CdsClient:
    """The registered client that signed this token for one of these URLs; InvalidToken otherwise.

    The audience is compared after the signature, so the reason never tells an unsigned caller more than
    that it is unsigned; URLs compare as URLs (scheme and host case, default port, trailing slash).
    """
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise InvalidToken("malformed token", f"unreadable: {exc}") from None
    if header.get("alg") not in ALGORITHMS:
        raise InvalidToken("alg not accepted: ES384 or RS384", f"alg {header.get('alg')!r}")
    iss = unverified.get("iss")
    known = isinstance(iss, str) and "\x00" not in iss  # PostgreSQL refuses NUL in a query
    client = CdsClient.objects.select_related("site").filter(iss=iss, revoked_at__isnull=True).first() if known else None
    if client is None:
        raise InvalidToken("unknown issuer", f"unknown or revoked iss {iss!r}")
    key = keys_of(client).get(header.get("kid"))
    if key is None:
        raise InvalidToken("unknown kid for this issuer", f"unknown kid {header.get('kid')!r} for {iss}")
    try:
        claims = jwt.decode(token, key=key, algorithms=ALGORITHMS, issuer=iss, leeway=LEEWAY,
                            options={"require": ["iss", "aud", "exp", "iat", "jti"], "verify_aud": False})
    except jwt.PyJWTError as exc:
        raise InvalidToken(_pyjwt_reason(exc), f"{type(exc).__name__}: {exc}") from None
    for claim in ("exp", "iat"):
        # PyJWT accepts "1735689600" as a time; RFC 7519 §2 (NumericDate) says a JSON number.
        if isinstance(claims[claim], bool) or not isinstance(claims[claim], (int, float)):
            raise InvalidToken(f"{claim} must be a number of seconds", f"{claim} is {claims[claim]!r}")
    if not audience_matches(claims["aud"], audiences):
        raise InvalidToken("aud does not match", f"aud {claims['aud']!r}, this endpoint {audiences}")
    if claims["exp"] - time.time() > settings.CDS_JWT_MAX_LIFETIME + LEEWAY:
        raise InvalidToken(f"exp more than {settings.CDS_JWT_MAX_LIFETIME} seconds ahead",
                           f"exp {claims['exp']} for {iss}")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 255 or "\x00" in jti:
        raise InvalidToken("jti must be a string of 1 to 255 characters")
    _jti_use(client, jti, expires_at=dt.datetime.fromtimestamp(claims["exp"], tz=dt.UTC))
    return client


def _pyjwt_reason(exc: jwt.PyJWTError) -> str:
    for kind, reason in _PYJWT_REASONS:
        if isinstance(exc, kind):
            return reason or f"missing claim {exc.claim}"
    return "token refused"


def audience_matches(aud, audiences: list[str]) -> bool:
    """RFC 7519 §4.1.3: aud is a string or a list of strings, one of which names this endpoint."""
    named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    wanted = {url_normalise(a) for a in audiences}
    return any(isinstance(a, str) and url_normalise(a) in wanted for a in named)


def _jti_use(client: CdsClient, jti: str, *, expires_at: dt.datetime) -> None:
    try:
        with transaction.atomic():
            UsedJti.objects.create(client=client, jti=jti, expires_at=expires_at)
    except IntegrityError:
        raise InvalidToken("jti replayed", f"jti {jti!r} already used by {client.iss}") from None
    _expired_purge()


def _expired_purge() -> None:
    """Forget jtis of expired tokens, at most once a minute per process (an expired token is refused anyway)."""
    global _last_purge
    now = time.monotonic()
    if now - _last_purge < PURGE_EVERY:
        return
    _last_purge = now
    UsedJti.objects.filter(expires_at__lt=timezone.now() - dt.timedelta(seconds=LEEWAY)).delete()


def audiences_for(request) -> list[str]:
    """The URL called is the audience (CDS Hooks 2.0, Trusting CDS Clients), on SITE_URL or, when trusted, the
    request's own host; feedback also takes its service's URL (clients read the spec both ways)."""
    path = request.path_info.rstrip("/")
    paths = [path, path.removesuffix("/feedback")] if path.endswith("/feedback") else [path]
    return [base + p for base in base_urls(request) for p in paths]


REALM = "clinnova-cds-hooks"


def challenge(reason: str) -> str:
    """The WWW-Authenticate value of RFC 6750 §3; reasons are our own fixed words, free of quotes."""
    return f'Bearer realm="{REALM}", error="invalid_token", error_description="{reason.replace(chr(34), "")}"'


class TokenRefused(exceptions.AuthenticationFailed):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class CdsJWTAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <JWT>`; request.auth becomes the CdsClient."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            raise TokenRefused("no Bearer token in the Authorization header")
        try:
            client = token_verify(parts[1].decode("latin-1"), audiences=audiences_for(request))
        except InvalidToken as exc:
            log.info("CDS Hooks token refused: %s", exc.detail)
            raise TokenRefused(exc.reason) from None
        return AnonymousUser(), client

    def authenticate_header(self, request) -> str:
        return f'Bearer realm="{REALM}"'


class IsCdsClient(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, CdsClient)


class CdsClientThrottle(throttling.SimpleRateThrottle):
    """Requests per CDS client, at the EHR clients' rate."""

    scope = "ehr_client"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, CdsClient):
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"cds-{request.auth.pk}"}
