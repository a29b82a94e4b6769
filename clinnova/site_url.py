"""The node's public base URL: what EHRs call it by, so JWT audiences and every link we hand out agree.

SITE_URL is the configured answer. Behind a proxy that serves one node under several names (an internal
and an external host), TRUST_REQUEST_HOST lets the request's own host stand in for it; Django's
ALLOWED_HOSTS check (request.get_host) has refused any host not on the list before this is read.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def site_url(request=None) -> str:
    """The base URL links are built on, without a trailing slash."""
    if request is not None and settings.TRUST_REQUEST_HOST:
        return request_base_url(request)
    return settings.SITE_URL


def request_base_url(request) -> str:
    """The scheme, host and script prefix the request was made to (the host checked against ALLOWED_HOSTS)."""
    return f"{request.scheme}://{request.get_host()}{request.META.get('SCRIPT_NAME', '')}".rstrip("/")


def base_urls(request) -> list[str]:
    """Every base URL a caller may rightly have used: SITE_URL, and the request's own when it is trusted."""
    bases = [settings.SITE_URL]
    if settings.TRUST_REQUEST_HOST:
        bases.append(request_base_url(request))
    return bases


_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_normalise(url: str) -> str:
    """A URL compared as RFC 3986 §6.2.2-3 says equal URLs compare: scheme and host in lower case, the default
    port dropped, and (our own choice) no trailing slash, since our routes answer one path either way."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    scheme = parts.scheme.lower()
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"
