"""One FHIR Observation → one data dictionary variable and a value the dictionary can clean.

Works on the resource's JSON (already validated by fhir.resources when it arrived in a Bundle; read
defensively when it comes as CDS Hooks prefetch). The dictionary judges the value afterwards; this
module only finds which variable is meant and in which unit, and says which element is at fault.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from doors.fhir import codes
from patients import dictionary
from patients.dictionary import Kind, Variable

# Observation.status values whose value may be used; the others (registered, cancelled, entered-in-error,
# unknown) carry no result a clinician would act on.
USABLE_STATUS = ("final", "amended", "corrected", "preliminary")
# Units a variable may be sent in without a UCUM code: counts and scores have no unit to confuse.
UNITLESS = ("1", "{score}", "{count}", "{index_val}", "/d", "/(12.mo)")


class MappingError(ValueError):
    """The element (relative to the resource, e.g. "valueQuantity.code") and what is wrong with it."""

    def __init__(self, element: str, message: str, *, code: str = "value"):
        self.element = element
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Measured:
    variable: Variable
    value: Any  # None when the Observation says the value is absent (dataAbsentReason)
    element: str  # where the value sits: "valueQuantity", "valueBoolean", ...
    effective: dt.date | None


def observation_read(resource: dict) -> Measured:
    """The variable and raw value of an Observation, or MappingError naming the element at fault."""
    status = resource.get("status")
    if status not in USABLE_STATUS:
        raise MappingError("status", f"status '{status}' carries no usable result (use one of "
                           + ", ".join(USABLE_STATUS) + ")")
    var = variable_of(resource.get("code"))
    effective = effective_date(resource)
    for element, reader in _READERS.items():
        if element in resource:
            value = reader(var, resource[element])
            if element == "valueQuantity" and (var.titre or var.reference_high):
                value = _with_reference_high(var, value, resource.get("referenceRange"))
            return Measured(var, value, element, effective)
    other = next((key for key in resource if key.startswith("value")), None)
    if other is not None:
        raise MappingError(other, f"is not read for {var.label}: send {_element_for(var)}", code="not-supported")
    if "dataAbsentReason" in resource:
        return Measured(var, None, "dataAbsentReason", effective)
    if "component" in resource:
        raise MappingError("component", "components are not read: send one Observation per variable",
                           code="not-supported")
    raise MappingError("value[x]", f"has no value: {var.label} must be {var.allowed()}", code="required")


def variable_of(code: Any) -> Variable:
    """The dictionary variable a CodeableConcept names by LOINC (or Clinnova variable name)."""
    codings = (code.get("coding") or []) if isinstance(code, dict) else []
    for coding in codings:
        system, value = coding.get("system"), coding.get("code")
        if system == codes.LOINC and value in dictionary.BY_LOINC:
            return dictionary.BY_LOINC[value]
        if system == codes.VARIABLE and value in dictionary.BY_NAME:
            return dictionary.BY_NAME[value]
    shown = ", ".join(f"{c.get('system', '?')}|{c.get('code', '?')}" for c in codings) or "no coding"
    raise MappingError("code", f"{shown} is not a variable of the data dictionary: use a LOINC code it lists "
                       f"or system {codes.VARIABLE} with a variable name (GET /api/v1/dictionary/)",
                       code="code-invalid")


def effective_date(resource: dict) -> dt.date | None:
    """The day the Observation was made (effective[x], else issued), or None when not a full date."""
    period = resource.get("effectivePeriod")
    for value in (resource.get("effectiveDateTime"), resource.get("effectiveInstant"),
                  period.get("start") if isinstance(period, dict) else None, resource.get("issued")):
        day = date_of(value)
        if day is not None:
            return day
    return None


def date_of(value: Any) -> dt.date | None:
    """The calendar day of a FHIR date or dateTime, in the sender's own offset; None when partial or absent."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _quantity(var: Variable, q: Any) -> Any:
    if var.kind not in (Kind.QUANTITY, Kind.INTEGER) and var.titre is None:
        raise MappingError("valueQuantity", f"{var.label} is {var.allowed()}: send {_element_for(var)}")
    if not isinstance(q, dict) or "value" not in q:
        raise MappingError("valueQuantity.value", f"{var.label} needs a value", code="required")
    if q.get("comparator") is not None:
        # ">2.4 mg/dL" is not 2.4: storing the number would state a value nobody measured.
        raise MappingError("valueQuantity.comparator", f"{var.label} was sent as {q.get('comparator')!r} "
                           f"{q.get('value')}: Clinnova stores measured values only; send the value without a "
                           "comparator, or leave the observation out")
    number, unit, system = q.get("value"), q.get("code"), q.get("system")
    if system is not None and system != codes.UCUM:
        raise MappingError("valueQuantity.system", f"units must be UCUM ({codes.UCUM}), not {system}")
    if var.titre is not None:
        # A titre of a positive/negative result (RF, anti-CCP): the dictionary judges it against the lab's limit.
        return {"value": number, "unit": unit or var.titre.unit}
    if unit is None:
        if var.unit not in UNITLESS:
            # Quantity.unit is display text ("mg/dl"): guessing from it could be off by a factor of ten.
            raise MappingError("valueQuantity.code", f"{var.label} needs its UCUM unit in valueQuantity.code "
                               f"(accepted: {', '.join(var.accepted_units())})", code="required")
        return number
    if unit != var.unit and unit not in var.accepted_units():
        raise MappingError("valueQuantity.code", f"unit '{unit}' cannot be converted to {var.unit} for "
                           f"{var.label} (accepted: {', '.join(var.accepted_units())})")
    return {"value": number, "unit": unit}


