"""The types of the data dictionary: what a clinical variable is, and how it validates, encodes and reads.

The variables themselves are listed once, in patients/dictionary.py.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import TextChoices

from patients import units


class Kind(TextChoices):
    QUANTITY = "quantity"  # a real number in a UCUM unit
    INTEGER = "integer"  # a count or an integer-valued score item
    BOOLEAN = "boolean"
    CODE = "code"  # one of an enumerated set of codes
    DATE = "date"  # a calendar day (ISO 8601), e.g. of the last myocardial infarction


class Origin(TextChoices):
    MEASURED = "measured"  # arrives with a visit
    DERIVED = "derived"  # computed from the patient's record


class Persistence(TextChoices):
    """How a recorded value lives on in the patient's record (patients/state.py reads it)."""

    # The patient's until a new dated entry changes it: sex, phenotype, serostatus.
    FACT = "fact"
    # Carried forward from its last recording until its validity window ends: comorbidities, screenings.
    CONDITION = "condition"
    # Belongs to its visit; the latest one is current within its validity window: labs, activity items.
    MEASUREMENT = "measurement"
    # Computed from the record on the date asked: age, disease duration, therapy history.
    DERIVED = "derived"


@dataclass(frozen=True)
class Validity:
    """How long a recorded value describes the patient, and the source of that choice.

    days=None: it never expires (a fact). `lasting` values never expire even when others do: a history of
    malignancy stays a history, while "no malignancy" needs asking again.
    """

    days: int | None
    source: str
    lasting: tuple = ()

    def expires_on(self, recorded_on: dt.date, value: Any) -> dt.date | None:
        if self.days is None or value in self.lasting:
            return None
        return recorded_on + dt.timedelta(days=self.days)


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    snomed: str = ""
    # Further SNOMED CT concepts that mean this value (a finer concept an EHR sends, e.g. "heavy smoker" for
    # "current"); the first, `snomed`, is the one Clinnova writes.
    also_snomed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Titre:
    """A positive/negative result a lab also reports as a titre, judged against the lab's own upper reference
    limit: negative at or below it, positive above it (ACR/EULAR 2010 RA classification criteria, Aletaha D et al.,
    Arthritis Rheum 2010;62:2569–2581, serology domain)."""

    unit: str  # UCUM unit of the titre, e.g. [IU]/mL
    loinc: str  # the quantitative LOINC code (the variable's own code is the presence one when it has one)


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    kind: Kind
    diseases: frozenset
    group: str
    unit: str = "1"
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    codes: tuple[Code, ...] = ()
    loinc: str = ""
    snomed: str = ""
    origin: Origin = Origin.MEASURED
    # Used as a model feature. Safety-only variables feed the rules, not the models.
    feature: bool = True
    help: str = ""
    # Units outside the UCUM dimension table that convert by a substance-specific
    # factor to this variable's unit (haemoglobin in mmol/L).
    extra_units: dict[str, float] = field(default_factory=dict)
    # How the value persists in the record, and for how long it stays current (see Persistence).
    persistence: Persistence = Persistence.MEASUREMENT
    validity: Validity | None = None
    # What a clinician records to know the value, as a "check before starting" names it: "TB screening (IGRA or TST)".
    ask: str = ""
    # Further LOINC codes read as this variable (a presence code beside a quantitative one, a method variant).
    other_loinc: tuple[str, ...] = ()
    # Only these values exist on the scale (EDSS: 0, 1.0, 1.5 … 10, no 0.5).
    grid: tuple[float, ...] = ()
    # A boolean result that may also arrive as a titre with the lab's upper reference limit (RF, anti-CCP).
    titre: Titre | None = None
    # A quantity read against the lab's upper reference limit, stored in the named variable (ALT × ULN).
    reference_high: str = ""

    def __post_init__(self):
        if self.origin == Origin.DERIVED:
            object.__setattr__(self, "persistence", Persistence.DERIVED)

    def used_for(self, disease: str) -> bool:
        return disease in self.diseases

    @property
    def loinc_codes(self) -> tuple[str, ...]:
        """Every LOINC code that names this variable (its own, the titre's, the others)."""
        codes = ((self.loinc,) if self.loinc else ()) + ((self.titre.loinc,) if self.titre else ()) + self.other_loinc
        return tuple(dict.fromkeys(codes))

    @property
    def check_label(self) -> str:
        return self.ask or self.label

    @property
    def code_values(self) -> list[str]:
        return [c.code for c in self.codes]

    def code_label(self, value: Any) -> str:
        for c in self.codes:
            if c.code == value:
                return c.label
        return str(value)

    def accepted_units(self) -> list[str]:
        return units.convertible_units(self.unit) + list(self.extra_units)

    def allowed(self) -> str:
        """What this variable accepts, in words an integrator understands."""
        if self.kind == Kind.BOOLEAN:
            if self.titre:
                return (f'true or false, or a titre {{"value": number, "unit": "{self.titre.unit}", '
                        '"reference_high": the lab\'s upper reference limit in the same unit}')
            return "true or false"
        if self.kind == Kind.CODE:
            return "one of " + ", ".join(self.code_values)
        if self.kind == Kind.DATE:
            return "a date (YYYY-MM-DD) from 1900 to today"
        if self.grid:
            return "one of " + ", ".join(_num(g) for g in self.grid)
        unit = "" if self.unit in ("1", "{score}", "{count}") else f" {self.unit}"
        text = f"a number from {_num(self.minimum)} to {_num(self.maximum)}{unit}"
        if self.kind == Kind.INTEGER:
            text = f"a whole number from {_num(self.minimum)} to {_num(self.maximum)}{unit}"
        if self.step and self.step != 1:
            text += f" in steps of {_num(self.step)}"
        return text

    def encode(self, value: Any) -> float:
        """The number a model sees for a stored value (NaN when missing)."""
        if value is None:
            return math.nan
        if self.kind == Kind.BOOLEAN:
            return 1.0 if value else 0.0
        if self.kind == Kind.CODE:
            return float(self.code_values.index(value))
        if self.kind == Kind.DATE:
            return math.nan  # dates feed rules, never a model
        return float(value)

    def describe(self, value: Any) -> str:
        """A value in plain words: 'CRP 24 mg/L', 'Prior anti-TNF failure: yes'."""
        if value is None:
            return f"{self.label}: not recorded"
        if self.kind == Kind.BOOLEAN:
            return f"{self.label}: {'yes' if value else 'no'}"
        if self.kind == Kind.CODE:
            return f"{self.label}: {self.code_label(value)}"
        if self.kind == Kind.DATE:
            return f"{self.label}: {day_text(value)}"
        unit = f" {self.display_unit}" if self.display_unit else ""
        return f"{self.label} {self.format(value)}{unit}"

    def format(self, value: Any) -> str:
        """The value alone as a clinician writes it: 4.5 not 4.50, yes/no, a code's label, years to one decimal."""
        if value is None:
            return "—"
        if self.kind == Kind.BOOLEAN:
            return "yes" if value else "no"
        if self.kind == Kind.CODE:
            return self.code_label(value)
        if self.kind == Kind.DATE:
            return day_text(value)
        return f"{value:.1f}" if self.unit == "a" and isinstance(value, float) else _num(value)  # 16.4 years

    @property
    def display_unit(self) -> str:
        """The unit in words for pages: µg/g, per day; no UCUM annotation such as {pack-years} reaches a page."""
        if self.unit in DISPLAY_UNITS:
            return DISPLAY_UNITS[self.unit]
        if self.unit == "1" or self.unit.startswith("{"):
            return ""
        return self.unit

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": str(self.kind),
            "unit": self.unit,
            "origin": str(self.origin),
            "group": self.group,
            "diseases": sorted(str(d) for d in self.diseases),
            "loinc": self.loinc or None,
            "snomed": self.snomed or None,
            "model_feature": self.feature,
            "persistence": str(self.persistence),
        }
        if self.validity is not None:
            data["valid_for_days"] = self.validity.days
            data["validity_source"] = self.validity.source
            if self.validity.lasting:
                data["lasting_values"] = list(self.validity.lasting)
        if self.kind in (Kind.QUANTITY, Kind.INTEGER):
            data.update(minimum=self.minimum, maximum=self.maximum, step=self.step)
            data["accepted_units"] = self.accepted_units()
        if self.grid:
            data["allowed_values"] = list(self.grid)
        if self.other_loinc:
            data["other_loinc"] = list(self.other_loinc)
        if self.titre:
            data["titre"] = {"unit": self.titre.unit, "loinc": self.titre.loinc,
                             "positive": "titre above the lab's upper reference limit (reference_high)"}
        if self.reference_high:
            data["reference_high_variable"] = self.reference_high
        if self.ask:
            data["check_label"] = self.ask
        if self.kind == Kind.CODE:
            data["codes"] = [{"code": c.code, "label": c.label, "snomed": c.snomed or None} for c in self.codes]
        if self.help:
            data["help"] = self.help
        return data


