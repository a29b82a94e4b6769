"""The patient's record as the patient page shows it: the state with dates, therapy lines, the flowsheet.

Plain data for templates, built from a PatientState and the visits already read, so no query is added.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from patients import dictionary
from patients.models import TherapyExposure, Visit
from patients.state import PatientState, StateValue, Status
from patients.variables import Persistence

# The groups of the state panel, in reading order, with the persistence kinds they show.
STATE_SECTIONS = (
    ("Disease and patient facts", (Persistence.FACT,)),
    ("Conditions and screenings", (Persistence.CONDITION,)),
)
FLOWSHEET_VISITS = 8
# A measurement older than this share of its validity window is "getting old" on the page.
STALE_SHARE = 0.75


@dataclass(frozen=True)
class StateRow:
    label: str
    text: str
    status: str  # current, stale, expired, unknown
    note: str  # "recorded 17 Nov 2026", "expired on 12 Mar 2026", "not recorded"


@dataclass(frozen=True)
class FlowRow:
    label: str
    unit: str
    cells: list[str]


def state_sections(state: PatientState, *, disease: str | None) -> list[tuple[str, list[StateRow]]]:
    sections = []
    for title, kinds in STATE_SECTIONS:
        rows = [_state_row(v, state.on) for v in state.values.values()
                if v.variable.persistence in kinds and (disease is None or v.variable.used_for(disease))
                and _asked(v, state)]
        if rows:
            sections.append((title, rows))
    return sections


def _asked(v: StateValue, state: PatientState) -> bool:
    """Pregnancy is not a question for a male patient."""
    return not (v.name == "pregnancy_status" and state.patient.sex == "male" and v.status == Status.UNKNOWN)


def _state_row(v: StateValue, on: dt.date) -> StateRow:
    label = v.variable.label
    if v.status == Status.UNKNOWN:
        return StateRow(label, "not recorded", "unknown", "unknown: rules treat it as not known")
    text = v.variable.format(v.value) + (f" {v.variable.display_unit}" if v.variable.display_unit else "")
    if v.status == Status.EXPIRED:
        return StateRow(label, text, "expired", f"recorded {v.recorded_on:%-d %b %Y}, expired on "
                                                f"{v.expires_on:%-d %b %Y}: treated as unknown")
    status = "current"
    if v.expires_on is not None:
        window = (v.expires_on - v.recorded_on).days
        if window and (on - v.recorded_on).days > STALE_SHARE * window:
            status = "stale"
    note = f"recorded {v.recorded_on:%-d %b %Y}"
    if v.expires_on is not None:
        note += f", valid until {v.expires_on:%-d %b %Y}"
    return StateRow(label, text, status, note)


def therapy_lines(state: PatientState) -> tuple[list[TherapyExposure], list[TherapyExposure]]:
    """(current lines, past lines newest first)."""
    current = state.current_therapies
    past = sorted((t for t in state.therapies if t not in current), key=lambda t: t.started_on, reverse=True)
    return current, past


def flowsheet(visits: list[Visit], *, disease: str | None) -> tuple[list[Visit], list[FlowRow]]:
    """Measurements as rows and the latest visits as columns (newest first), with units in words.

    The activity scores computed at each visit come first; then every measured variable that any shown
    visit recorded, in dictionary order.
    """
    shown = sorted((v for v in visits if disease is None or v.disease == disease),
                   key=lambda v: (v.visit_date, v.created_at), reverse=True)[:FLOWSHEET_VISITS]
    rows: list[FlowRow] = []
    labels: dict[str, str] = {}
    for v in reversed(shown):
        labels.update({name: score.get("label", name) for name, score in v.scores.items()})
    for name, label in labels.items():
        rows.append(FlowRow(label, "", [_score_cell(v.scores.get(name)) for v in shown]))
    for var in dictionary.VARIABLES:
        if var.persistence != Persistence.MEASUREMENT or not any(var.name in v.measurements for v in shown):
            continue
        cells = [var.format(v.measurements[var.name]) if var.name in v.measurements else "" for v in shown]
        rows.append(FlowRow(var.label, var.display_unit, cells))
    return shown, rows


def _score_cell(score: dict | None) -> str:
    if not score:
        return ""
    value = score.get("value")
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)
