"""Safety and licence flags of a candidate drug for a patient: the SmPC tables (recommendations/smpc) read against
the patient's state, three-valued.

A rule that holds gives its flag (contraindicated, not recommended, caution). A rule that cannot be decided
because an input is missing or expired gives a "check before starting" flag naming that input and why it matters
("No TB screening (IGRA or TST) recorded — required before starting adalimumab; SmPC 4.4"): a drug is never shown
free of concerns because nothing was recorded. Checks that ask for the same inputs are merged into one flag.
The licence (SmPC 4.1, recommendations/licences.py) adds "not licensed" or a check of its own.

The model never sees these; the ranking puts licensed drugs without a contraindication first, then drugs outside
their licence, then contraindicated drugs (recommendations.scoring._rank).
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from itertools import islice
from operator import itemgetter
from typing import Any

from patients.drugs import BY_ATC, Drug
from recommendations.conditions import Facts, Missing
from recommendations.licences import indications_for, licence_flag
from recommendations.smpc import RULES, Rule
from recommendations.smpc.base import (
    CAUTION, CHECK, CONTRAINDICATED, NOT_LICENSED, NOT_RECOMMENDED, SEVERITIES, SEVERITY_LABELS, worst_level,
)

__all__ = ["CAUTION", "CHECK", "CONTRAINDICATED", "NOT_LICENSED", "NOT_RECOMMENDED", "SEVERITIES",
           "SEVERITY_LABELS", "drug_flags", "drug_flags_encoded", "rules_for", "tier_of"]

_BY_CODE = {rule.code: rule for rule in RULES}
# Whether each rule reads the candidate's own therapy lines: a property of its condition tree, walked once here
# instead of for every drug of every patient.
_PER_DRUG = {rule.code: rule.when.per_drug for rule in RULES}
_NONE: frozenset = frozenset()

# Ranking tiers, in order: drugs to start, drugs outside their licence, contraindicated drugs.
START, OUTSIDE_LICENCE, CONTRAINDICATED_TIER = "start", "not_licensed", "contraindicated"


@lru_cache(maxsize=None)
def rules_for(drug: Drug) -> tuple[Rule, ...]:
    """The rules that can ever apply to a drug (one tuple per drug and process)."""
    return tuple(r for r in RULES if r.applies_to(drug.atc))


@lru_cache(maxsize=None)
def flag_inputs(drug: Drug, disease: str | None) -> tuple[str, ...]:
    """Every variable the drug's rules and its licence for the disease can read (their conditions' variables(),
    and the MS course the licence's text names): with the date, the disease and the therapy lines, all that
    drug_flags reads of a patient. A test reads every rule through recording facts to keep this complete."""
    names = [v for rule in rules_for(drug) for v in rule.when.variables()]
    names += [v for row in indications_for(drug.atc, disease) for req in row.requires for v in req.when.variables()]
    return tuple(sorted(set(names) | {"ms_course"}))


# drug_flags' answers by the inputs they read (flag_inputs): patients of one site share most of them (the same
# screenings missing, the same sex and age band), and every one of ten candidates per visit re-read ~17 rules and
# its licence, most of the pipeline's time. An answer with its JSON takes ~18 kB (measured), so the cache is
# bounded to ~70 MB per process; when full, the oldest quarter goes (the answers in use are soon back).
_FLAGS_CACHE: dict = {}
FLAGS_CACHE_SIZE = 4_000
_evicting = threading.Lock()
_ABSENT = object()


@lru_cache(maxsize=None)
def _inputs_getter(drug: Drug, disease: str | None):
    """The drug's entries (flag_inputs) out of a patient's entries for every drug, in one C-level call."""
    names = flag_inputs(drug, disease)
    return (lambda entries: (entries[names[0]],)) if len(names) == 1 else itemgetter(*names)


@lru_cache(maxsize=None)
def _all_inputs(disease: str | None) -> tuple[str, ...]:
    return tuple(sorted({v for drug in BY_ATC.values() for v in flag_inputs(drug, disease)}))


# Kept in Facts.answers (shared by the drugs of one patient state): the patient's side of every key.
_PATIENT_KEY = object()


def _flags_key(drug: Drug, facts: Facts, current: bool) -> tuple | None:
    """The key of everything drug_flags reads for this drug, or None when a value cannot be hashed."""
    patient = facts.answers.get(_PATIENT_KEY)
    if patient is None:
        # Once per patient state, for every input of every drug: the ten candidates share most of them.
        values, recorded, expired = facts.values, facts.recorded_on, facts.expired
        therapies = tuple((t.drug_atc, t.started_on, t.stopped_on, t.outcome, t.stop_detail)
                          for t in facts.therapies)
        # Each value with its type: 1, 1.0 and True are equal keys, yet flags' evidence shows them differently.
        entries = {v: (type(value := values.get(v, _ABSENT)), value, recorded.get(v),
                       None if (old := expired.get(v)) is None else (type(old[0]), *old))
                   for v in _all_inputs(facts.disease)}
        patient = facts.answers[_PATIENT_KEY] = (facts.on, facts.disease, therapies, entries)
    on, disease, therapies, entries = patient
    key = (drug.atc, current, on, disease, therapies, _inputs_getter(drug, disease)(entries))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def drug_flags(drug: Drug, facts: Facts, rules: tuple[Rule, ...] | None = None, *,
               current: bool = False) -> list[dict]:
    """Every flag of this drug for this patient, most severe first.

    `current`: the patient already takes it; checks before starting and the licence belong to a start and are
    left out, contraindications and warnings stay.
    """
    return drug_flags_encoded(drug, facts, rules, current=current)[0]


def drug_flags_encoded(drug: Drug, facts: Facts, rules: tuple[Rule, ...] | None = None, *,
                       current: bool = False) -> tuple[list[dict], str]:
    """drug_flags' flags and their JSON (json.dumps of them), encoded once for every patient who shares them:
    the scoring pipeline stores thousands of these ~5 kB lists per batch."""
    if rules is not None and rules is not rules_for(drug):
        flags = _drug_flags(drug, facts, rules, current=current)
        return flags, json.dumps(flags)
    key = _flags_key(drug, facts, current)
    if key is None:
        flags = _drug_flags(drug, facts, rules_for(drug), current=current)
        return flags, json.dumps(flags)
    kept = _FLAGS_CACHE.get(key)
    if kept is None:
        if len(_FLAGS_CACHE) >= FLAGS_CACHE_SIZE:
            _flags_cache_trim()
        flags = _drug_flags(drug, facts, rules_for(drug), current=current)
        kept = _FLAGS_CACHE[key] = (tuple(flags), json.dumps(flags))
    return [dict(f) for f in kept[0]], kept[1]  # the caller's copies, like _checks'


def _flags_cache_trim() -> None:
    with _evicting:  # another thread may insert meanwhile: copy the oldest keys before deleting them
        while True:
            try:
                oldest = list(islice(_FLAGS_CACHE, FLAGS_CACHE_SIZE // 4))
                break
            except RuntimeError:  # the dict changed size while read: read again
                continue
        for key in oldest:
            _FLAGS_CACHE.pop(key, None)


def _drug_flags(drug: Drug, facts: Facts, rules: tuple[Rule, ...], *, current: bool) -> list[dict]:
    facts = facts.for_drug(drug)
    fired: list[Rule] = []
    undecided: list[tuple[Rule, list[Missing], frozenset]] = []
    for rule in rules:
        result, missing, key = _answer(rule, facts)
        if result is True and rule.severity != CHECK:
            fired.append(rule)
        elif result is None:
            undecided.append((rule, missing, key))
    superseded = {code for r in fired for code in r.supersedes}
    flags = [_fired_flag(r, drug, facts) for r in fired if r.code not in superseded]
    if not current:
        flags += _checks(drug, undecided)
        licence = licence_flag(drug.atc, facts)
        if licence is not None:
            flags.append(licence)
    flags.sort(key=lambda f: SEVERITIES.index(f["severity"]))
    return flags


def _answer(rule: Rule, facts: Facts) -> tuple[bool | None, list[Missing], frozenset]:
    """A rule's answer for the patient (with what is missing, and that as a set), read once and kept for the other
    drugs unless it reads the drug's own lines: ten candidates share most rules."""
    per_drug = _PER_DRUG[rule.code] if _BY_CODE.get(rule.code) is rule else rule.when.per_drug
    key = (rule.code, facts.candidate.atc if per_drug and facts.candidate else None)
    answer = facts.answers.get(key)
    if answer is None:
        result = rule.when.evaluate(facts)
        missing = rule.when.missing(facts) if result is None else []
        answer = facts.answers[key] = (result, missing,
                                       frozenset([(m.variable or "", m.label) for m in missing]) if missing else _NONE)
    return answer


