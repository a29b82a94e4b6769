"""Reading a JSON body that may come from anyone: bounded in size, and never a 500 whatever its bytes."""

from __future__ import annotations

import json
import math

from django.conf import settings
from rest_framework import exceptions, parsers

from doors.api.errors import PayloadTooLarge


def body_limit_check(request, limit_setting: str = "EHR_API_MAX_BODY_BYTES") -> None:
    """413 before anything is read when the declared length is over the limit."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > getattr(settings, limit_setting):
        raise _too_large(limit_setting)


class BoundedJSONParser(parsers.BaseParser):
    media_type = "application/json"
    limit_setting = "EHR_API_MAX_BODY_BYTES"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = getattr(settings, self.limit_setting)
        # The declared length may lie: read at most one byte more than allowed.
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise _too_large(self.limit_setting)
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant, parse_int=_parse_int,
                              parse_float=_parse_float)
            # A lone UTF-16 surrogate ("\ud800") parses but can be neither stored nor echoed back.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeError:
            raise exceptions.ParseError("The body is not valid UTF-8 JSON.") from None
        except RecursionError:
            raise exceptions.ParseError("The JSON is nested too deeply.") from None
        except ValueError as exc:
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}.") from None
        return data


def _too_large(limit_setting: str = "EHR_API_MAX_BODY_BYTES") -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is over {getattr(settings, limit_setting) // 1024} KB.")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _parse_int(text: str) -> int | float | str:
    # JSON numbers interoperate as doubles (RFC 8259 §6): a longer integer is read as one,
    # so no code downstream meets a 400-digit int it cannot turn into a float.
    return int(text) if len(text) <= 17 else _parse_float(text)


def _parse_float(text: str) -> float | str:
    # A number beyond a double (1e400) stays as its text: the dictionary rejects it as "not a number"
    # and the error can echo it, where float("inf") could be neither compared nor rendered as JSON.
    value = float(text)
    return value if math.isfinite(value) else text
