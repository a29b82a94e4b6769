"""Training one response model per disease on the synthetic cohort, with held-out metrics and a model card.

The model answers: for this patient, what is the probability of the disease's
outcome (package.OUTCOMES) on each candidate drug? Rows are laid out as scoring
lays them out; the drug indicator columns let one booster score every candidate.

Deterministic: the same disease, seed and cohort size give the same booster and
the same metrics (one thread, fixed XGBoost seed, seeded split).
"""

from __future__ import annotations

import numpy as np
import xgboost
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from patients.dictionary import Disease
from patients.drugs import BY_ATC
from recommendations.cohort import Cohort, cohort_generate
from recommendations.cohort_effects import EFFECTS
from recommendations.package import COLUMN_LAYOUT, FORMAT_VERSION, OUTCOMES, package_build
from recommendations.tiers import DEFAULT_CONFIDENCE, INTERVAL_LEVEL

DEFAULT_SEED = 7
# Large enough that drug × patient interactions of ~0.5 log-odds are learned, and still < 1 s to train.
DEFAULT_PATIENTS = 60_000
# The date of the shipped packages: with it, re-training reproduces them byte for byte.
SHIPPED_CREATED_AT = "2026-11-28T00:00:00+00:00"
MAX_ROUNDS = 300
EARLY_STOPPING_ROUNDS = 30
# Small, shallow trees: packages stay well under 1 MB and scoring a visit takes milliseconds.
# Depth 4 leaves room for drug × patient interactions (drug indicator, then two patient splits).
PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",  # early stopping on a proper score keeps probabilities honest
    "tree_method": "hist",
    "max_depth": 4,
    "eta": 0.05,
    "min_child_weight": 20,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "lambda": 2.0,
    # One thread: the same trees as with two (the packages are byte-identical), and no OpenMP spin-waiting
    # when the cores are shared with a web server or a test run (2 threads were 10× slower under load).
    "nthread": 1,
}
SPLIT = (0.6, 0.2, 0.2)  # train, validation (early stopping), test (reported metrics)
DIGITS = 4
# Bootstrap ensemble members per package (see ensemble_train). 20: measured by `manage.py bench` and
# docs/intervals.md — the 5–95 % interval's ends move by a median of < 1 point between two independent
# 20-member ensembles, against ~2 points with 5 members, while scoring all 20 costs ~1 ms per visit.
DEFAULT_MEMBERS = 20
ENSEMBLE_METHOD = ("bootstrap: each member is trained with the shipped booster's parameters and number of rounds on "
                   "a resample (with replacement, as multinomial weights) of the training patients")


def model_train(*, disease: str, seed: int = DEFAULT_SEED, n_patients: int = DEFAULT_PATIENTS,
                created_at: str = SHIPPED_CREATED_AT) -> tuple[dict, xgboost.Booster]:
    """(manifest, booster) for a disease: trained on 60 % of a synthetic cohort, stopped early on 20 %,
    and measured on the last 20 % of patients, which it never saw."""
    cohort = cohort_generate(disease=disease, n_patients=n_patients, seed=seed)
    train, validation, test = patient_split(n_patients=cohort.n_patients, seed=seed)
    matrices = {name: _matrix(cohort, rows) for name, rows in
                (("train", train), ("validation", validation), ("test", test))}
    booster = xgboost.train(
        {**PARAMS, "seed": seed}, matrices["train"], num_boost_round=MAX_ROUNDS,
        evals=[(matrices["validation"], "validation")], early_stopping_rounds=EARLY_STOPPING_ROUNDS,
        verbose_eval=False,
    )
    best = booster.best_iteration
    # Ship only the trees up to the best round, so every consumer predicts with the model that was measured.
    booster = booster[: best + 1]
    metrics = {
        "test": heldout_metrics(y=cohort.y[test], p=booster.predict(matrices["test"])),
        "per_drug": per_drug_metrics(cohort=cohort, rows=test, p=booster.predict(matrices["test"])),
        "validation": split_metrics(y=cohort.y[validation], p=booster.predict(matrices["validation"])),
        "best_iteration": int(best),
    }
    split = {"train": len(train), "validation": len(validation), "test": len(test)}
    return manifest_compose(cohort=cohort, metrics=metrics, split=split, created_at=created_at), booster