def tier_of(flags: list[dict]) -> str:
    severities = {f["severity"] for f in flags}
    if CONTRAINDICATED in severities:
        return CONTRAINDICATED_TIER
    if NOT_LICENSED in severities:
        return OUTSIDE_LICENCE
    return START


def _fired_flag(rule: Rule, drug: Drug, facts: Facts) -> dict:
    source = rule.sources[drug.atc]
    evidence = [{"variable": v, "value": facts.get(v), "recorded_on": _iso(facts.recorded_on.get(v))}
                for v in rule.when.variables() if facts.get(v) is not None]
    return {"rule": rule.code, "severity": rule.severity, "message": rule.text(rule.message, drug=drug.name,
                                                                             atc=drug.atc),
            "source": source.text, "verified": source.level, "evidence": evidence}


def _checks(drug: Drug, undecided: list[tuple[Rule, list[Missing], frozenset]]) -> list[dict]:
    # Patients of one batch often miss the same screenings: the same drug then gets the same checks.
    key = tuple((rule.code, tuple(missing), home) for rule, missing, home in undecided)
    try:
        return [dict(f) for f in _checks_cached(drug, key)]
    except TypeError:  # an expired value that cannot be hashed: build the checks without the cache
        return _check_flags(undecided, drug)


@lru_cache(maxsize=4096)
def _checks_cached(drug: Drug, key: tuple) -> tuple[dict, ...]:
    return tuple(_check_flags([(_BY_CODE[code], list(missing), home) for code, missing, home in key], drug))


