"""Who is calling the EHR API, whether they may, and how often."""

from __future__ import annotations

import logging
import re

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from clinnova.audit import Actor, audit_record
from patients.models import EHRClient

KEYWORDS = (b"token", b"bearer")
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")


log = logging.getLogger(__name__)


class EHRTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <token>` or `Bearer <token>`; request.auth becomes the EHRClient."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header must be 'Bearer <token>'.")
        token = parts[1].decode("latin-1")
        # Tokens are secrets.token_urlsafe(32); anything else (a NUL, 5 KB) is refused before the database sees it.
        if not TOKEN_SHAPE.fullmatch(token):
            raise exceptions.AuthenticationFailed("The token is not valid.")
        client = self._client_for(token)
        if client.revoked_at is not None:
            # Answered exactly as an unknown token, so a caller cannot learn which tokens once existed;
            # the audit trail says which client's revoked token was tried.
            audit_record(actor=Actor.from_request(request, client=client.actor_name, user=AnonymousUser()),
                         action="access_refused",
                         site_code=client.site.code, detail={"reason": "revoked EHR token"})
            raise exceptions.AuthenticationFailed("The token is not valid.")
        client.touch()
        # A client is not a user: the audit trail records it by name (Actor.client), never as a user row.
        return AnonymousUser(), client

    def authenticate_header(self, request) -> str:
        # Non-empty, so DRF answers a missing or bad token with 401 instead of 403.
        return 'Bearer realm="clinnova"'

    @staticmethod
    def _client_for(token: str) -> EHRClient:
        # The prefix narrows the search; the constant-time hash comparison decides.
        for client in EHRClient.objects.select_related("site").filter(token_prefix=token[:8]):
            if client.token_matches(token):
                return client
        raise exceptions.AuthenticationFailed("The token is not valid.")


class IsEHRClient(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, EHRClient)


class EHRClientThrottle(throttling.SimpleRateThrottle):
    """Requests per EHR client (rate REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["ehr_client"]), counted in the cache."""

    scope = "ehr_client"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, EHRClient):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view) -> bool:
        # The counters live in Redis. While Redis restarts, visits must still be accepted (they are stored in
        # PostgreSQL and scored once the sweep re-sends their jobs), so the throttle fails open, loudly.
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # redis-py's ConnectionError/TimeoutError and whatever the cache backend wraps
            log.warning("throttle counters unavailable (%s); request allowed", type(exc).__name__)
            return True


class EHRTokenScheme(OpenApiAuthenticationExtension):
    target_class = EHRTokenAuthentication
    name = "ehrToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The token printed by `manage.py create_ehr_client`; `Token <token>` is accepted too.",
        }
