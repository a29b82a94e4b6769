"""Variables derived from a patient's therapy lines and dates on a given day: age, disease duration, history.

These are the dictionary's DERIVED variables. patients.state puts them in the
patient's state, which model features, safety rules and pages read, so "prior
anti-TNF exposure" means the same thing everywhere.

A therapy line is seen as it was on the day asked: a drug started by then was
taken (the current one included), and only a stop on or before that day, with
its reason, is known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from patients.drugs import ADVANCED_CLASSES, BY_ATC, Drug, DrugClass
from patients.models import FAILURE_OUTCOMES, Outcome, TherapyExposure

METHOTREXATE = "L04AX03"


def taken_by(therapies: Iterable[TherapyExposure], on: dt.date) -> list[TherapyExposure]:
    """Lines started on or before the date: stopped ones and the current ones."""
    return [t for t in therapies if t.started_on <= on]


def stopped_by(therapies: Iterable[TherapyExposure], on: dt.date) -> list[TherapyExposure]:
    """Lines stopped on or before the date: their stop reasons are history at that date."""
    return [t for t in therapies if t.stopped_by(on)]


def current_on(therapies: Iterable[TherapyExposure], on: dt.date) -> list[TherapyExposure]:
    """Lines active on the date."""
    return [t for t in therapies if t.active_on(on)]


def disease_years(diagnosed_on: dt.date | None, on: dt.date) -> float | None:
    if diagnosed_on is None:
        return None
    return round(max(0.0, (on - diagnosed_on).days / 365.25), 2)


def derived_values(*, birth_year: int, sex: str, diagnosed_on: dt.date | None, visit_date: dt.date,
                   therapies: Iterable[TherapyExposure]) -> dict:
    therapies = list(therapies)
    taken = taken_by(therapies, visit_date)
    anti_tnf = [t for t in taken if BY_ATC[t.drug_atc].drug_class == DrugClass.ANTI_TNF]
    return {
        "age": max(0, visit_date.year - birth_year),
        "sex": sex,
        "disease_duration": disease_years(diagnosed_on, visit_date),
        "prior_advanced_therapies": len({t.drug_atc for t in taken if BY_ATC[t.drug_atc].drug_class in ADVANCED_CLASSES}),
        "prior_anti_tnf_failure": any(t.outcome in FAILURE_OUTCOMES for t in anti_tnf if t.stopped_by(visit_date)),
        "prior_anti_tnf_exposure": bool(anti_tnf),
        "concomitant_methotrexate": any(t.drug_atc == METHOTREXATE for t in current_on(therapies, visit_date)),
    }


def failed_classes(therapies: Iterable[TherapyExposure], on: dt.date) -> set[str]:
    """The drug classes of therapies stopped for non-response by that date (drug-relative features read it)."""
    return {BY_ATC[t.drug_atc].drug_class for t in stopped_by(therapies, on) if t.outcome in FAILURE_OUTCOMES}


def same_class_failed(therapies: Iterable[TherapyExposure], drug: Drug, on: dt.date) -> bool:
    return drug.drug_class in failed_classes(therapies, on)


def primary_non_response(therapies: Iterable[TherapyExposure], drug: Drug, on: dt.date) -> bool:
    return any(t.drug_atc == drug.atc and t.outcome == Outcome.PRIMARY_NON_RESPONSE
               for t in stopped_by(therapies, on))
