"""Feature vectors: how a patient at a visit, paired with a candidate drug, becomes a model input row.

A model package's manifest lists its features by data dictionary name and its
candidate drugs by ATC code. Row layout, shared by training and scoring:

    [ dictionary features in manifest order ] + [ one indicator column per candidate drug ]

so one model per disease scores every candidate by switching the indicator.
Missing values are NaN; XGBoost routes them down each split's learned default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from patients import dictionary
from patients.drugs import BY_ATC

DRUG_PREFIX = "drug:"
# The stored SHAP value of the other candidates' indicator columns, summed (see scoring.LoadedModel.shap_of).
OTHER_DRUGS = "drug:*"
# Drug-relative features: their value depends on the candidate drug, not only on the patient.
DRUG_RELATIVE = ("prior_same_class_failure",)
# Where a recommendation's stored inputs keep the drug classes that failed before (drug-relative features).
FAILED_CLASSES_KEY = "failed_drug_classes"


def drug_relative_value(name: str, atc: str, failed_classes) -> bool:
    """The value of a drug-relative feature for one candidate drug."""
    if name == "prior_same_class_failure":
        return BY_ATC[atc].drug_class in set(failed_classes or ())
    raise KeyError(name)


def column_names(features: Sequence[str], drugs: Sequence[str]) -> list[str]:
    return list(features) + [f"{DRUG_PREFIX}{atc}" for atc in drugs]


def column_label(name: str) -> str:
    """The label shown next to a SHAP value."""
    if name == OTHER_DRUGS:
        return "The other candidate drugs (how the model encodes which drug a row is about)"
    if name.startswith(DRUG_PREFIX):
        drug = BY_ATC.get(name[len(DRUG_PREFIX):])
        return f"Candidate drug: {drug.name}" if drug else name
    return dictionary.label(name)


def feature_matrix(
    values: dict[str, Any],
    features: Sequence[str],
    drugs: Sequence[str],
    *,
    failed_classes: Iterable[str] = (),
) -> np.ndarray:
    """One row per candidate drug for one patient-visit (float32, NaN for missing)."""
    failed = set(failed_classes)
    base = np.array([dictionary.BY_NAME[name].encode(values.get(name)) for name in features], dtype=np.float32)
    n_f, n_d = len(features), len(drugs)
    rows = np.empty((n_d, n_f + n_d), dtype=np.float32)
    rows[:, :n_f] = base
    rows[:, n_f:] = np.eye(n_d, dtype=np.float32)
    for j, name in enumerate(features):
        if name == "prior_same_class_failure":
            rows[:, j] = [1.0 if BY_ATC[atc].drug_class in failed else 0.0 for atc in drugs]
    return rows
