"""An outcome recorded by the EHR as a FHIR R4 Observation, read into the one outcome service.

    {"resourceType": "Observation", "status": "final",
     "code": {"coding": [{"system": "urn:clinnova:treatment-outcome", "code": "response-at-horizon"}]},
     "focus": [{"reference": "Encounter/<the decision visit's Encounter id>"}],
     "subject": {"reference": "Patient/<id>"},          (optional: checked against the visit's patient)
     "effectiveDateTime": "2026-06-01",                  (when it was assessed; effectivePeriod.end also read)
     "valueBoolean": true,                               (the model's outcome was met)
     "note": [{"text": "..."}]}                          (optional)

`focus` names the decision visit by the Encounter id the EHR sent it under (the same id as the JSON API's
visit_id): "what the observation is about, when it is not about the subject of record" (FHIR R4 Observation.focus).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from doors.fhir import codes
from doors.fhir.errors import FHIRError, Issue

FINAL = ("final", "amended", "corrected")


@dataclass(frozen=True)
class OutcomeObservation:
    visit_id: str
    responded: bool
    assessed_on: dt.date
    note: str
    patient: str | None


def _fail(code: str, expression: str, message: str, status: int = 422) -> FHIRError:
    return FHIRError(status, [Issue(code, message, expression=f"Observation.{expression}")])


def _reference(value, prefix: str, expression: str) -> str:
    ref = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(ref, str) or not ref.startswith(prefix) or not ref[len(prefix):]:
        raise _fail("value", expression, f"must be {{\"reference\": \"{prefix}<id>\"}}, got {value!r:.120}")
    return ref[len(prefix):]


def _date(raw: dict) -> dt.date:
    value = raw.get("effectiveDateTime")
    where = "effectiveDateTime"
    if value is None and isinstance(raw.get("effectivePeriod"), dict):
        value, where = raw["effectivePeriod"].get("end"), "effectivePeriod.end"
    if not isinstance(value, str):
        raise _fail("required", "effectiveDateTime", "is required: the date the outcome was assessed")
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise _fail("value", where, f"{value!r:.40} is not a FHIR date (YYYY-MM-DD)") from None


def outcome_observation_read(raw) -> OutcomeObservation:
    """The Observation's content, or FHIRError naming the element at fault."""
    if not isinstance(raw, dict) or raw.get("resourceType") != "Observation":
        raise FHIRError(400, [Issue("structure", "the body must be one Observation resource")])
    if raw.get("status") not in FINAL:
        raise _fail("value", "status", f"{raw.get('status')!r:.40} is not allowed: an outcome is recorded once "
                                       f"assessed ({', '.join(FINAL)})")
    codings = (raw.get("code") or {}).get("coding") if isinstance(raw.get("code"), dict) else None
    if not isinstance(codings, list) or not any(
            isinstance(c, dict) and c.get("system") == codes.TREATMENT_OUTCOME
            and c.get("code") == codes.TREATMENT_OUTCOME_CODE for c in codings):
        raise _fail("code-invalid", "code", f"must carry the coding {codes.TREATMENT_OUTCOME}|"
                                            f"{codes.TREATMENT_OUTCOME_CODE} (the model's outcome at its horizon)")
    focus = raw.get("focus")
    if not isinstance(focus, list) or len(focus) != 1:
        raise _fail("required", "focus", "must name exactly one decision visit: [{\"reference\": \"Encounter/<id>\"}]")
    visit_id = _reference(focus[0], "Encounter/", "focus[0]")
    patient = _reference(raw["subject"], "Patient/", "subject") if raw.get("subject") is not None else None
    value = raw.get("valueBoolean")
    if not isinstance(value, bool):
        raise _fail("required" if value is None else "value", "valueBoolean",
                    "is required and must be true (the outcome was met) or false")
    notes = raw.get("note") or []
    if not isinstance(notes, list) or not all(isinstance(n, dict) and isinstance(n.get("text", ""), str)
                                              for n in notes):
        raise _fail("value", "note", "must be a list of {\"text\": \"...\"}")
    note = " ".join(n.get("text", "") for n in notes)[:500]
    return OutcomeObservation(visit_id, value, _date(raw), note, patient)