def _with_reference_high(var: Variable, value: dict | Any, ranges: Any) -> Any:
    """The lab's upper reference limit (referenceRange.high) beside the value, in the value's unit.

    A titre needs it to say positive or negative (ACR/EULAR 2010); for ALT it is what the × ULN thresholds read.
    """
    highs = [r.get("high") for r in ranges if isinstance(r, dict) and isinstance(r.get("high"), dict)] \
        if isinstance(ranges, list) else []
    if not highs:
        if var.titre is not None:
            raise MappingError("referenceRange", f"{var.label} as a titre needs the lab's upper reference limit "
                               "(referenceRange.high), or send the result as positive/negative (valueCodeableConcept)",
                               code="required")
        return value
    high = highs[0]
    unit = value.get("unit") if isinstance(value, dict) else None
    if high.get("code") is not None and unit is not None and high.get("code") != unit:
        raise MappingError("referenceRange.high.code", f"the reference limit must be in the result's unit ({unit})")
    if not isinstance(value, dict):
        value = {"value": value}
    return {**value, "reference_high": high.get("value")}


def _datetime(var: Variable, value: Any) -> Any:
    if var.kind != Kind.DATE:
        raise MappingError("valueDateTime", f"{var.label} is {var.allowed()}: send {_element_for(var)}")
    day = date_of(value)
    if day is None:
        raise MappingError("valueDateTime", f"{var.label} needs a full date (YYYY-MM-DD)")
    return day.isoformat()


def _integer(var: Variable, value: Any) -> Any:
    if var.kind not in (Kind.QUANTITY, Kind.INTEGER):
        raise MappingError("valueInteger", f"{var.label} is {var.allowed()}: send {_element_for(var)}")
    if var.unit not in UNITLESS:
        raise MappingError("valueInteger", f"{var.label} has a unit: send valueQuantity with a UCUM code")
    return value


def _boolean(var: Variable, value: Any) -> Any:
    if var.kind != Kind.BOOLEAN:
        raise MappingError("valueBoolean", f"{var.label} is {var.allowed()}: send {_element_for(var)}")
    return value


def _concept(var: Variable, concept: Any) -> Any:
    codings = (concept.get("coding") or []) if isinstance(concept, dict) else []
    if var.kind == Kind.BOOLEAN:
        for c in codings:
            if c.get("system") == codes.SNOMED and c.get("code") in codes.SNOMED_BOOLEAN:
                return codes.SNOMED_BOOLEAN[c["code"]]
        raise MappingError("valueCodeableConcept", f"{var.label} takes valueBoolean, or SNOMED CT "
                           "10828004 (positive) / 260385009 (negative)", code="code-invalid")
    if var.kind != Kind.CODE:
        raise MappingError("valueCodeableConcept", f"{var.label} is {var.allowed()}: send {_element_for(var)}")
    own = codes.VARIABLE_VALUES + var.name
    for c in codings:
        if c.get("system") == own and c.get("code") in var.code_values:
            return c["code"]
        if c.get("system") == codes.SNOMED and c.get("code") in codes.SNOMED_UNKNOWN.get(var.name, ()):
            return None  # "consumption unknown": not recorded, never a value
        if c.get("system") == codes.SNOMED and c.get("code"):
            matches = [v.code for v in var.codes if c["code"] == v.snomed or c["code"] in v.also_snomed]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise MappingError("valueCodeableConcept", f"SNOMED CT {c['code']} does not tell "
                                   f"{' from '.join(matches)}: use system {own}", code="code-invalid")
    snomed = ", ".join(f"{code} ({v.code})" for v in var.codes for code in (v.snomed, *v.also_snomed) if code)
    raise MappingError("valueCodeableConcept", f"{var.label} must be coded with system {own} "
                       f"({', '.join(var.code_values)})" + (f" or SNOMED CT {snomed}" if snomed else ""),
                       code="code-invalid")


def _string(var: Variable, value: Any) -> Any:
    if var.kind != Kind.CODE:
        raise MappingError("valueString", f"{var.label} is {var.allowed()}: send {_element_for(var)}")
    return value


def _element_for(var: Variable) -> str:
    return {Kind.BOOLEAN: "valueBoolean", Kind.CODE: "valueCodeableConcept", Kind.DATE: "valueDateTime"}.get(
        var.kind, "valueQuantity")


_READERS = {
    "valueQuantity": _quantity,
    "valueInteger": _integer,
    "valueBoolean": _boolean,
    "valueCodeableConcept": _concept,
    "valueString": _string,
    "valueDateTime": _datetime,
}
