"""The one-page summary of a patient's ranking and decision: printed, or copied as text into the EHR note.

Both read the patient page's context, so the page, the print and the note say
the same thing; the text version keeps the synthetic-data notice and the model
version, as every model output must.
"""

from __future__ import annotations

import datetime as dt

from recommendations.models import Decision


def decision_for_summary(decisions: list[Decision], recommendation: dict | None) -> Decision | None:
    """The latest decision taken on the ranking shown, if any (decisions are newest first)."""
    rec_id = (recommendation or {}).get("id")
    return next((d for d in decisions if d.recommendation_id == rec_id), None)


def summary_text(ctx: dict, *, clinician: str, printed_at: dt.datetime) -> str:
    """The summary as plain text for an EHR note: short lines, no markup, numbers as clinicians write them."""
    patient = ctx["patient"]
    rec = ctx["recommendation"] or {}
    diagnosis = ctx["diagnosis"]
    latest = ctx["latest_visit"]
    lines = [f"Clinnova therapy ranking, patient {ctx['ehr_id']} (site {patient.site.code})",
             f"Printed {printed_at:%-d %b %Y %H:%M} by {clinician}",
             f"{patient.get_sex_display()}, {ctx['age']} years"
             + (f"; {diagnosis.get_disease_display()}" if diagnosis else "")
             + (f" for {ctx['duration_years']:g} years" if ctx.get("duration_years") is not None else "")]
    if latest is not None:
        activity = (f"; {latest.activity_label} {latest.activity_score:g} ({latest.activity_category})"
                    if latest.activity_score is not None else "")
        lines.append(f"Visit of {latest.visit_date:%-d %b %Y}{activity}")
    current = ctx.get("current_therapies") or []
    lines.append("Current therapy: " + (", ".join(f"{t.drug.name} since {t.started_on:%b %Y}" for t in current)
                                        if current else "none recorded"))
    if rec.get("status") == "ready":
        mv = rec["model_version"]
        lines += ["",
                  f"Model: {latest.get_disease_display()} version {mv['version']}. {rec['notice']}.",
                  f"Response means: {rec['outcome_short']}. Average patient: {rec['baseline_pct']} %.",
                  "Ranked drugs (chance of response, 90 % interval):"]
        if rec.get("ranking_note"):
            lines.insert(-1, rec["ranking_note"] + "; no top suggestion.")
        if rec.get("interval_note"):
            lines.insert(-1, rec["interval_note"])
        for d in rec["drugs"]:
            flags = "; ".join(f"{'CONTRAINDICATED' if f['severity'] == 'contraindicated' else 'Caution'}: "
                              f"{f['message']}" for f in d["flags"])
            top = " (top suggestion)" if d.get("top_suggestion") else (
                f" (similar to {', '.join(d['similar_to'])})" if d.get("similar_to") else "")
            low_high = d.get("interval_pct")
            interval = f" ({low_high[0]:.0f}–{low_high[1]:.0f} %)" if low_high else ""
            lines.append(f"{d.get('position', d['rank'])}. {d['name']} {round(d['probability'] * 100)} %{interval}{top}"
                         + (f" [{flags}]" if flags else ""))
        if rec.get("missing"):
            lines.append("Not recorded: " + ", ".join(m["label"] for m in rec["missing"]) + ".")
    else:
        lines += ["", "No ranking is available for this visit."]
    decision = ctx.get("summary_decision")
    lines += ["", "Decision: " + (_decision_words(decision) if decision else "none recorded yet")]
    return "\n".join(lines)


def _decision_words(d: Decision) -> str:
    text = f"{d.summary}, {d.decided_at:%-d %b %Y} by {d.decided_by.get_username()}"
    if d.reason:
        text += f". Reason: {d.get_reason_display()}" + (f", {d.reason_text}" if d.reason_text else "")
    elif d.reason_text:
        text += f". {d.reason_text}"
    return text + "."