def ensemble_train(*, disease: str, seed: int = DEFAULT_SEED, n_patients: int = DEFAULT_PATIENTS,
                   created_at: str = SHIPPED_CREATED_AT, members: int = DEFAULT_MEMBERS,
                   ) -> tuple[dict, xgboost.Booster, list[xgboost.Booster]]:
    """(manifest, booster, members): model_train's booster and manifest, plus `members` boosters trained on
    bootstrap resamples of the same training patients, for the probability intervals and tiers.

    The bootstrap (Efron & Tibshirani 1993, "An Introduction to the Bootstrap", ch. 6 and 13; bagging,
    Breiman 1996, Machine Learning 24:123-140) resamples the training patients with replacement; a patient
    drawn k times gets weight k, which is the same as repeating the row k times (the hessian sums that
    min_child_weight reads count weights). Each member keeps the booster's parameters and its number of
    rounds, so the spread of the members is the spread of *this* model over resampled data: the interval
    of a probability is the members' 5th to 95th percentile (recommendations.tiers.interval).
    The shipped booster still gives the probability and SHAP values, so explanations add up exactly.
    """
    if members == 1 or members < 0:
        raise ValueError(f"members must be 0 or at least 2 (1 gives no interval), got {members}")
    manifest, booster = model_train(disease=disease, seed=seed, n_patients=n_patients, created_at=created_at)
    if not members:
        return manifest, booster, []
    cohort = cohort_generate(disease=disease, n_patients=n_patients, seed=seed)
    train, _validation, _test = patient_split(n_patients=cohort.n_patients, seed=seed)
    rounds = booster.num_boosted_rounds()
    boosters = []
    for k in range(members):
        rng = np.random.default_rng([seed, 0xB007, k])
        weights = np.bincount(rng.integers(0, len(train), len(train)), minlength=len(train)).astype(np.float32)
        drawn = weights > 0
        matrix = xgboost.DMatrix(cohort.X[train[drawn]], label=cohort.y[train[drawn]], weight=weights[drawn],
                                 missing=np.nan, feature_names=cohort.columns, nthread=PARAMS["nthread"])
        boosters.append(xgboost.train({**PARAMS, "seed": seed * 1000 + k + 1}, matrix, num_boost_round=rounds,
                                      verbose_eval=False))
    manifest["ensemble"] = {"members": members, "method": ENSEMBLE_METHOD, "interval_level": INTERVAL_LEVEL,
                            "tier_confidence": DEFAULT_CONFIDENCE}
    return manifest, booster, boosters


def package_train(*, disease: str, seed: int = DEFAULT_SEED, n_patients: int = DEFAULT_PATIENTS,
                  created_at: str = SHIPPED_CREATED_AT, members: int = DEFAULT_MEMBERS) -> bytes:
    """The package bytes (booster and ensemble members) of ensemble_train: what train_models ships."""
    manifest, booster, boosters = ensemble_train(disease=disease, seed=seed, n_patients=n_patients,
                                                 created_at=created_at, members=members)
    return package_build(manifest=manifest, booster=booster, members=boosters)


