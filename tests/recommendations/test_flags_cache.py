"""drug_flags keeps its answers by the inputs they read (recommendations.safety.flag_inputs): the cache must never
answer one patient with another's flags. Every rule and licence is read here through facts that record what is
read, over random patients, and the cached answers are compared with flags read afresh."""

import datetime as dt
import json
import random

import pytest

from patients import dictionary
from patients.drugs import BY_ATC
from patients.models import Outcome, TherapyExposure
from patients.variables import Kind
from recommendations import safety
from recommendations.conditions import Facts

ON = dt.date(2026, 6, 1)
DISEASES = ("rheumatoid_arthritis", "crohns_disease", "ulcerative_colitis", "multiple_sclerosis", None)


class Recording(dict):
    """A mapping that remembers every name asked of it, present or not."""

    def __init__(self, data, seen):
        super().__init__(data)
        self.seen = seen

    def get(self, key, default=None):
        self.seen.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.seen.add(key)
        return super().__contains__(key)


def _value(var, rng):
    if var.kind == Kind.BOOLEAN:
        return rng.random() < 0.5
    if var.kind == Kind.CODE:
        return rng.choice(var.codes).code
    if var.kind == Kind.DATE:
        return (ON - dt.timedelta(days=rng.randint(0, 2000))).isoformat()
    low = var.minimum if var.minimum is not None else 0
    high = var.maximum if var.maximum is not None else max(low, 0) + 200
    return rng.randint(int(low), int(high)) if var.kind == Kind.INTEGER else round(rng.uniform(low, high), 1)


def _patient(rng, seen=None):
    """Random facts: each variable current, expired or unknown; some therapy lines."""
    values, recorded, expired = {}, {}, {}
    for name, var in dictionary.BY_NAME.items():
        roll = rng.random()
        if roll < 0.45:
            values[name] = _value(var, rng)
            recorded[name] = ON - dt.timedelta(days=rng.choice([0, 30, 400, 3000]))
        elif roll < 0.55:
            expired[name] = (_value(var, rng), ON - dt.timedelta(days=900), ON - dt.timedelta(days=10))
    atcs = sorted(BY_ATC)
    therapies = tuple(TherapyExposure(drug_atc=rng.choice(atcs), started_on=dt.date(2019, 1, 1),
                                      stopped_on=rng.choice([None, dt.date(2021, 1, 1)]),
                                      outcome=rng.choice(list(Outcome)), stop_detail=rng.choice(["", "anaphylaxis"]))
                      for _ in range(rng.choice([0, 0, 1, 3])))
    if seen is not None:
        values, recorded, expired = Recording(values, seen), Recording(recorded, seen), Recording(expired, seen)
    return dict(on=ON, values=values, recorded_on=recorded, expired=expired, therapies=therapies)


@pytest.mark.parametrize("disease", DISEASES)
def test_drug_flags_reads_nothing_of_a_patient_outside_the_inputs_its_answers_are_kept_by(disease):
    rng = random.Random(17)
    for _ in range(60):
        for atc, drug in BY_ATC.items():
            seen: set = set()
            facts = Facts(**_patient(rng, seen), disease=disease)
            safety._drug_flags(drug, facts, safety.rules_for(drug), current=rng.random() < 0.2)
            assert seen <= set(safety.flag_inputs(drug, disease)), (atc, seen - set(safety.flag_inputs(drug, disease)))


def test_kept_flags_and_their_json_equal_flags_read_afresh_for_random_patients_sharing_inputs():
    rng = random.Random(3)
    safety._FLAGS_CACHE.clear()
    patients = [_patient(rng) for _ in range(40)]
    for _ in range(3):  # the second and third rounds are answered from the cache
        for p in patients:
            for disease in DISEASES:
                for drug in BY_ATC.values():
                    for current in (False, True):
                        kept, encoded = safety.drug_flags_encoded(drug, Facts(**p, disease=disease),
                                                                  current=current)
                        fresh = safety._drug_flags(drug, Facts(**p, disease=disease), safety.rules_for(drug),
                                                   current=current)
                        assert kept == fresh
                        assert encoded == json.dumps(fresh)  # what the pipeline stores
    assert safety._FLAGS_CACHE


def test_values_equal_in_python_but_shown_differently_are_kept_apart():
    """1, 1.0 and True are one dictionary key, yet a flag's evidence shows each as given."""
    drug = BY_ATC["L04AF01"]  # tofacitinib: its haemoglobin rule quotes the value as evidence
    shown = []
    for hb in (70, 70.0):
        facts = Facts(on=ON, values={"haemoglobin": hb}, recorded_on={"haemoglobin": ON},
                      disease="rheumatoid_arthritis")
        evidence = [e for f in safety.drug_flags(drug, facts) for e in f["evidence"] if e["variable"] == "haemoglobin"]
        shown.append([type(e["value"]) for e in evidence])
    assert shown == [[int], [float]]


def test_a_caller_changing_its_flags_does_not_change_the_next_patients():
    drug = BY_ATC["L04AB04"]
    facts = Facts(on=ON, values={"sex": "male"}, disease="rheumatoid_arthritis")
    first = safety.drug_flags(drug, facts)
    assert first
    first[0]["message"] = "changed"
    first.clear()
    again = safety.drug_flags(drug, Facts(on=ON, values={"sex": "male"}, disease="rheumatoid_arthritis"))
    assert again and again[0]["message"] != "changed"


def test_the_cache_stays_within_its_bound_and_answers_rightly_after_trimming(monkeypatch):
    monkeypatch.setattr(safety, "FLAGS_CACHE_SIZE", 8)
    safety._FLAGS_CACHE.clear()
    rng = random.Random(5)
    drug = BY_ATC["L04AF01"]
    for _ in range(3):
        for p in [_patient(rng) for _ in range(20)]:
            kept = safety.drug_flags(drug, Facts(**p, disease="rheumatoid_arthritis"))
            assert len(safety._FLAGS_CACHE) <= 8
            assert kept == safety._drug_flags(drug, Facts(**p, disease="rheumatoid_arthritis"),
                                              safety.rules_for(drug), current=False)
