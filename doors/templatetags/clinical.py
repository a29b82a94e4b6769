"""Template filters of the clinician pages: numbers as clinicians write them, and small form helpers."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def clinical(value, decimals: int = 2) -> str:
    """A number as a clinician writes it: 4.5 not 4.50, 3 not 3.0, at most `decimals` places; — for unknown."""
    if value is None or value == "":
        return "—"
    try:
        number = round(float(value), int(decimals))
    except (TypeError, ValueError):
        return str(value)
    text = f"{number:.{int(decimals)}f}".rstrip("0").rstrip(".") if decimals else f"{number:.0f}"
    return "0" if text in ("-0", "") else text


@register.filter
def split(value: str) -> list[str]:
    return value.split()


@register.filter
def field(form, name: str):
    """The bound field `name` of a form (templates cannot index with a variable)."""
    return form[name]