def patient_split(*, n_patients: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted row indices of train, validation and test patients (60/20/20), disjoint."""
    order = np.random.default_rng([seed, 60_20_20]).permutation(n_patients)
    a = int(round(SPLIT[0] * n_patients))
    b = a + int(round(SPLIT[1] * n_patients))
    return np.sort(order[:a]), np.sort(order[a:b]), np.sort(order[b:])


def _matrix(cohort: Cohort, rows: np.ndarray) -> xgboost.DMatrix:
    return xgboost.DMatrix(cohort.X[rows], label=cohort.y[rows], missing=np.nan, feature_names=cohort.columns,
                           nthread=PARAMS["nthread"])


# --- metrics -----------------------------------------------------------------


def split_metrics(*, y: np.ndarray, p: np.ndarray) -> dict:
    """AUC (None when only one outcome occurs), Brier score and n."""
    auc = roc_auc_score(y, p) if len(set(y.tolist())) == 2 else None
    return {"auc": _round(auc), "brier": _round(brier_score_loss(y, p)), "n": int(len(y))}


def heldout_metrics(*, y: np.ndarray, p: np.ndarray) -> dict:
    """split_metrics plus calibration.

    calibration_slope: the slope of an unpenalised logistic regression of y on logit(p) (ideal 1).
    calibration_intercept: calibration-in-the-large, the intercept of that regression with the
    slope fixed at 1, i.e. logit(p) as an offset (ideal 0; Van Calster et al., BMC Med 2019;17:230).
    """
    logit = _logit(p)
    fit = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=1000).fit(logit.reshape(-1, 1), y)
    metrics = split_metrics(y=y, p=p)
    metrics["calibration_slope"] = _round(fit.coef_[0][0])
    metrics["calibration_intercept"] = _round(_intercept_with_offset(y=y, offset=logit))
    return {k: metrics[k] for k in ("auc", "brier", "calibration_slope", "calibration_intercept", "n")}


def per_drug_metrics(*, cohort: Cohort, rows: np.ndarray, p: np.ndarray) -> dict:
    """split_metrics for the test patients treated with each candidate drug, keyed by ATC code."""
    treated = cohort.drug_atc[rows]
    return {atc: split_metrics(y=cohort.y[rows][treated == atc], p=p[treated == atc]) for atc in cohort.drugs}


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p.astype(float), 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def _intercept_with_offset(*, y: np.ndarray, offset: np.ndarray) -> float:
    """The a solving sum(sigmoid(offset + a)) = sum(y): Newton steps on a concave likelihood."""
    a = 0.0
    for _ in range(50):
        q = 1.0 / (1.0 + np.exp(-(offset + a)))
        step = (y.sum() - q.sum()) / max(1e-12, (q * (1 - q)).sum())
        a += step
        if abs(step) < 1e-12:
            break
    return a


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), DIGITS)


# --- the manifest and its model card --------------------------------------------


def _named(disease: Disease) -> str:
    """The disease in running text: "Crohn's disease" keeps its capital, the others do not need one."""
    return disease.label if disease == Disease.CROHNS_DISEASE else disease.label.lower()


def manifest_compose(*, cohort: Cohort, metrics: dict, split: dict, created_at: str) -> dict:
    """The package manifest (format_version 1) of a model trained on this cohort."""
    disease = Disease(cohort.disease)
    drugs = ", ".join(f"{BY_ATC[a].name} ({a})" for a in cohort.drugs)
    test = metrics["test"]
    n_effects = sum(e.disease in ("all", disease) and e.feature in cohort.features for e in EFFECTS)
    description = (f"Synthetic {_named(disease)} cohort of {cohort.n_patients:,} patients generated by "
                   f"recommendations.cohort (seed {cohort.seed}): registry-like values for every feature, one "
                   f"treated drug per patient and a response drawn from a logistic model with {n_effects} "
                   f"literature effects (docs/synthetic-cohort.md). No real patient contributed.")
    intended_use = ("Demonstration and software testing of Clinnova's decision support: ranking candidate drugs "
                    f"for a patient with {_named(disease)} by the predicted probability of the outcome. "
                    "Not for clinical decisions: the model has never seen a real patient.")
    caveats = [
        "Trained on synthetic data: its probabilities describe the simulation, not real patients.",
        "Effects follow the direction of published findings with sizes chosen for the simulation; "
        "they are not estimates from those studies.",
        "Treatment assignment in the cohort is confounded by indication, as in registries; predicted "
        "differences between drugs are associations, not causal treatment effects.",
        "Missing values are routed by XGBoost's learned defaults; a patient with many gaps gets a less "
        "individual prediction.",
        "Safety rules (contraindications, screening) are applied outside this model.",
    ]
    card = {
        "model_details": (f"XGBoost {xgboost.__version__} gradient-boosted trees (binary:logistic, depth "
                          f"{PARAMS['max_depth']}, {metrics['best_iteration'] + 1} rounds chosen by early "
                          f"stopping on validation log-loss), one model for all candidates of "
                          f"{_named(disease)}: {drugs}."),
        "intended_use": intended_use,
        "factors": ("Inputs are the data dictionary features listed in 'features' (demographics, therapy history, "
                    "labs, disease activity and phenotype) plus the candidate drug. Per-drug metrics are reported; "
                    "sex and age groups are not separately evaluated."),
        "metrics": (f"Held-out test patients (n={test['n']}): AUC {test['auc']}, Brier {test['brier']}, "
                    f"calibration slope {test['calibration_slope']} and calibration-in-the-large "
                    f"{test['calibration_intercept']} (logit(p) as offset). Per-drug AUC and Brier in "
                    "metrics.per_drug."),
        "evaluation_data": (f"A random 20 % of the synthetic patients ({split['test']}), disjoint from the "
                            f"{split['train']} training and {split['validation']} early-stopping patients."),
        "training_data": description,
        "ethical_considerations": ("No personal data was used. Presented to clinicians only with the "
                                   "'synthetic data, not for clinical use' notice; a real deployment would need "
                                   "validation on local registry data, subgroup fairness checks and regulatory "
                                   "assessment as a medical device."),
        "caveats_and_recommendations": " ".join(caveats),
    }
    return {
        "format_version": FORMAT_VERSION,
        "disease": str(disease),
        "outcome": OUTCOMES[disease],
        "features": list(cohort.features),
        "drugs": list(cohort.drugs),
        "column_layout": COLUMN_LAYOUT,
        "xgboost_version": xgboost.__version__,
        "training_data": {"description": description, "n_patients": cohort.n_patients,
                          "n_rows": int(len(cohort.y)), "seed": cohort.seed, "synthetic": True},
        "metrics": metrics,
        "intended_use": intended_use,
        "caveats": caveats,
        "model_card": card,
        "created_at": created_at,
        "x_split": split,
        "x_params": {k: v for k, v in PARAMS.items() if k != "nthread"},
    }
