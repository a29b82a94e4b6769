"""A seeded synthetic training cohort: one treated drug and one 0/1 response per patient.

Separate from the demo network (doors/demo.py) but built on the same spine:
every feature is a data dictionary variable in its unit and range, every drug a
catalogue candidate, and the rows are laid out exactly as scoring lays them out
(recommendations.features.column_names). Responses follow a logistic model whose
effects are the rows of recommendations.cohort_effects.EFFECTS, each with its
literature source; the docs (docs/synthetic-cohort.md) and the tests read the
same table. Nothing here is real patient data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from patients.dictionary import BY_NAME, CD, MS, RA, UC, Disease, features_for
from patients.drugs import BY_ATC, DrugClass, candidates_for
from recommendations.cohort_effects import BASE_RATE, EFFECTS, effects_for
from recommendations.features import column_names

__all__ = ["EFFECTS", "Cohort", "cohort_generate"]

# Unmeasured patient-level differences in the log-odds: real cohorts are far from separable.
HETEROGENEITY_SD = 0.5

# --- the cohort --------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Cohort:
    """X is float32 laid out as column_names(features, drugs); y, drug_atc and p_true are per row.

    One row per patient (the patient's id is the row index), so a split of rows
    is a split of patients.
    """

    disease: str
    seed: int
    features: list[str]
    drugs: list[str]
    X: np.ndarray
    y: np.ndarray
    drug_atc: np.ndarray
    p_true: np.ndarray = field(repr=False)
    # The generator's probability of response for every patient on every candidate (n_patients, n_drugs), with
    # the same unmeasured patient term on each: what ranking metrics compare a model's choice against.
    p_all: np.ndarray = field(repr=False, default=None)
    # Whether a candidate could be started (n_patients, n_drugs): not a drug the patient already takes.
    available: np.ndarray = field(repr=False, default=None)
    # The drug-relative feature prior_same_class_failure for every candidate (n_patients, n_drugs).
    same_class_failure: np.ndarray = field(repr=False, default=None)

    @property
    def columns(self) -> list[str]:
        return column_names(self.features, self.drugs)

    @property
    def n_patients(self) -> int:
        return len(self.y)

    def column(self, name: str) -> np.ndarray:
        return self.X[:, self.columns.index(name)]

    def candidate_rows(self, rows: np.ndarray) -> np.ndarray:
        """The rows scoring builds for these patients: one per (patient, candidate), patient-major, with the
        candidate's indicator and its own prior_same_class_failure (as recommendations.features does)."""
        n_f, n_d = len(self.features), len(self.drugs)
        X = np.repeat(self.X[rows], n_d, axis=0)
        X[:, n_f:] = np.tile(np.eye(n_d, dtype=np.float32), (len(rows), 1))
        if "prior_same_class_failure" in self.features:
            X[:, self.features.index("prior_same_class_failure")] = self.same_class_failure[rows].reshape(-1)
        return X


def cohort_generate(*, disease: str, n_patients: int, seed: int) -> Cohort:
    """A cohort that is identical for the same (disease, n_patients, seed) and the same numpy version."""
    if disease not in Disease.values:
        raise ValueError(f"unknown disease {disease!r}; expected one of {', '.join(Disease.values)}")
    # Each disease gets its own stream, so one seed does not give four correlated cohorts.
    rng = np.random.default_rng([seed, Disease.values.index(disease)])
    features = features_for(disease)
    drugs = [d.atc for d in candidates_for(disease)]
    true = _patients(rng, disease=disease, n=n_patients)
    available = _available(values=true, drugs=drugs)
    treated = _assign_drugs(rng, values=true, drugs=drugs, available=available)
    failed_classes = _same_class_failure(rng, values=true, drugs=drugs)
    true["prior_same_class_failure"] = failed_classes[np.arange(n_patients), treated]
    p_all = _response_probabilities(rng, disease=disease, values=true, drugs=drugs, same_class=failed_classes)
    p = p_all[np.arange(n_patients), treated]
    y = (rng.random(n_patients) < p).astype(np.int8)
    # The outcome followed the true values; the registry recorded them with gaps.
    recorded = _with_missing_values(rng, disease=disease, values=true)
    X = np.zeros((n_patients, len(features) + len(drugs)), dtype=np.float32)
    for j, name in enumerate(features):
        X[:, j] = recorded[name]
    X[np.arange(n_patients), len(features) + treated] = 1.0
    return Cohort(disease=disease, seed=seed, features=features, drugs=drugs, X=X, y=y,
                  drug_atc=np.array(drugs)[treated], p_true=p, p_all=p_all, available=available,
                  same_class_failure=failed_classes)


def _response_probabilities(rng: np.random.Generator, *, disease: str, values: dict[str, np.ndarray],
                            drugs: list[str], same_class: np.ndarray) -> np.ndarray:
    """(n_patients, n_drugs): each patient's probability on every candidate; the unmeasured term is the
    patient's own, the same whichever drug they take."""
    n = len(values["age"])
    unmeasured = rng.normal(0.0, HETEROGENEITY_SD, size=n)
    logit = np.empty((n, len(drugs)))
    for k, atc in enumerate(drugs):
        base = BASE_RATE[(disease, atc)]
        logit[:, k] = unmeasured + np.log(base / (1 - base))
        for effect in effects_for(disease=disease, drug=BY_ATC[atc]):
            feature = same_class[:, k] if effect.feature == "prior_same_class_failure" else values[effect.feature]
            logit[:, k] += effect.log_odds * effect.term(feature)
    return 1.0 / (1.0 + np.exp(-logit))


def _available(*, values: dict[str, np.ndarray], drugs: list[str]) -> np.ndarray:
    """Which candidates each patient could start: not methotrexate while already taking it."""
    available = np.ones((len(values["age"]), len(drugs)), dtype=bool)
    if "concomitant_methotrexate" in values and "L04AX03" in drugs:
        available[:, drugs.index("L04AX03")] = values["concomitant_methotrexate"] != 1
    return available


# --- synthetic patients: true values in the dictionary's units ---------------

FEMALE_SHARE = {CD: 0.5, UC: 0.48, RA: 0.72, MS: 0.7}
ONSET_AGE = {CD: (28, 10), UC: (34, 12), RA: (48, 12), MS: (31, 8)}  # mean, sd in years


def _clip_round(x: np.ndarray, name: str, *, grid: float = 0.0) -> np.ndarray:
    """Clipped to the dictionary range and rounded to the variable's step (or `grid`)."""
    var = BY_NAME[name]
    step = grid or var.step or 0.01
    return np.clip(np.round(np.asarray(x, dtype=float) / step) * step, var.minimum, var.maximum)


def _pick(rng: np.random.Generator, name: str, weights: list[float], n: int) -> np.ndarray:
    """Code indices of a CODE variable, drawn with the given weights in code-list order."""
    assert len(weights) == len(BY_NAME[name].codes)
    return rng.choice(len(weights), size=n, p=np.array(weights) / sum(weights)).astype(float)


def _patients(rng: np.random.Generator, *, disease: str, n: int) -> dict[str, np.ndarray]:
    female = rng.random(n) < FEMALE_SHARE[disease]
    other = rng.random(n) < 0.005
    onset = np.clip(rng.normal(*ONSET_AGE[disease], size=n), 12, 80)
    duration = np.round(np.clip(rng.gamma(1.6, 4.5, size=n), 0.1, 45), 2)
    # Therapy history grows with disease duration, as it does in registries.
    prior = np.clip(rng.poisson(0.15 + 0.09 * duration), 0, 8).astype(float)
    v: dict[str, np.ndarray] = {
        "age": _clip_round(np.floor(onset + duration), "age", grid=1),
        "sex": np.where(other, 2.0, np.where(female, 0.0, 1.0)),
        "disease_duration": duration,
        "prior_advanced_therapies": prior,
        "smoking_status": _pick(rng, "smoking_status", [55, 27, 18 + 7 * (disease == CD)], n),
        "bmi": _clip_round(rng.normal(25.5, 4.2, size=n), "bmi"),
    }
    if disease != MS:
        exposure = (prior >= 1) & (rng.random(n) < 0.75)
        v["prior_anti_tnf_exposure"] = exposure.astype(float)
        v["prior_anti_tnf_failure"] = (exposure & (rng.random(n) < 0.65)).astype(float)
    activity = rng.beta(2, 2, size=n)  # latent inflammatory activity, 0 quiet to 1 very active
    v["crp"] = _clip_round(rng.lognormal(0.5 + 2.2 * activity * (disease != MS), 0.6), "crp")
    v["albumin"] = _clip_round(rng.normal(43 - 8 * activity * (disease != MS), 3), "albumin")
    v["haemoglobin"] = _clip_round(rng.normal(142 - 12 * female - 18 * activity, 10), "haemoglobin")
    v |= {CD: _crohns, UC: _colitis, RA: _arthritis, MS: _sclerosis}[disease](rng, n, activity, duration)
    v["_activity"] = activity  # not a feature; drives the missing-not-at-random gaps
    return v


def _crohns(rng: np.random.Generator, n: int, a: np.ndarray, duration: np.ndarray) -> dict[str, np.ndarray]:
    def noisy(scale: float, shift: float, sd: float) -> np.ndarray:
        return scale * a + shift + rng.normal(0, sd, size=n)
    # Stricturing and penetrating behaviour accumulate with time (Cosnes et al. 2002).
    b3 = rng.random(n) < np.clip(0.08 + 0.012 * duration, 0, 0.5)
    b2 = ~b3 & (rng.random(n) < np.clip(0.15 + 0.015 * duration, 0, 0.5))
    perianal = rng.random(n) < 0.25
    fistulising = b3 | (perianal & (rng.random(n) < 0.7))
    surgery = rng.random(n) < np.clip(0.05 + 0.015 * duration + 0.25 * (b2 | b3), 0, 0.8)
    return {
        "fecal_calprotectin": _clip_round(rng.lognormal(3.8 + 2.4 * a, 0.5), "fecal_calprotectin"),
        "hbi_general_wellbeing": _clip_round(noisy(4, 0, 0.6), "hbi_general_wellbeing"),
        "hbi_abdominal_pain": _clip_round(noisy(3, 0, 0.6), "hbi_abdominal_pain"),
        "hbi_liquid_stools": _clip_round(noisy(9, 0, 1.8), "hbi_liquid_stools"),
        "hbi_abdominal_mass": _clip_round(noisy(2.5, -0.8, 0.6), "hbi_abdominal_mass"),
        "hbi_complications": _clip_round(noisy(2, -0.4, 0.7), "hbi_complications"),
        "montreal_location": _pick(rng, "montreal_location", [30, 25, 40, 5], n),
        "montreal_behaviour": np.where(b3, 2.0, np.where(b2, 1.0, 0.0)),
        "perianal_disease": perianal.astype(float),
        "prior_bowel_surgery": surgery.astype(float),
        "fistulising_disease": fistulising.astype(float),
    }


def _colitis(rng: np.random.Generator, n: int, a: np.ndarray, duration: np.ndarray) -> dict[str, np.ndarray]:
    def item(name: str, shift: float = 0.0) -> np.ndarray:
        return _clip_round(3 * a + shift + rng.normal(0, 0.45, size=n), name)
    return {
        "fecal_calprotectin": _clip_round(rng.lognormal(3.8 + 2.5 * a, 0.5), "fecal_calprotectin"),
        "mayo_stool_frequency": item("mayo_stool_frequency"),
        "mayo_rectal_bleeding": item("mayo_rectal_bleeding", -0.2),
        "mayo_physician_global": item("mayo_physician_global"),
        "mayo_endoscopic": item("mayo_endoscopic"),
        "montreal_extent": _pick(rng, "montreal_extent", [20, 40, 40], n),
    }


def _arthritis(rng: np.random.Generator, n: int, a: np.ndarray, duration: np.ndarray) -> dict[str, np.ndarray]:
    rf = rng.random(n) < 0.7
    # Anti-CCP and RF travel together (most seropositive patients carry both).
    ccp = rng.random(n) < np.where(rf, 0.85, 0.3)
    return {
        # On methotrexate when the next drug starts: most anti-TNF starts in the BSRBR were (Hyrich 2006).
        "concomitant_methotrexate": (rng.random(n) < 0.6).astype(float),
        "tender_joint_count_28": _clip_round(16 * a + rng.normal(0, 2.5, size=n), "tender_joint_count_28"),
        "swollen_joint_count_28": _clip_round(11 * a + rng.normal(0, 2, size=n), "swollen_joint_count_28"),
        "esr": _clip_round(rng.lognormal(2.3 + 1.3 * a, 0.4), "esr"),
        "patient_global": _clip_round(75 * a + rng.normal(10, 10, size=n), "patient_global"),
        "evaluator_global": _clip_round(65 * a + rng.normal(5, 8, size=n), "evaluator_global"),
        "rf_positive": rf.astype(float),
        "anti_ccp_positive": ccp.astype(float),
        "haq_di": _clip_round(2.2 * a + 0.02 * duration + rng.normal(0, 0.3, size=n), "haq_di", grid=0.125),
        # About a third on a glucocorticoid when the next drug starts, more often when the disease is active (ARAD:
        # Black RJ et al. Arthritis Res Ther 2017;19(1):253: 39 % of patients entering in 2012–15, current use
        # associated with higher activity scores and HAQ).
        "glucocorticoid": (rng.random(n) < 0.25 + 0.2 * a).astype(float),
    }


def _sclerosis(rng: np.random.Generator, n: int, a: np.ndarray, duration: np.ndarray) -> dict[str, np.ndarray]:
    progressive = rng.random(n) < np.clip(0.05 + 0.012 * duration, 0, 0.5)
    course = np.where(progressive, np.where(rng.random(n) < 0.6, 1.0, 2.0), 0.0)
    relapsing = np.where(progressive, 0.4, 1.0)
    # Gamma-Poisson counts: lesion counts are overdispersed (a few patients carry most lesions).
    def counts(mean: np.ndarray) -> np.ndarray:
        return rng.poisson(rng.gamma(1.2, mean / 1.2)).astype(float)
    return {
        "ms_course": course,
        "edss": _clip_round(1.0 + 0.12 * duration + 2.5 * progressive + rng.normal(0, 0.8, size=n), "edss"),
        "relapses_12m": _clip_round(counts(relapsing * (0.2 + 1.8 * a)), "relapses_12m"),
        "new_t2_lesions": _clip_round(counts(relapsing * (0.4 + 5 * a)), "new_t2_lesions"),
        "gd_lesions": _clip_round(counts(relapsing * (0.1 + 2.5 * a)), "gd_lesions"),
    }


def _assign_drugs(rng: np.random.Generator, *, values: dict[str, np.ndarray], drugs: list[str],
                  available: np.ndarray) -> np.ndarray:
    """The treated drug per patient, with the confounding by indication a registry has."""
    n = len(values["age"])
    weights = available.astype(float)
    for k, atc in enumerate(drugs):
        drug = BY_ATC[atc]
        if drug.drug_class == DrugClass.ANTI_TNF:
            weights[:, k] *= np.where(values["prior_anti_tnf_failure"] == 1, 0.4, 1.0)
        if drug.drug_class == DrugClass.CSDMARD:
            weights[:, k] *= np.where(values["prior_advanced_therapies"] >= 1, 0.3, 1.5)
        if drug.high_efficacy:
            active = (values["relapses_12m"] >= 2) | (values["gd_lesions"] >= 1)
            weights[:, k] *= np.where(active, 2.0, 0.7)
        if drug.drug_class == DrugClass.ANTI_TNF and "concomitant_methotrexate" in values:
            # Anti-TNF is mostly added to methotrexate (BSRBR: 86 % of infliximab starts were on it).
            weights[:, k] *= np.where(values["concomitant_methotrexate"] == 1, 1.5, 0.8)
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    picks = (rng.random(n)[:, None] > cumulative).sum(axis=1)
    return np.minimum(picks, len(drugs) - 1)


def _same_class_failure(rng: np.random.Generator, *, values: dict[str, np.ndarray], drugs: list[str]) -> np.ndarray:
    """(n_patients, n_drugs): whether each candidate's class failed before, consistent with the therapy history.

    An anti-TNF's class failed exactly when an anti-TNF failed; one other advanced class failed for half of the
    patients whose history counts a drug besides any anti-TNF; a csDMARD for a fifth of everyone. Drawn once per
    patient and class, so two candidates of one class agree.
    """
    n = len(values["age"])
    anti_tnf_failure = values.get("prior_anti_tnf_failure", np.zeros(n))
    anti_tnf_exposure = values.get("prior_anti_tnf_exposure", np.zeros(n))
    # Another advanced class can only have failed if the history counts a drug besides any anti-TNF.
    room = values["prior_advanced_therapies"] - anti_tnf_exposure >= 1
    classes = [str(BY_ATC[atc].drug_class) for atc in drugs]
    others = [c for c in dict.fromkeys(classes) if c not in (DrugClass.ANTI_TNF, DrugClass.CSDMARD)]
    # Half of the patients with room had one other advanced class fail, chosen at random.
    which = np.where(room & (rng.random(n) < 0.5), rng.integers(0, max(1, len(others)), size=n), -1)
    failed = {cls: (which == i).astype(float) for i, cls in enumerate(others)}
    failed[str(DrugClass.ANTI_TNF)] = anti_tnf_failure.astype(float)
    failed[str(DrugClass.CSDMARD)] = (rng.random(n) < 0.2).astype(float)
    return np.column_stack([failed[cls] for cls in classes])


# --- registry gaps -------------------------------------------------------------

# Share missing completely at random, per variable (labs ~10–30 %, phenotype a few %).
MISSING_AT_RANDOM: dict[str, float] = {
    "disease_duration": 0.03, "smoking_status": 0.10, "bmi": 0.10, "crp": 0.10, "albumin": 0.15,
    "haemoglobin": 0.12, "fecal_calprotectin": 0.25, "esr": 0.12, "haq_di": 0.15, "patient_global": 0.05,
    "glucocorticoid": 0.10,
    "evaluator_global": 0.05, "rf_positive": 0.06, "anti_ccp_positive": 0.12, "montreal_location": 0.06,
    "montreal_behaviour": 0.08, "perianal_disease": 0.05, "prior_bowel_surgery": 0.05,
    "fistulising_disease": 0.08, "montreal_extent": 0.10, "mayo_endoscopic": 0.20, "edss": 0.05,
    "new_t2_lesions": 0.12, "gd_lesions": 0.20, "hbi_abdominal_mass": 0.05,
}
# Extra share missing NOT at random among quiet patients (activity below 0.35): calm patients
# skip the stool test, the endoscopy and the contrast MRI, and albumin goes unordered when well.
MISSING_WHEN_QUIET: dict[str, float] = {
    "albumin": 0.20, "fecal_calprotectin": 0.25, "mayo_endoscopic": 0.30, "gd_lesions": 0.25, "esr": 0.10,
}


def _with_missing_values(rng: np.random.Generator, *, disease: str,
                         values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    quiet = values["_activity"] < 0.35
    recorded = {}
    for name in features_for(disease):
        column = values[name].astype(float).copy()
        share = MISSING_AT_RANDOM.get(name, 0.0) + np.where(quiet, MISSING_WHEN_QUIET.get(name, 0.0), 0.0)
        column[rng.random(len(column)) < share] = np.nan
        recorded[name] = column
    return recorded