# Units as clinicians write them; UCUM codes stay in the API and FHIR.
DISPLAY_UNITS = {"a": "years", "kg/m2": "kg/m²", "ug/g": "µg/g", "/(12.mo)": "per year", "/d": "per day",
                 "10*9/L": "× 10⁹/L", "mL/min/{1.73_m2}": "mL/min/1.73 m²", "[IU]/mL": "IU/mL",
                 "[arb'U]/mL": "U/mL", "{pack-years}": "pack-years"}


def day_text(value: Any) -> str:
    """An ISO date as clinicians write it: 12 Mar 2026."""
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {day:%b %Y}"


def _num(value: float | None) -> str:
    if value is None:
        return "any"
    return f"{value:g}"


def quantity(name, label, unit, lo, hi, diseases, group, **kw) -> Variable:
    return Variable(name, label, Kind.QUANTITY, frozenset(diseases), group, unit, lo, hi, **kw)


def integer(name, label, lo, hi, diseases, group, **kw) -> Variable:
    kw.setdefault("unit", "{score}")
    return Variable(name, label, Kind.INTEGER, frozenset(diseases), group, minimum=lo, maximum=hi, step=1, **kw)


def boolean(name, label, diseases, group, **kw) -> Variable:
    return Variable(name, label, Kind.BOOLEAN, frozenset(diseases), group, **kw)


def date(name, label, diseases, group, **kw) -> Variable:
    return Variable(name, label, Kind.DATE, frozenset(diseases), group, **kw)


def coded(name, label, codes, diseases, group, **kw) -> Variable:
    return Variable(name, label, Kind.CODE, frozenset(diseases), group, codes=tuple(Code(*c) for c in codes), **kw)
