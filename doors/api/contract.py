"""The OpenAPI fragments the data dictionary and the drug catalogue publish, so the schema says what the server checks.

A measurement name the dictionary does not know, a value outside its range or off its grid, a code that is not one
of the variable's codes, a unit that does not convert, a drug outside the catalogue: the server refuses each one
with a 400, and the published schema forbids each one too, generated from the same tables. What JSON Schema
cannot say (a date after today or before the birth year, a variable not recorded for the visit's disease, the same
variable in measurements and comorbidities) is said in the descriptions and refused by the server with the field
named.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers

from patients import dictionary, drugs, units
from patients.dictionary import Kind, Origin, Variable

# JSON numbers the server reads as doubles; larger ones are refused as "not a number" (patients.dictionary).
LARGEST = 1e12


def drug_enum() -> list[str]:
    """Every spelling `patients.drugs.resolve` accepts as written: ATC codes (current, pre-2024, older), INN names."""
    spellings = [d.atc for d in drugs.DRUGS] + list(drugs.PRE_2024_CODES) + list(drugs.OLDER_CODES)
    return [s for s in dict.fromkeys(spellings + [d.name for d in drugs.DRUGS]) if _resolves(s)]


def _resolves(spelling: str) -> bool:
    # An old code whose drug left the catalogue (or never entered it) is refused like any unknown drug.
    try:
        drugs.resolve(spelling)
    except drugs.UnknownDrug:
        return False
    return True


def postable(var: Variable) -> bool:
    return var.origin != Origin.DERIVED


def measurements_schema(*, group: str | None = None) -> dict[str, Any]:
    """An object keyed by dictionary name (derived variables are computed, never posted), no other key."""
    variables = [v for v in dictionary.VARIABLES if postable(v) and (group is None or v.group == group)]
    return {"type": "object", "additionalProperties": False,
            "properties": {v.name: variable_schema(v) for v in variables}}


def variable_schema(var: Variable) -> dict[str, Any]:
    """What one variable accepts: a value in the dictionary's unit, or {"value", "unit"} in a unit that converts."""
    diseases = ", ".join(sorted(str(d) for d in var.diseases))
    description = f"{var.label}: {var.allowed()}. Recorded for {diseases}."
    if var.kind == Kind.BOOLEAN:
        options = [{"type": "boolean"}]
        if var.titre is not None:
            options.append(_titre_schema(var))
    elif var.kind == Kind.CODE:
        options = [{"type": "string", "enum": var.code_values}]
    elif var.kind == Kind.DATE:
        description += " Not after today."
        options = [{"type": "string", "format": "date"}]
    else:
        options = [_number_schema(var, 1.0)] + _unit_objects(var)
    schema: dict[str, Any] = options[0] if len(options) == 1 else {"oneOf": options}
    return {**schema, "nullable": True, "description": description + " null: not measured."}


def _number_schema(var: Variable, factor: float) -> dict[str, Any]:
    """The variable's range in a unit `factor` times the dictionary's (value x factor = value in the dictionary's)."""
    schema: dict[str, Any] = {"type": "integer" if var.kind == Kind.INTEGER else "number"}
    if var.grid and factor == 1.0:
        # The grid as a range in half steps less the values off it (EDSS has no 0.5): a generated client reads a
        # number schema, where it cannot read an enum of numbers.
        step = min(b - a for a, b in zip(var.grid, var.grid[1:]))
        off = [i * step for i in range(round(var.grid[-1] / step) + 1) if not any(abs(i * step - g) < 1e-9
                                                                                  for g in var.grid)]
        return {**schema, "minimum": var.grid[0], "maximum": var.grid[-1], "multipleOf": step,
                **({"not": {"enum": off}} if off else {})}
    if var.minimum is not None:
        schema["minimum"] = var.minimum / factor
    schema["maximum"] = var.maximum / factor if var.maximum is not None else LARGEST
    if var.kind == Kind.QUANTITY and var.step in (0.5, 0.125) and factor == 1.0:
        schema["multipleOf"] = var.step  # the HAQ-DI grid (patients.dictionary.clean_value)
    return schema


def _unit_objects(var: Variable) -> list[dict[str, Any]]:
    """{"value", "unit"} for each unit that converts to the variable's, with the range in that unit.

    A whole-number variable takes its own unit only: in another (a score in %) the converted value would have to
    land on a whole number, which a range cannot say.
    """
    factors = {var.unit: 1.0}
    if var.kind == Kind.QUANTITY and not var.grid and var.step not in (0.5, 0.125):
        for unit in units.convertible_units(var.unit):
            factors.setdefault(unit, units.convert(1.0, from_unit=unit, to_unit=var.unit))
        for unit, factor in var.extra_units.items():
            factors.setdefault(unit, factor)
    objects = []
    for unit, factor in factors.items():
        properties: dict[str, Any] = {"value": _number_schema(var, factor), "unit": {"type": "string", "enum": [unit]}}
        if var.reference_high:
            limit = dictionary.BY_NAME[var.reference_high]
            properties["reference_high"] = {**_number_schema(limit, factor),
                                            "description": "The lab's upper reference limit, in the same unit"}
        objects.append({"type": "object", "required": ["value", "unit"], "properties": properties,
                        "additionalProperties": False})
    return objects


def _titre_schema(var: Variable) -> dict[str, Any]:
    """A titre read against the lab's upper reference limit: positive above it (patients.dictionary)."""
    return {"type": "object", "required": ["value", "unit", "reference_high"], "additionalProperties": False,
            "properties": {"value": {"type": "number", "minimum": 0, "maximum": LARGEST},
                           "unit": {"type": "string", "enum": [var.titre.unit]},
                           "reference_high": {"type": "number", "exclusiveMinimum": True, "minimum": 0,
                                              "maximum": LARGEST}}}


# DRF's CharField refuses NUL characters and, once trimmed, blank text: said as patterns (Python's \s is what
# str.strip() removes).
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"


class StrictSerializerExtension(OpenApiSerializerExtension):
    """A request serializer that refuses unknown keys is published with additionalProperties: false, and its text
    fields with the patterns DRF checks."""

    target_class = "doors.api.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        serializer = force_instance(self.target)
        schema = auto_schema._map_basic_serializer(serializer, direction)
        for name, field in serializer.fields.items():
            prop = schema["properties"].get(name, {})
            if type(field) is serializers.CharField and not ({"enum", "allOf", "$ref", "pattern"} & prop.keys()):
                prop["pattern"] = NO_NUL if field.allow_blank else NOT_BLANK
        return {**schema, "additionalProperties": False}
