"""Three-valued conditions over the patient's state: each is true, false or unknown (None).

A value that was never recorded, or whose validity window has ended, is unknown: a condition on it is
unknown unless the rest of the condition already decides (Kleene's strong three-valued logic: "false and
unknown" is false, "true or unknown" is true). Safety and licence rules are built from these; an unknown
rule says what to check (recommendations/safety.py) instead of passing as "no concern".

`Facts` is what rules read of a PatientState: the current values, the expired ones with their dates, the
date asked and the therapy lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from patients import dictionary
from patients.drugs import Drug
from patients.models import TherapyExposure
from patients.state import PatientState, Status
from patients.variables import day_text

@dataclass(frozen=True)
class Missing:
    """An input a rule could not read: never recorded, expired, or a judgement only a clinician can make."""

    variable: str | None
    label: str
    status: str  # "unknown", "expired", "stale" (on record, older than a rule allows) or "judgement"
    recorded_on: dt.date | None = None
    expired_on: dt.date | None = None
    value: Any = None
    within_days: int | None = None

    @property
    def text(self) -> str:
        """'No TB screening (IGRA or TST) recorded', 'TB screening (IGRA or TST) expired on 12 Mar 2026'."""
        label = self.label[:1].upper() + self.label[1:]
        if self.status == "judgement":
            return f"Confirm {self.label}"
        if self.status == "stale":
            return (f"{label} last recorded on {day_text(self.recorded_on)}: one from the last {self.within_days} "
                    "days is needed")
        if self.status == "expired":
            var = dictionary.BY_NAME.get(self.variable or "")
            last = f" (last: {var.describe(self.value)})" if var is not None and self.value is not None else ""
            return f"{label} expired on {day_text(self.expired_on)}{last}" if self.expired_on else f"{label} expired"
        return f"{label} not recorded"

    def as_dict(self) -> dict:
        return {"variable": self.variable, "label": self.label, "status": self.status, "text": self.text,
                "recorded_on": self.recorded_on.isoformat() if self.recorded_on else None,
                "expired_on": self.expired_on.isoformat() if self.expired_on else None,
                "value": self.value}


@dataclass(frozen=True)
class Facts:
    """The patient's state as rules read it on one date (see the module docstring)."""

    on: dt.date
    values: Mapping[str, Any]
    recorded_on: Mapping[str, dt.date] = field(default_factory=dict)
    # name -> (value, recorded on, expired on), for values recorded but past their validity window.
    expired: Mapping[str, tuple[Any, dt.date | None, dt.date | None]] = field(default_factory=dict)
    therapies: tuple[TherapyExposure, ...] = ()
    disease: str | None = None
    # The drug a rule is being read for (its own therapy lines: primary non-response, hypersensitivity).
    candidate: Drug | None = None
    # Rules read for one drug are read again for the next with the same answer: recommendations.safety keeps
    # each answer here, shared by every drug's Facts of one patient (see Condition.per_drug).
    answers: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, state: PatientState, *, disease: str | None = None) -> Facts:
        values, recorded, expired = {}, {}, {}
        for name, v in state.values.items():
            if v.status == Status.CURRENT:
                values[name] = v.value
                if v.recorded_on is not None:
                    recorded[name] = v.recorded_on
            elif v.status == Status.EXPIRED:
                expired[name] = (v.value, v.recorded_on, v.expires_on)
        return cls(on=state.on, values=values, recorded_on=recorded, expired=expired,
                   therapies=tuple(state.therapies), disease=disease or (state.diseases[0] if state.diseases else None))

    def for_drug(self, drug: Drug) -> Facts:
        return replace(self, candidate=drug)

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def missing(self, name: str) -> Missing:
        var = dictionary.BY_NAME.get(name)
        label = var.check_label if var else name
        if name in self.expired:
            value, recorded_on, expired_on = self.expired[name]
            return Missing(name, label, "expired", recorded_on, expired_on, value)
        return Missing(name, label, "unknown")

    def taken(self) -> list[TherapyExposure]:
        """Therapy lines started on or before the date (the current ones included)."""
        return [t for t in self.therapies if t.started_on <= self.on]



