"""Request ids, and an audit event for every refused request."""

from __future__ import annotations

import uuid

from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control

from clinnova.audit import ACCESS_REFUSED, Actor, audit_record, from_trusted_proxy
from clinnova.logging import request_id_var


def request_id_from(header: str) -> str:
    """The id in X-Request-ID if it is a UUID; otherwise a new one.

    Anything else is refused, so a header cannot smuggle text into log lines.
    """
    try:
        return str(uuid.UUID(header.strip()))
    except (ValueError, AttributeError):
        return str(uuid.uuid4())


class RequestIdMiddleware:
    """Sets request.request_id, makes it the logging context, and answers it in X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The trusted proxy's id joins its log to ours; a client's own choice is never written into the audit trail.
        given = request.headers.get("X-Request-ID", "") if from_trusted_proxy(request) else ""
        request.request_id = request_id_from(given)
        token = request_id_var.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class NoStoreMiddleware:
    """Cache-Control: no-store on every response the application makes (static files are served before it).

    Patient pages, the JSON API, FHIR and CDS Hooks answers all carry patient data; a shared or browser cache
    must keep none of it. Marking every dynamic response is simpler to trust than a list of the ones that do.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        return response


class ChunkedBodyMiddleware:
    """A body sent with Transfer-Encoding: chunked and no Content-Length answers 411.

    Django reads Content-Length bytes of a body; without one it reads nothing, so a chunked visit would be
    taken as an empty body. The TLS proxy (deploy/nginx.conf) buffers chunked requests and sends the length.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            response = _bad_request(request, "The body was sent with Transfer-Encoding: chunked; send it with a "
                                             "Content-Length header instead.")
            response.status_code = 411
            return response
        return self.get_response(request)


class NulCharacterMiddleware:
    """A NUL character in a query parameter or form field answers 400 naming the field.

    PostgreSQL text cannot hold NUL; let through, it turned a search into a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sources = [("query parameter", request.GET)]
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                                 "multipart/form-data"):
            sources.append(("form field", request.POST))
        for kind, params in sources:
            for name, values in params.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    return _bad_request(request, f"The {kind} '{name[:40].replace(chr(0), '?')}' contains a NUL "
                                                 "character (\\0); remove it and try again.")
        return self.get_response(request)


def _bad_request(request, message: str) -> HttpResponse:
    if request.path.startswith(("/api/", "/fhir/", "/cds-services")):
        return JsonResponse({"code": "invalid", "message": message}, status=400)
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


class HealthCheckMiddleware:
    """Answers /health/ before host validation and the HTTPS redirect.

    The container health check asks http://127.0.0.1:8000/health/ from inside
    the container: not an allowed host, not HTTPS. The answer says only "ok".
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/health/" and request.method in ("GET", "HEAD"):
            from clinnova.views import health

            return health(request)
        return self.get_response(request)


class RefusalAuditMiddleware:
    """Writes an access_refused event for every 403, whoever refused it (a page, the API, CSRF, second factor)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            audit_record(
                actor=Actor.from_request(request), action=ACCESS_REFUSED, patient_id=_patient_id(request),
                # The path without its query string: a search box may have held a patient identifier.
                detail={"method": request.method, "path": request.path[:300], "status": 403},
            )
        return response


def _patient_id(request):
    match = getattr(request, "resolver_match", None)
    value = match.kwargs.get("patient_id") if match is not None else None
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None
