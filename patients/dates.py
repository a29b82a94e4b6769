"""Dates that make sense: every door checks visit, diagnosis, therapy and observation dates here.

A clinical date lies between the patient's birth year (and never before 1900) and today. The message names
the field, the date and the range allowed, so an integrator can fix the sender.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from patients.dictionary import FieldError

EARLIEST_YEAR = 1900


def date_range(birth_year: int | None) -> tuple[dt.date, dt.date]:
    """The earliest and latest plausible clinical date for a patient born in that year."""
    year = birth_year if isinstance(birth_year, int) and birth_year >= EARLIEST_YEAR else EARLIEST_YEAR
    return dt.date(year, 1, 1), timezone.localdate()


def date_check(field: str, value: dt.date | None, *, birth_year: int | None, errors: list[FieldError],
               not_after: dt.date | None = None, not_after_what: str = "") -> bool:
    """Append an error and return False when the date is outside what is plausible; None passes."""
    if value is None:
        return True
    lo, hi = date_range(birth_year)
    if value < lo or value > hi:
        why = ("must not be in the future" if value > hi else
               f"must not be before the patient's birth year {birth_year}" if lo.year == birth_year else
               f"must not be before {EARLIEST_YEAR}")
        errors.append(FieldError(field, value.isoformat(), f"{why}: allowed from {lo.isoformat()} to today, "
                                                           f"{hi.isoformat()}"))
        return False
    if not_after is not None and value > not_after:
        errors.append(FieldError(field, value.isoformat(), f"must not be after {not_after_what} ({not_after.isoformat()})"))
        return False
    return True
