"""Logs that carry a request id and no patient data.

Every record gets the id of the request it was written in (`%(request_id)s`),
the same id the response carries in X-Request-ID and the audit trail in
AuditEvent.request_id. Patient data stays out: request bodies are never
logged, paths are logged as their URL pattern, ids and query strings are
masked, and exception messages (which can quote a value) are withheld while
the traceback's file, line and code are kept.
"""

from __future__ import annotations

import logging
import re
import traceback
from contextvars import ContextVar

from django.core.exceptions import DisallowedHost

request_id_var: ContextVar[str] = ContextVar("clinnova_request_id", default="-")

UUID = re.compile(r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b")
QUERY = re.compile(r"\?[^\s\"']+")
WITHHELD = "(message withheld: it may hold patient data)"

errors_log = logging.getLogger("clinnova.errors")


class RequestIdFilter(logging.Filter):
    """Adds record.request_id: the current request's id, or "-" outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs 4xx responses after the middleware has returned: the request itself still knows its id.
            record.request_id = getattr(getattr(record, "request", None), "request_id", None) or request_id_var.get()
        return True


class PatientDataFilter(logging.Filter):
    """Rewrites a record so that no patient identifier or value reaches a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "patient_data_removed", False):
            return True
        message = record.getMessage()
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if isinstance(path, str) and len(path) > 1:
            route = _route(request)
            for form in (path, path.encode("unicode_escape").decode("ascii")):
                message = message.replace(form, route)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            if not isinstance(exc, DisallowedHost):  # Django's words about the Host header: kept
                for text in (repr(exc), str(exc)):
                    if len(text) > 3:
                        message = message.replace(text, WITHHELD)
            record.exc_text = traceback_without_messages(exc)
            record.exc_info = None
        record.msg = QUERY.sub("?…", UUID.sub("<id>", message))
        record.args = ()
        record.patient_data_removed = True
        return True


def _route(request) -> str:
    """The URL pattern that matched ("/patients/<uuid:patient_id>/"), never the values in the path."""
    match = getattr(request, "resolver_match", None)
    if match is None or not isinstance(getattr(match, "route", None), str):
        return "(no matching route)"
    return "/" + match.route


def traceback_without_messages(exc: BaseException) -> str:
    """The traceback of exc and the exceptions it was raised from, with each exception's message withheld
    (Django's DisallowedHost excepted)."""
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    blocks = []
    for item in reversed(chain):
        kind = type(item)
        name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        frames = "".join(traceback.format_tb(item.__traceback__))
        said = str(item) if isinstance(item, DisallowedHost) else WITHHELD
        blocks.append(f"Traceback (most recent call last):\n{frames}{name}: {said}")
    return "\n\nwhich led to\n\n".join(blocks)


def request_exception_log(sender, request, **kwargs) -> None:
    """got_request_exception: one line naming the request id, the route and the kind of error."""
    import sys

    exc = sys.exc_info()[1]
    errors_log.error(
        "Unhandled %s in %s %s", type(exc).__name__ if exc else "error", request.method, _route(request),
        extra={"request_id": getattr(request, "request_id", request_id_var.get())},
    )
