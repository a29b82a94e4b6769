"""What we know about a patient on a date: the one input of model features, safety rules, pages and doors.

For every dictionary variable of the patient's diseases, `patient_state` gives the value in force on the
date, when it was recorded, where it came from and whether it is still valid, by the variable's declared
persistence (patients.variables.Persistence):

- facts (phenotype, serostatus) hold from their latest entry on or before the date until a newer entry;
- conditions and screenings are carried forward from their latest entry until their validity window ends;
- measurements belong to their visit: the latest visit on or before the date that has one gives it, and it
  is current within its window;
- derived values (age, disease duration, therapy history) are computed from the record on the date.

Unknown is a value: a variable never recorded, or recorded too long ago, reads as None through `value()` and
`known()` (what rules and models see), while `values` keeps the expired value and its date for the pages.
Only what was recorded on or before the date counts, so re-scoring an old visit never sees its future.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db.models import TextChoices

from patients import dictionary
from patients.history import current_on, derived_values
from patients.models import Diagnosis, EntrySource, Patient, RecordEntry, TherapyExposure, Visit
from patients.variables import Persistence, Variable


# Labels of where a value came from; a dict, because Django's get_FOO_display() re-reads the choices each call.
SOURCES = dict(EntrySource.choices)


class Status(TextChoices):
    CURRENT = "current", "current"
    EXPIRED = "expired", "expired"
    UNKNOWN = "unknown", "not recorded"


@dataclass(frozen=True)
class StateValue:
    variable: Variable
    value: Any = None
    status: str = Status.UNKNOWN
    recorded_on: dt.date | None = None
    expires_on: dt.date | None = None
    # Where it came from: a visit (with its source, e.g. FHIR, and the sender's id), an entry, or the record.
    source: str = ""
    source_ref: str = ""
    visit_id: Any = None

    @property
    def name(self) -> str:
        return self.variable.name

    @property
    def current(self) -> Any:
        """The value rules and models may use: None unless current."""
        return self.value if self.status == Status.CURRENT else None

    @property
    def text(self) -> str:
        return self.variable.describe(self.value)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "status": str(self.status),
                "recorded_on": self.recorded_on.isoformat() if self.recorded_on else None,
                "valid_until": self.expires_on.isoformat() if self.expires_on else None,
                "source": self.source or None, "source_ref": self.source_ref or None}


@dataclass
class PatientState:
    patient: Patient
    on: dt.date
    diseases: list[str]
    diagnoses: list[Diagnosis]
    values: dict[str, StateValue]
    therapies: list[TherapyExposure] = field(default_factory=list)

    def value(self, name: str) -> Any:
        entry = self.values.get(name)
        return entry.current if entry else None

    def known(self) -> dict[str, Any]:
        """Current values by dictionary name, as rules and models read them (unknown and expired left out)."""
        return {name: v.value for name, v in self.values.items() if v.status == Status.CURRENT}

    def expired(self) -> list[StateValue]:
        return [v for v in self.values.values() if v.status == Status.EXPIRED]

    def diagnosis_of(self, disease: str) -> Diagnosis | None:
        return next((d for d in self.diagnoses if d.disease == disease), None)

    @property
    def current_therapies(self) -> list[TherapyExposure]:
        return current_on(self.therapies, self.on)

    @property
    def current_drugs(self) -> set[str]:
        return {t.drug_atc for t in self.current_therapies}

    def of_group(self, *groups: str, disease: str | None = None) -> list[StateValue]:
        """The values of these dictionary groups, in dictionary order (for pages)."""
        return [v for v in self.values.values()
                if v.variable.group in groups and (disease is None or v.variable.used_for(disease))]


def patient_state(patient: Patient, *, on: dt.date, visit: Visit | None = None, draft: Visit | None = None,
                  disease: str | None = None) -> PatientState:
    """The patient's state on a date (see the module docstring).

    `visit`: the state as that visit saw it (another visit on the same day recorded after it is left out).
    `draft`: an unsaved visit (values an EHR holds but has not sent, e.g. a CDS prefetch) that counts as the
    latest record of its day.
    `disease`: only that disease's variables; default every disease the patient has.
    Reads the patient's visits, entries, therapies and diagnoses, from prefetched rows when the caller
    prefetched them (`state_prefetch`), so scoring a batch costs a few queries in all.
    """
    diagnoses = list(patient.diagnoses.all())
    asked = visit or draft
    diseases = [disease] if disease else sorted({d.disease for d in diagnoses} | ({asked.disease} if asked else set()))
    visits = [v for v in patient.visits.all() if _visible(v, on, visit)]
    visits.sort(key=lambda v: (v.visit_date, v.created_at), reverse=True)
    entries = [e for e in patient.entries.all() if _entry_visible(e, on, visit)]
    entries.sort(key=lambda e: (e.effective_on, e.recorded_at), reverse=True)
    if draft is not None and draft.visit_date <= on:
        visits.insert(0, draft)
        entries[:0] = [RecordEntry(variable=name, value=value, effective_on=draft.visit_date, source=draft.source)
                       for name, value in draft.measurements.items()
                       if dictionary.BY_NAME[name].persistence in (Persistence.FACT, Persistence.CONDITION)]
    therapies = sorted(patient.therapies.all(), key=lambda t: (t.started_on, t.drug_atc))

    wanted = _wanted(tuple(diseases))
    latest_entry: dict[str, RecordEntry] = {}
    for e in entries:
        latest_entry.setdefault(e.variable, e)
    latest_measured: dict[str, tuple[Any, Visit]] = {}
    for v in visits:
        for name, value in v.measurements.items():
            latest_measured.setdefault(name, (value, v))

    primary = diseases[0] if diseases else None
    diagnosis = next((d for d in diagnoses if d.disease == (asked.disease if asked else primary)), None)
    derived = derived_values(birth_year=patient.birth_year, sex=patient.sex,
                             diagnosed_on=diagnosis.diagnosed_on if diagnosis else None, visit_date=on,
                             therapies=therapies)
    values: dict[str, StateValue] = {}
    for var in wanted:
        if var.persistence == Persistence.DERIVED:
            value = derived.get(var.name)
            values[var.name] = StateValue(var, value, Status.CURRENT if value is not None else Status.UNKNOWN,
                                          recorded_on=on if value is not None else None, source="record")
        elif var.persistence in (Persistence.FACT, Persistence.CONDITION) and var.name in latest_entry:
            e = latest_entry[var.name]
            values[var.name] = _dated(var, e.value, e.effective_on, on, source=SOURCES.get(e.source, e.source),
                                      source_ref=e.source_ref, visit_id=e.visit_id)
        elif var.name in latest_measured:
            value, v = latest_measured[var.name]
            values[var.name] = _dated(var, value, v.visit_date, on, source=SOURCES.get(v.source, v.source),
                                      source_ref=v.source_id or "", visit_id=v.pk)
        else:
            values[var.name] = StateValue(var)
    return PatientState(patient=patient, on=on, diseases=diseases, diagnoses=diagnoses, values=values,
                        therapies=therapies)


@lru_cache(maxsize=64)
def _wanted(diseases: tuple[str, ...]) -> tuple[Variable, ...]:
    """The dictionary's variables used for these diseases: the same for every patient with them (a scoring batch
    asked this of ~150 variables per visit)."""
    return tuple(v for v in dictionary.VARIABLES if any(v.used_for(d) for d in diseases))


def state_prefetch() -> tuple:
    """prefetch_related() arguments that let patient_state read a patient without further queries."""
    return ("diagnoses", "entries", "therapies", "visits")


def _dated(var: Variable, value: Any, recorded_on: dt.date, on: dt.date, **where) -> StateValue:
    validity = var.validity
    expires_on = validity.expires_on(recorded_on, value) if validity else None
    status = Status.EXPIRED if expires_on is not None and on > expires_on else Status.CURRENT
    return StateValue(var, value, status, recorded_on=recorded_on, expires_on=expires_on, **where)


def _visible(v: Visit, on: dt.date, visit: Visit | None) -> bool:
    if v.visit_date > on:
        return False
    if visit is not None and v.pk != visit.pk and v.visit_date == visit.visit_date:
        return v.created_at < visit.created_at
    return True


def _entry_visible(e: RecordEntry, on: dt.date, visit: Visit | None) -> bool:
    if e.effective_on > on:
        return False
    if visit is not None and e.visit_id is not None and e.visit_id != visit.pk and e.effective_on == visit.visit_date:
        # Same day, another visit: only one recorded before this visit counts.
        return e.recorded_at < visit.created_at
    return True

