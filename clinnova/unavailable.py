"""When the database is briefly unreachable, answer 503 with Retry-After instead of a 500.

A visit is only accepted once it is stored, so "try again shortly" is the honest
answer; Django reconnects by itself on the next request.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.warning("database unavailable (%s); answered 503", type(exception).__name__)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        # Not "nothing was stored": a commit can succeed while its acknowledgement is lost with the connection.
        message = ("The database is briefly unavailable. Send the same request again after a few seconds; "
                   "repeating it is safe (the visit id makes it idempotent).")
        if request.path.startswith(("/api/", "/fhir", "/cds-services")):
            return JsonResponse({"code": "unavailable", "message": message}, status=503, headers=headers)
        return HttpResponse(f"<!doctype html><title>Unavailable</title><h1>Briefly unavailable</h1><p>{message}</p>",
                            status=503, headers=headers)
