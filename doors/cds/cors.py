"""CORS for browser-based CDS clients: an origin registered with a client is allowed beside CDS_CORS_ORIGINS.

A preflight carries no token, so it cannot say which client asks: an origin registered with any active
client is answered. The call that follows still needs that client's signed JWT. django-cors-headers
does the rest (CORS_URLS_REGEX keeps it to /cds-services).
"""

from __future__ import annotations

from corsheaders.signals import check_request_enabled

from recommendations.models import CdsClient


def registered_origin(sender, request, **kwargs) -> bool:
    origin = request.headers.get("origin", "")
    if not origin:
        return False
    # A handful of clients per site: reading their lists is cheaper than a JSON lookup SQLite lacks.
    return any(origin in (origins or []) for origins in
               CdsClient.objects.filter(revoked_at__isnull=True).values_list("origins", flat=True))


def cors_check_connect() -> None:
    check_request_enabled.connect(registered_origin, dispatch_uid="clinnova-cds-registered-origins")
