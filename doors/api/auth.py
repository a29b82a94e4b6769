"""Who is calling the EHR API, whether they may, and how often."""

from __future__ import annotations

import logging
import re
import threading

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
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
    """Requests per EHR client (rate REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["ehr_client"]), counted in Redis.

    One counter per client and window (a minute for "600/min"), raised with one INCR: DRF's own throttle reads
    and writes back the list of every request's time in the window (600 floats, pickled, two round trips and,
    with Django's Redis cache, two new client objects per request: a sixth of a POST's function calls), and two
    requests of one client at the same moment could both write back a list that misses the other. A fixed
    window lets a client send up to twice its rate across a window's edge; that is the price of one atomic
    operation per request.
    """

    scope = "ehr_client"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, EHRClient):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.wait_s = (window + 1) * self.duration - now
        # The counters live in Redis. While Redis restarts, visits must still be accepted (they are stored in
        # PostgreSQL and scored once the sweep re-sends their jobs), so the throttle fails open, loudly.
        try:
            count = counter_incr(f"{key}:{window}", timeout=self.duration + 1)
        except Exception as exc:  # redis-py's ConnectionError/TimeoutError and whatever the cache backend wraps
            log.warning("throttle counters unavailable (%s); request allowed", type(exc).__name__)
            return True
        return count <= self.num_requests

    def wait(self) -> float:
        return self.wait_s

    @classmethod
    def counters_reset(cls, client_pk) -> None:
        """Forget a client's count (tests: the counters in Redis outlive a test database whose ids restart)."""
        key = cls.cache_format % {"scope": cls.scope, "ident": client_pk}
        duration = cls().duration
        window = int(cls.timer() // duration)
        for w in (window - 1, window, window + 1):
            _redis_or_cache_delete(f"{key}:{w}")


_redis = None
_redis_lock = threading.Lock()


def _redis_client():
    """One client (with its connection pool) per process on REDIS_URL, or None without Redis."""
    global _redis
    if not settings.REDIS_URL:
        return None
    with _redis_lock:
        if _redis is None:
            import redis

            _redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        return _redis


def counter_incr(key: str, *, timeout: int) -> int:
    """Add one to a counter that expires after `timeout` seconds; its new value. One round trip to Redis."""
    client = _redis_client()
    if client is None:
        cache.add(key, 0, timeout)
        return cache.incr(key)
    pipe = client.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, timeout, nx=True)
    return pipe.execute()[0]


def _redis_or_cache_delete(key: str) -> None:
    client = _redis_client()
    if client is None:
        cache.delete(key)
    else:
        client.delete(key)


class EHRTokenScheme(OpenApiAuthenticationExtension):
    target_class = EHRTokenAuthentication
    name = "ehrToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The token printed by `manage.py create_ehr_client`; `Token <token>` is accepted too.",
        }
