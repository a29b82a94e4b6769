"""Reading an import file into visits ("units"), in an order that is the same at every reading.

Visit JSON: one visit per line, as POST /api/v1/visits/ takes it. FHIR: one resource per line, as a FHIR
Bulk Data export writes them (FHIR R4 "ndjson" page: application/fhir+ndjson, one resource per line; an
export writes one file per resource type, which may be concatenated, or a mixed file). Resources are
grouped into one transaction Bundle per Encounter, which the FHIR door's mapping reads as one visit:
the Encounter, its Patient (Encounter.subject), the Observations, Conditions and MedicationStatements that
reference the Encounter, and the patient's Conditions and MedicationStatements that name no encounter
(a diagnosis or a therapy line belongs to the patient, so it goes with each of the patient's visits).

A line that cannot be read becomes a unit of its own with its problem, so the report names it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from doors.fhir.bundle import REFERENCES, SUPPORTED


@dataclass
class Unit:
    index: int
    lines: list[int]
    visit_id: str = ""
    data: Any = None  # the VisitIn-shaped body, or a transaction Bundle
    code: str = ""  # set when the unit cannot be stored: its problem, for the report
    message: str = ""
    errors: list[dict] = field(default_factory=list)


def _lines(stream: Iterable[bytes]) -> Iterator[tuple[int, Any, str]]:
    """(line number, parsed JSON or None, problem) for every non-blank line."""
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw), ""
        except (UnicodeDecodeError, ValueError) as exc:
            yield number, None, f"is not JSON ({type(exc).__name__}: {str(exc)[:120]})"
        except RecursionError:
            yield number, None, "is not JSON this service reads (nested too deeply)"


def _unreadable(index: int, number: int, message: str) -> Unit:
    return Unit(index, [number], code="invalid", message=f"Line {number} {message}.",
                errors=[{"field": "line", "value": None, "message": message}])


def visit_units(stream: Iterable[bytes]) -> Iterator[Unit]:
    for index, (number, obj, problem) in enumerate(_lines(stream)):
        if problem:
            yield _unreadable(index, number, problem)
        elif not isinstance(obj, dict):
            yield _unreadable(index, number, f"is a JSON {type(obj).__name__}, not a visit object")
        else:
            visit_id = obj.get("visit_id")
            yield Unit(index, [number], visit_id=visit_id if isinstance(visit_id, str) else "", data=obj)


def _reference_id(resource: dict, element: str, target: str) -> str | None:
    ref = resource.get(element)
    reference = ref.get("reference") if isinstance(ref, dict) else None
    if isinstance(reference, str) and reference.startswith(f"{target}/"):
        return reference.removeprefix(f"{target}/")
    return None


def fhir_units(stream: Iterable[bytes]) -> Iterator[Unit]:
    """One unit per Encounter (in the order Encounters appear), then one per line that belongs to none."""
    patients: dict[str, tuple[int, dict]] = {}
    encounters: dict[str, tuple[int, dict]] = {}
    by_encounter: dict[str, list[tuple[int, dict]]] = {}
    by_patient: dict[str, list[tuple[int, dict]]] = {}
    stray: list[tuple[int, str]] = []
    pending: list[tuple[int, dict]] = []
    for number, obj, problem in _lines(stream):
        kind = obj.get("resourceType") if isinstance(obj, dict) else None
        if problem:
            stray.append((number, problem))
        elif kind not in SUPPORTED:
            stray.append((number, f"holds a {kind!r}; an import reads {', '.join(SUPPORTED)}"))
        elif not isinstance(obj.get("id"), str) or not obj["id"]:
            stray.append((number, f"holds a {kind} without an id (resources are linked by Type/id)"))
        elif kind in ("Patient", "Encounter"):
            index = patients if kind == "Patient" else encounters
            if obj["id"] in index:
                stray.append((number, f"repeats {kind}/{obj['id']} of line {index[obj['id']][0]}"))
            else:
                index[obj["id"]] = (number, obj)
        else:
            pending.append((number, obj))
    # Files of one type each may come in any order: link the clinical resources once all are read.
    for number, obj in pending:
        element = next(e for e, target, _ in REFERENCES[obj["resourceType"]] if target == "Encounter")
        encounter_id = _reference_id(obj, element, "Encounter")
        patient_id = _reference_id(obj, "subject", "Patient")
        if encounter_id is not None:
            if encounter_id in encounters:
                by_encounter.setdefault(encounter_id, []).append((number, obj))
            else:
                stray.append((number, f"references Encounter/{encounter_id}, which is not in the import"))
        elif patient_id is not None and obj["resourceType"] != "Observation":
            by_patient.setdefault(patient_id, []).append((number, obj))
        else:
            stray.append((number, f"names no Encounter{' nor Patient' if patient_id is None else ''}: "
                          "an Observation belongs to a visit (Observation.encounter)"))
    for patient_id, members in by_patient.items():
        if patient_id not in patients:
            stray += [(n, f"references Patient/{patient_id}, which is not in the import") for n, _ in members]
    stray.sort()
    index = 0
    for encounter_id, (number, encounter) in encounters.items():
        patient_id = _reference_id(encounter, "subject", "Patient")
        if patient_id is None or patient_id not in patients:
            problem = ("has no subject Patient/<id>" if patient_id is None
                       else f"references Patient/{patient_id}, which is not in the import")
            unit = _unreadable(index, number, problem)
            unit.visit_id = encounter_id
            yield unit
        else:
            members = [patients[patient_id], (number, encounter), *by_encounter.get(encounter_id, []),
                       *by_patient.get(patient_id, [])]
            yield Unit(index, [n for n, _ in members], visit_id=encounter_id, data=_bundle(members))
        index += 1
    for number, problem in stray:
        yield _unreadable(index, number, problem)
        index += 1


def _bundle(members: list[tuple[int, dict]]) -> dict:
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"resource": r, "request": {"method": "POST", "url": r["resourceType"]}} for _, r in members]}
