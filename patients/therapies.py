"""Therapy lines through time: how every door records starts, stops and switches.

A line is one drug from its start until it stops; it stays active until a stop is recorded. Lines are
identified by patient, drug and start date, so sending the same line again (as every visit of an EHR
does) updates it instead of duplicating it. A stop, once recorded, is never undone by a later message
that only says the drug was started: a restart is a new line with its own start date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from patients import drugs
from patients.dates import date_check
from patients.dictionary import FieldError
from patients.drugs import Drug
from patients.models import Outcome, Patient, TherapyExposure


@dataclass(frozen=True)
class TherapyInput:
    drug: str  # ATC code (current or pre-2024) or INN name
    started_on: dt.date
    stopped_on: dt.date | None = None
    # The stop reason (Outcome); "ongoing" while active. A stop without a reason is stored as not recorded.
    outcome: str = Outcome.ONGOING
    response_at_followup: bool | None = None
    stop_detail: str = ""  # the adverse event in words or as a code
    dose: str = ""


def therapies_check(therapies: list[TherapyInput], *, on: dt.date, birth_year: int | None,
                    errors: list[FieldError], prefix: str = "therapies") -> list[tuple[Drug, TherapyInput]]:
    """The inputs with their catalogue drug; problems appended to `errors` with the field each is about.

    `on` is the date the sender speaks for (the visit date): a start or stop after it is not known then.
    """
    resolved = []
    for i, t in enumerate(therapies):
        where = f"{prefix}[{i}]"
        try:
            drug = drugs.resolve(t.drug)
        except drugs.UnknownDrug:
            errors.append(FieldError(f"{where}.drug", t.drug, "is not an ATC code or name in the drug catalogue "
                                     "(see /api/v1/dictionary/)"))
            continue
        if t.outcome not in Outcome.values:
            errors.append(FieldError(f"{where}.outcome", t.outcome, "must be one of " + ", ".join(Outcome.values)))
        date_check(f"{where}.start", t.started_on, birth_year=birth_year, errors=errors, not_after=on,
                   not_after_what="the visit date")
        if date_check(f"{where}.stop", t.stopped_on, birth_year=birth_year, errors=errors, not_after=on,
                      not_after_what="the visit date (record a later stop with a later visit)"):
            if t.stopped_on is not None and t.stopped_on < t.started_on:
                errors.append(FieldError(f"{where}.stop", t.stopped_on.isoformat(),
                                         f"must not be before the start ({t.started_on.isoformat()})"))
        if t.stopped_on is None and t.outcome not in (Outcome.ONGOING, Outcome.NOT_RECORDED):
            errors.append(FieldError(f"{where}.stop", None, f"is required when the stop reason is {t.outcome}"))
        if len(t.stop_detail) > 300:
            errors.append(FieldError(f"{where}.stop_detail", t.stop_detail[:40] + "…", "must be at most 300 characters"))
        if len(t.dose) > 100:
            errors.append(FieldError(f"{where}.dose", t.dose[:40] + "…", "must be at most 100 characters"))
        resolved.append((drug, t))
    return resolved


# What a message can change on a line it sends again (therapy_line_apply).
LINE_FIELDS = ["stopped_on", "outcome", "stop_detail", "dose", "response_at_followup"]


def therapy_lines_record(patient: Patient, resolved: list[tuple[Drug, TherapyInput]], *, source: str,
                         new_patient: bool = False) -> None:
    """Create or update the lines (inside the caller's transaction).

    An EHR sends the whole therapy history with every visit: the patient's lines for these drugs are read
    (and locked, so a visit posted meanwhile waits instead of being overwritten) with one query, then new lines
    are inserted with one statement and changed lines updated with one; a line sent again unchanged is not
    written. A patient created in this transaction has no line to read.
    """
    if not resolved:
        return
    lines = {} if new_patient else {
        (line.drug_atc, line.started_on): line for line in TherapyExposure.objects.select_for_update()
        .filter(patient=patient, drug_atc__in={drug.atc for drug, _ in resolved})}
    new: dict = {}
    changed: dict = {}
    for drug, t in resolved:
        key = (drug.atc, t.started_on)
        line = lines.get(key)
        if line is None:
            line = lines[key] = new[key] = TherapyExposure(patient=patient, drug_atc=drug.atc, started_on=t.started_on,
                                                           source=source)
        before = [getattr(line, name) for name in LINE_FIELDS]
        therapy_line_apply(line, t)
        if key not in new and [getattr(line, name) for name in LINE_FIELDS] != before:
            changed[key] = line
    TherapyExposure.objects.bulk_create(new.values())
    TherapyExposure.objects.bulk_update(changed.values(), LINE_FIELDS)


def therapy_line_apply(line: TherapyExposure, t: TherapyInput) -> None:
    """What one message says of a line, applied to it in memory (a stop is kept; a restart is a new line)."""
    if t.stopped_on is not None:
        line.stopped_on = t.stopped_on
        line.outcome = t.outcome if t.outcome != Outcome.ONGOING else Outcome.NOT_RECORDED
        line.stop_detail = t.stop_detail or line.stop_detail
    if t.dose:
        line.dose = t.dose
    if t.response_at_followup is not None:
        line.response_at_followup = t.response_at_followup


def therapy_stop(line: TherapyExposure, *, stopped_on: dt.date, outcome: str, stop_detail: str = "") -> None:
    """Stop an active line (the web form's "adalimumab stops" when another drug starts)."""
    line.stopped_on = stopped_on
    line.outcome = outcome if outcome != Outcome.ONGOING else Outcome.NOT_RECORDED
    line.stop_detail = stop_detail
    line.save(update_fields=["stopped_on", "outcome", "stop_detail"])
