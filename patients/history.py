"""Variables derived from a patient's record at a visit date: age, disease duration, therapy history.

These are the dictionary's DERIVED variables. The model features, the safety
rules and the pages read them from here, so "prior anti-TNF failure" means the
same thing everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from patients.drugs import ADVANCED_CLASSES, BY_ATC, Drug, DrugClass
from patients.models import FAILURE_OUTCOMES, Outcome, TherapyExposure


def _prior(therapies: Iterable[TherapyExposure], on: dt.date) -> list[TherapyExposure]:
    """Therapies stopped on or before the date: the patient's history at that visit."""
    return [t for t in therapies if t.stopped_on is not None and t.stopped_on <= on]


def derived_values(*, birth_year: int, sex: str, diagnosed_on: dt.date | None, visit_date: dt.date,
                   therapies: Iterable[TherapyExposure]) -> dict:
    prior = _prior(therapies, visit_date)
    anti_tnf = [t for t in prior if BY_ATC[t.drug_atc].drug_class == DrugClass.ANTI_TNF]
    duration = None
    if diagnosed_on is not None:
        duration = round(max(0.0, (visit_date - diagnosed_on).days / 365.25), 2)
    return {
        "age": max(0, visit_date.year - birth_year),
        "sex": sex,
        "disease_duration": duration,
        "prior_advanced_therapies": len({t.drug_atc for t in prior if BY_ATC[t.drug_atc].drug_class in ADVANCED_CLASSES}),
        "prior_anti_tnf_failure": any(t.outcome in FAILURE_OUTCOMES for t in anti_tnf),
        "prior_anti_tnf_exposure": bool(anti_tnf),
    }


def failed_classes(therapies: Iterable[TherapyExposure], on: dt.date) -> set[str]:
    """The drug classes of therapies stopped for non-response by that date (drug-relative features read it)."""
    return {BY_ATC[t.drug_atc].drug_class for t in _prior(therapies, on) if t.outcome in FAILURE_OUTCOMES}


def same_class_failed(therapies: Iterable[TherapyExposure], drug: Drug, on: dt.date) -> bool:
    return any(
        BY_ATC[t.drug_atc].drug_class == drug.drug_class and t.outcome in FAILURE_OUTCOMES
        for t in _prior(therapies, on)
    )


def primary_non_response(therapies: Iterable[TherapyExposure], drug: Drug, on: dt.date) -> bool:
    return any(t.drug_atc == drug.atc and t.outcome == Outcome.PRIMARY_NON_RESPONSE for t in _prior(therapies, on))
