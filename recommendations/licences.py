"""Is a drug licensed for this patient? The indications of recommendations/smpc/indications.py, read against the
patient's state (disease, MS course and activity, line of therapy where the licence restricts it).

Three answers: licensed (no flag), not licensed ("not licensed for <the patient's situation>", ranked after every
licensed drug) or unknown (a "check before starting" naming what the licence needs, e.g. the MS course).
"""

from __future__ import annotations

from patients.dictionary import BY_NAME, Disease
from recommendations.conditions import Facts, Missing, unique_missing
from recommendations.smpc import INDICATIONS, Indication
from recommendations.smpc.base import CHECK, NOT_LICENSED, worst_level
from recommendations.smpc.documents import drug_name

BY_DRUG: dict[str, list[Indication]] = {}
for _indication in INDICATIONS:
    BY_DRUG.setdefault(_indication.atc, []).append(_indication)

LICENCE_RULE = "licence"


def indications_for(atc: str, disease: str | None = None) -> list[Indication]:
    return [i for i in BY_DRUG.get(atc, []) if disease is None or i.disease == disease]


def _read(indication: Indication, facts: Facts) -> tuple[bool | None, int, str, list[Missing]]:
    """(result, how many requirements held before the first that did not, unmet text, missing inputs)."""
    missing: list[Missing] = []
    for held, req in enumerate(indication.requires):
        result = req.when.evaluate(facts)
        if result is False:
            return False, held, _fill(req.unmet, facts), []
        if result is None:
            missing += req.when.missing(facts)
    return (None, len(indication.requires), "", missing) if missing else (True, len(indication.requires), "", [])


def licence_flag(atc: str, facts: Facts) -> dict | None:
    """None when a licensed indication covers the patient; else a not_licensed or check_before_starting flag."""
    disease = facts.disease
    name = drug_name(atc)
    rows = indications_for(atc, disease)
    if not rows:
        licensed_for = sorted({Disease(i.disease).label for i in indications_for(atc)})
        where = f"licensed (EU SmPC 4.1) for {', '.join(licensed_for)}" if licensed_for else "not in the licence table"
        return _flag(NOT_LICENSED, f"Not licensed for {Disease(disease).label if disease else 'this disease'}: "
                                   f"{name} is {where}.", indications_for(atc), [])
    results = [(row, *_read(row, facts)) for row in rows]
    if any(result is True for _, result, *_ in results):
        return None
    labels = "; ".join(row.label for row in rows)
    undecided = [(row, missing) for row, result, _, _, missing in results if result is None]
    if undecided:
        missing = unique_missing(m for _, ms in undecided for m in ms)
        what = "; ".join(m.text for m in missing)
        return _flag(CHECK, f"{what} — needed to confirm that {name} is licensed for this patient (SmPC 4.1: "
                            f"{labels}).", [row for row, _ in undecided], [m.as_dict() for m in missing])
    # Not licensed: name the situation of the indication the patient came closest to.
    row, _, _, unmet, _ = max(results, key=lambda r: r[2])
    evidence = [{"variable": v, "value": facts.get(v), "recorded_on": _iso(facts.recorded_on.get(v))}
                for req in row.requires for v in req.when.variables() if facts.get(v) is not None]
    return _flag(NOT_LICENSED, f"Not licensed for {unmet}: {name} is licensed (EU SmPC 4.1) for {labels}.",
                 rows, evidence)


def _flag(severity: str, message: str, rows: list[Indication], evidence: list[dict]) -> dict:
    sources = list(dict.fromkeys(row.source.text for row in rows))
    levels = [row.source.level for row in rows]
    return {"rule": LICENCE_RULE, "severity": severity, "message": message, "source": " · ".join(sources),
            "verified": worst_level(levels), "evidence": evidence}


def _fill(text: str, facts: Facts) -> str:
    if "{ms_course}" in text:
        course = facts.get("ms_course")
        shown = BY_NAME["ms_course"].code_label(course).lower() if course else "MS of unrecorded course"
        text = text.replace("{ms_course} MS", f"{shown} MS" if course else shown)
    return text


def _iso(day) -> str | None:
    return day.isoformat() if day else None