class Condition:
    """Base of the conditions: evaluate to True, False or None, and name what is missing when None."""

    def evaluate(self, facts: Facts) -> bool | None:
        raise NotImplementedError

    def missing(self, facts: Facts) -> list[Missing]:
        """The inputs whose absence leaves this condition unknown (empty when it is decided)."""
        raise NotImplementedError

    def variables(self) -> tuple[str, ...]:
        """Every dictionary variable the condition reads (for the rules page and the dictionary)."""
        return ()

    @property
    def per_drug(self) -> bool:
        """Whether the answer depends on the candidate drug (its own therapy lines), not on the patient alone."""
        return False

    def describe(self) -> str:
        raise NotImplementedError


_OPS = {
    "eq": ("is", lambda a, b: a == b),
    "ne": ("is not", lambda a, b: a != b),
    "in": ("is one of", lambda a, b: a in b),
    "lt": ("<", lambda a, b: a < b),
    "le": ("≤", lambda a, b: a <= b),
    "gt": (">", lambda a, b: a > b),
    "ge": ("≥", lambda a, b: a >= b),
}


@dataclass(frozen=True)
class Cond(Condition):
    """One variable against a value: `Cond("heart_failure_nyha", "in", ("III", "IV"))`.

    Operators: eq, ne, in, lt, le, gt, ge; `within_days` (a date variable no more than N days before the date
    asked); `gt_times` (above N times another variable, the lab's upper reference limit).
    `fallback`: a variable read in its place when it is unknown (eGFR for creatinine clearance).
    `absent_when`: a condition that, when true, means the value cannot exist (no date of a last myocardial
    infarction in a patient who never had one): the condition is then false instead of unknown.
    """

    variable: str
    op: str
    value: Any = True
    fallback: str | None = None
    absent_when: Condition | None = None
    reference: str | None = None  # for gt_times: the variable holding the reference limit

    def _read(self, facts: Facts) -> tuple[Any, str]:
        value = facts.get(self.variable)
        if value is None and self.fallback:
            return facts.get(self.fallback), self.fallback
        return value, self.variable

    def evaluate(self, facts: Facts) -> bool | None:
        actual, _ = self._read(facts)
        if actual is None:
            if self.absent_when is not None and self.absent_when.evaluate(facts) is True:
                return False
            return None
        if self.op == "within_days":
            day = actual if isinstance(actual, dt.date) else dt.date.fromisoformat(str(actual))
            return (facts.on - day).days <= self.value
        if self.op == "gt_times":
            limit = facts.get(self.reference)
            return None if limit is None else actual > self.value * limit
        try:
            return _OPS[self.op][1](actual, self.value)
        except TypeError:  # a value of the wrong type cannot satisfy a comparison
            return False

    def missing(self, facts: Facts) -> list[Missing]:
        if self.evaluate(facts) is not None:
            return []
        actual, _ = self._read(facts)
        if actual is None:
            return [facts.missing(self.variable)]
        return [facts.missing(self.reference)] if self.reference else []

    def variables(self) -> tuple[str, ...]:
        names = (self.variable,) + ((self.fallback,) if self.fallback else ()) + (
            (self.reference,) if self.reference else ())
        return names + (self.absent_when.variables() if self.absent_when else ())

    def describe(self) -> str:
        label = dictionary.label(self.variable)
        if self.op == "within_days":
            text = f"{label} within the last {self.value} days"
        elif self.op == "gt_times":
            text = f"{label} > {self.value:g} × {dictionary.label(self.reference)}"
        elif self.op in ("eq", "ne") and isinstance(self.value, bool):
            text = f"{label}: {'yes' if self.value == (self.op == 'eq') else 'no'}"
        elif self.op == "in":
            var = dictionary.BY_NAME.get(self.variable)
            shown = [var.code_label(v) if var else str(v) for v in self.value]
            text = f"{label} is {' or '.join(shown)}"
        else:
            var = dictionary.BY_NAME.get(self.variable)
            shown = var.code_label(self.value) if var and var.codes else f"{self.value:g}" if isinstance(
                self.value, (int, float)) else str(self.value)
            unit = _unit_words(var)
            text = f"{label} {_OPS[self.op][0]} {shown}{unit}"
        if self.fallback:
            text += f" (or {dictionary.label(self.fallback)} when it is not recorded)"
        return text


