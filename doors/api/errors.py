"""One shape for every JSON API error: {"code", "message", "errors": [{"field", "value", "message"}]}.

An EHR integrator reads `code` in their program and `message` in their logs;
`errors` names each field at fault, the value received and what is allowed.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from patients.dictionary import DictionaryError


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    """409 with extra keys for the body (e.g. differing_fields)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, message: str, *, code: str = "conflict", **extra: Any):
        super().__init__(message, code)
        self.extra = extra


# Machine codes for DRF's own exceptions, where its default code is vaguer than ours.
CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "malformed_json",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DictionaryError):
        set_rollback()
        errors = [e.as_dict() for e in exc.errors]
        return Response(_body("invalid", _invalid_message(errors), errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a bug, which Django logs and answers with its 500 page
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_flatten(exc.detail, "", _request_data(context)))
        body = _body("invalid", _invalid_message(errors), errors)
    else:
        code = CODES.get(type(exc)) or _first_code(exc) or "error"
        body = _body(code, _sentence(exc.detail), [])
        body.update(getattr(exc, "extra", {}))
    response.data = body
    return response


def _body(code: str, message: str, errors: list[dict]) -> dict:
    return {"code": code, "message": message, "errors": errors}


def _invalid_message(errors: list[dict]) -> str:
    fields = ", ".join(e["field"] for e in errors[:5]) + (", …" if len(errors) > 5 else "")
    return f"The request was not stored: {len(errors)} invalid field{'s' if len(errors) != 1 else ''} ({fields})."


def _first_code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else ""


def _sentence(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _sentence(detail[0])
    if isinstance(detail, dict) and detail:
        return _sentence(next(iter(detail.values())))
    return str(detail)


def _request_data(context: dict) -> Any:
    request = context.get("request")
    try:
        return request.data if request is not None else None
    except Exception:  # the body could not be parsed: there are no values to echo
        return None


def _flatten(detail: Any, path: str, data: Any):
    """Serializer errors as {"field": "patient.sex", "value": <as received>, "message"} rows."""
    if isinstance(detail, dict):
        for key, sub in detail.items():
            if key == "non_field_errors":
                yield from _flatten(sub, path, data)
                continue
            child = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key)
            yield from _flatten(sub, child, _child(data, key))
    elif isinstance(detail, list) and detail and not all(isinstance(d, exceptions.ErrorDetail) for d in detail):
        # A list of per-item errors (many=True serializers): empty entries are valid items.
        for i, sub in enumerate(detail):
            if sub:
                yield from _flatten(sub, f"{path}[{i}]", _child(data, i))
    else:
        # The body itself is not echoed back: it may be large, and the sender has it.
        for message in detail if isinstance(detail, list) else [detail]:
            yield {"field": path or "body", "value": data if path else None, "message": str(message)}


def serializer_errors(detail: Any, data: Any) -> list[dict]:
    """A serializer's errors as {"field", "value", "message"} rows (the bulk report names them the same way)."""
    return list(_flatten(detail, "", data))


def _child(data: Any, key: Any) -> Any:
    if isinstance(data, dict):
        return data.get(key)
    if isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
        return data[key]
    return None
