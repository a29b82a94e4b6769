"""Import files as an EHR would write them: visit JSON lines, and FHIR resources one per line."""

from __future__ import annotations

import copy
import datetime as dt
import json

from tests.integration.fhir_helpers import ra_bundle
from tests.patients.api_helpers import TODAY, visit_body


def visit_lines(patients: int = 3, visits: int = 4, *, prefix: str = "") -> list[dict]:
    """Each patient's visits, a month apart, the latest (visit 0) three days ago; oldest first."""
    rows = []
    for p in range(patients):
        for v in reversed(range(visits)):
            rows.append(visit_body(visit_id=f"{prefix}V-{p}-{v}", date=(TODAY - dt.timedelta(days=3 + 30 * v)).isoformat(),
                                   patient={"id": f"{prefix}P-{p}", "sex": "female", "birth_year": 1968,
                                            "diagnosed_on": "2015-04-01"}))
    return rows


def ndjson(rows: list) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in rows)


def fhir_resources(identifier_system: str, *, encounters: int = 2) -> list[dict]:
    """One patient's encounters as a FHIR Bulk Data export writes them: one file per type, concatenated."""
    by_type: dict[str, list[dict]] = {}
    for n in range(encounters):
        bundle = ra_bundle(identifier_system, encounter_id=f"enc-{n}")
        for i, entry in enumerate(bundle["entry"]):
            r = copy.deepcopy(entry["resource"])
            kind = r["resourceType"]
            if kind == "Patient":
                if n:
                    continue
                r["id"] = "pat-1"
            elif kind == "Encounter":
                r["period"]["start"] = (TODAY - dt.timedelta(days=3 + 60 * n)).isoformat()
            else:
                r["id"] = f"{kind.lower()}-{n}-{i}"
                if kind == "Observation":
                    r["encounter"] = {"reference": f"Encounter/enc-{n}"}
                    r["effectiveDateTime"] = (TODAY - dt.timedelta(days=3 + 60 * n)).isoformat()
                elif n:
                    continue  # diagnoses and therapies belong to the patient: written once
            if "subject" in r:
                r["subject"] = {"reference": "Patient/pat-1"}
            by_type.setdefault(kind, []).append(r)
    return [r for kind in ("Patient", "Encounter", "Condition", "Observation", "MedicationStatement")
            for r in by_type.get(kind, [])]