class _Combined(Condition):
    """Conditions combined by `and` or `or`: unknown only when the unknown parts could change the answer."""

    joiner = ""

    def __init__(self, *parts: Condition):
        self.parts = parts

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.parts == other.parts

    def __hash__(self) -> int:
        return hash((type(self), self.parts))

    def missing(self, facts: Facts) -> list[Missing]:
        if self.evaluate(facts) is not None:
            return []
        return unique_missing(m for p in self.parts for m in p.missing(facts))

    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for p in self.parts for v in p.variables()))

    @property
    def per_drug(self) -> bool:
        return any(p.per_drug for p in self.parts)

    def describe(self) -> str:
        return f" {self.joiner} ".join(_grouped(p) for p in self.parts)


class AllOf(_Combined):
    joiner = "and"

    def evaluate(self, facts: Facts) -> bool | None:
        results = [p.evaluate(facts) for p in self.parts]
        if any(r is False for r in results):
            return False
        return True if all(r is True for r in results) else None


class AnyOf(_Combined):
    joiner = "or"

    def evaluate(self, facts: Facts) -> bool | None:
        results = [p.evaluate(facts) for p in self.parts]
        if any(r is True for r in results):
            return True
        return False if all(r is False for r in results) else None


@dataclass(frozen=True)
class Recorded(Condition):
    """A screening result is on record and current (and, with `within_days`, recorded that recently).

    Never false: a missing screening is unknown, which the rules turn into "check before starting".
    """

    variable: str
    within_days: int | None = None

    def evaluate(self, facts: Facts) -> bool | None:
        if facts.get(self.variable) is None:
            return None
        if self.within_days is not None:
            recorded = facts.recorded_on.get(self.variable)
            if recorded is None or (facts.on - recorded).days > self.within_days:
                return None
        return True

    def missing(self, facts: Facts) -> list[Missing]:
        if self.evaluate(facts) is not None:
            return []
        if facts.get(self.variable) is not None:  # on record, but older than the SmPC asks
            return [Missing(self.variable, dictionary.BY_NAME[self.variable].check_label, "stale",
                            facts.recorded_on.get(self.variable), value=facts.get(self.variable),
                            within_days=self.within_days)]
        return [facts.missing(self.variable)]

    def variables(self) -> tuple[str, ...]:
        return (self.variable,)

    def describe(self) -> str:
        text = f"{dictionary.BY_NAME[self.variable].check_label} on record"
        return text + (f" within {self.within_days} days" if self.within_days else "")


@dataclass(frozen=True)
class Judgement(Condition):
    """Unknown whenever `when` holds: the record cannot decide and a clinician must (`ask` says what)."""

    when: Condition
    ask: str

    def evaluate(self, facts: Facts) -> bool | None:
        held = self.when.evaluate(facts)
        return None if held is not False else False

    def missing(self, facts: Facts) -> list[Missing]:
        held = self.when.evaluate(facts)
        if held is False:
            return []
        return self.when.missing(facts) if held is None else [Missing(None, self.ask, "judgement")]

    def variables(self) -> tuple[str, ...]:
        return self.when.variables()

    def describe(self) -> str:
        return f"{self.ask} (clinical judgement when {self.when.describe()})"


def _unit_words(var) -> str:
    """The unit as a clinician writes it after a number: ' mL/min', ' pack-years'; nothing for scores."""
    if var is None or var.codes or var.kind not in (dictionary.Kind.QUANTITY, dictionary.Kind.INTEGER):
        return ""
    if var.unit in ("1", "{score}", "{count}", "{index_val}"):
        return ""
    return " " + {"{pack-years}": "pack-years"}.get(var.unit, var.display_unit)


def _grouped(part: Condition) -> str:
    text = part.describe()
    return f"({text})" if isinstance(part, _Combined) and len(part.parts) > 1 else text


def unique_missing(items: Iterable[Missing]) -> list[Missing]:
    seen, out = set(), []
    for m in items:
        key = (m.variable, m.label)
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out