def _check_flags(undecided: list[tuple[Rule, list[Missing], frozenset]], drug: Drug) -> list[dict]:
    """One flag per set of missing inputs, saying why they are needed and where that comes from."""
    # A rule waiting for part of what another waits for joins it: "HBsAg" goes with "HBsAg and anti-HBc".
    keys = sorted({key for _, _, key in undecided}, key=len, reverse=True)
    homes = {key: next(k for k in keys if key <= k) for key in keys}
    groups: dict[frozenset, list[Rule]] = {}
    inputs: dict[frozenset, list[Missing]] = {}
    for rule, missing, key in undecided:
        groups.setdefault(homes[key], []).append(rule)
        if key == homes[key]:
            inputs.setdefault(key, missing)  # in the order of the first rule that asks (a screening rule)
    flags = []
    for home, group in groups.items():
        rules = sorted(group, key=lambda r: SEVERITIES.index(r.severity))
        missing = inputs[home]
        screening = [r for r in rules if r.severity == CHECK]
        if screening:
            reason = f"required before starting {drug.name}"
        else:
            reasons = list(dict.fromkeys(r.text(r.why or r.message, drug=drug.name, atc=drug.atc) for r in rules))
            reason = f"needed before starting {drug.name}: {'; '.join(reasons)}"
        sources = [r.sources[drug.atc] for r in (screening or rules)]
        short = ", ".join(dict.fromkeys(s.short for s in sources))
        flags.append({
            "rule": "+".join(r.code for r in rules), "severity": CHECK,
            "message": f"{'; '.join(m.text for m in missing)} — {reason}; {short}",
            "source": " · ".join(dict.fromkeys(s.text for s in sources)),
            "verified": worst_level(s.level for s in sources),
            "evidence": [m.as_dict() for m in missing],
        })
    return flags


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None
