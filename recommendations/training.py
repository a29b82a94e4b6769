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
from recommendations.recalibration import margins_recalibrate, recalibration_pooled
from recommendations.tiers import DEFAULT_CONFIDENCE, INTERVAL_LEVEL, TOP_SUGGESTION_CONFIDENCE
from recommendations.validation import calibration

DEFAULT_SEED = 7
# Large enough that the cohort's drug × patient interactions (0.3–1 log-odds) are learned well enough to rank the
# drugs: with 60,000 patients the models captured 0–15 % of the achievable gain in RA and MS, with 150,000 60–90 %
# (docs/synthetic-cohort.md); a booster takes ~5–10 s on one thread.
DEFAULT_PATIENTS = 150_000
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
    "eta": 0.1,  # with 150,000 patients 0.05 needed ~250 rounds for what 0.1 reaches in ~120, at the same capture
    "min_child_weight": 20,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "lambda": 2.0,
    "max_bin": 64,  # histogram bins: half the training time of the default 256, same ranking figures
    # One thread: the same trees as with two (the packages are byte-identical), and no OpenMP spin-waiting
    # when the cores are shared with a web server or a test run (2 threads were 10× slower under load).
    "nthread": 1,
}
SPLIT = (0.6, 0.2, 0.2)  # train, validation (early stopping), test (reported metrics)
DIGITS = 4
# Bootstrap ensemble members per package (see ensemble_train), chosen by measurement (Crohn's disease, 300 fresh
# patients, two independent ensembles of each size): the 5–95 % interval's ends differ between the two by a median of
# 1.1 points with 5 members, 0.9 with 10 and 0.7 with 20; both ensembles make the same top-suggestion decision for
# 48 %, 62 % and 75 % of patients. Scoring cost hardly depends on the size (the members are joined into one booster:
# ~0.6 ms a visit for 20). Validation does: every member's structure is checked in pure Python before XGBoost reads
# it, ~0.3–0.6 s a member, and with 20 members the multiple sclerosis package needed 21 s in the sandbox on a loaded
# machine, over its 20 s wall-clock limit. 10 members keep an upload's validation well inside the limits.
DEFAULT_MEMBERS = 10
ENSEMBLE_METHOD = ("retraining on fresh draws: each member is trained exactly as the shipped booster is (same "
                   "parameters, its own 60/20/20 split, early stopping and XGBoost seed) on its own fresh draw of "
                   "the synthetic cohort, of the training cohort's size")


# Per-drug recalibration (recommendations.recalibration) is fitted on rows the booster never saw: a fresh draw of
# the synthetic cohort (seed + RECALIBRATION_SEED_OFFSET). The 20 % validation split would do in principle, but it
# holds 2,000-6,000 patients per drug, and a drug's calibration slope is poorly determined there (within-drug AUC
# 0.53-0.73; the slope's 95 % interval was ±0.4 among 2,600 patients): a recalibration that noisy would move as many
# slopes out of 0.8-1.2 as it brings in. 500,000 patients give 40,000-80,000 per drug, a slope to about ±0.05.
# A site-trained model fits the same sums on its sites' held-out rows instead (recalibration_sums).
RECALIBRATION_PATIENTS = 500_000
RECALIBRATION_SEED_OFFSET = 100_000
RECALIBRATION_SOURCE = ("fresh synthetic cohort, seed {seed}, {n:,} patients the booster never saw (its own training "
                        "seed plus {offset:,})")


def model_train(*, disease: str, seed: int = DEFAULT_SEED, n_patients: int = DEFAULT_PATIENTS,
                created_at: str = SHIPPED_CREATED_AT,
                recalibration_patients: int = RECALIBRATION_PATIENTS) -> tuple[dict, xgboost.Booster]:
    """(manifest, booster) for a disease: trained on 60 % of a synthetic cohort, stopped early on 20 %,
    recalibrated per drug on a fresh draw (manifest.recalibration; 0 patients: none), and measured, recalibrated,
    on the last 20 % of patients, which it never saw."""
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
    recalibration = (recalibration_train(booster, disease=disease, seed=seed, n_patients=recalibration_patients)
                     if recalibration_patients else None)
    p_test = probabilities(booster, matrices["test"], cohort.drug_atc[test], recalibration)
    metrics = {
        "test": heldout_metrics(y=cohort.y[test], p=p_test),
        "per_drug": per_drug_metrics(cohort=cohort, rows=test, p=p_test),
        "validation": split_metrics(y=cohort.y[validation], p=probabilities(
            booster, matrices["validation"], cohort.drug_atc[validation], recalibration)),
        "best_iteration": int(best),
    }
    split = {"train": len(train), "validation": len(validation), "test": len(test)}
    manifest = manifest_compose(cohort=cohort, metrics=metrics, split=split, created_at=created_at)
    if recalibration is not None:
        manifest["recalibration"] = recalibration
        manifest["model_card"]["model_details"] += (
            f" Each drug's log-odds are recalibrated (intercept and slope, logistic recalibration) for "
            f"{len(recalibration['drugs'])} of {len(cohort.drugs)} drugs on a {recalibration['source']} "
            "(manifest.recalibration); the metrics are those of the recalibrated probabilities.")
    return manifest, booster


def recalibration_train(booster: xgboost.Booster, *, disease: str, seed: int,
                        n_patients: int = RECALIBRATION_PATIENTS) -> dict:
    """The per-drug recalibration block of a booster trained with `seed`, fitted on a fresh draw it never saw."""
    draw_seed = seed + RECALIBRATION_SEED_OFFSET
    cohort = cohort_generate(disease=disease, n_patients=n_patients, seed=draw_seed)
    margins = booster.predict(xgboost.DMatrix(cohort.X, missing=np.nan, feature_names=cohort.columns,
                                              nthread=PARAMS["nthread"]), output_margin=True)
    source = RECALIBRATION_SOURCE.format(seed=draw_seed, n=n_patients, offset=RECALIBRATION_SEED_OFFSET)
    return recalibration_pooled(margins, cohort.y, cohort.drug_atc, source=source)


def probabilities(booster: xgboost.Booster, matrix: xgboost.DMatrix, drug_keys, recalibration: dict | None
                  ) -> np.ndarray:
    """The booster's probabilities of the rows, each recalibrated for its drug as scoring does."""
    margins = margins_recalibrate(booster.predict(matrix, output_margin=True), drug_keys, recalibration)
    return 1.0 / (1.0 + np.exp(-margins))


def member_seed(seed: int, k: int) -> int:
    """The cohort (and XGBoost) seed of ensemble member k of a package trained with `seed`."""
    return seed * 1000 + 100 + k


def ensemble_train(*, disease: str, seed: int = DEFAULT_SEED, n_patients: int = DEFAULT_PATIENTS,
                   created_at: str = SHIPPED_CREATED_AT, members: int = DEFAULT_MEMBERS,
                   recalibration_patients: int = RECALIBRATION_PATIENTS,
                   ) -> tuple[dict, xgboost.Booster, list[xgboost.Booster]]:
    """(manifest, booster, members): model_train's booster and manifest, plus `members` boosters for the
    probability intervals and tiers, each trained as model_train trains, on its own fresh cohort draw.

    The members' spread must be the spread of *retraining*: what another cohort of the same size, another
    split, early stopping at another round and another booster seed would give. A bootstrap of the training
    patients (Efron & Tibshirani 1993, "An Introduction to the Bootstrap", ch. 6 and 13; bagging, Breiman 1996,
    Machine Learning 24:123-140) approximates new draws of the population by resampling the one draw at hand; the
    synthetic generator can draw from the population itself, so the members do, and nothing is approximated.
    The earlier bootstrap members shared the shipped booster's number of rounds, which early stopping chooses
    anew on every retraining (docs/synthetic-cohort.md, "Top-suggestion agreement"). A model trained on real
    rows has no second draw and would bootstrap them. Each member is also recalibrated as the booster is, on its
    own fresh draw (manifest.ensemble.recalibration): a retraining includes that step, and one block shared by all
    members would move them together by the booster's own error. The interval of a probability is the members'
    5th to 95th percentile (recommendations.tiers.interval); the shipped booster still gives the probability and
    SHAP values, so explanations add up exactly.
    """
    if members == 1 or members < 0:
        raise ValueError(f"members must be 0 or at least 2 (1 gives no interval), got {members}")
    manifest, booster = model_train(disease=disease, seed=seed, n_patients=n_patients, created_at=created_at,
                                    recalibration_patients=recalibration_patients)
    if not members:
        return manifest, booster, []
    trained = [model_train(disease=disease, seed=member_seed(seed, k), n_patients=n_patients,
                           created_at=created_at, recalibration_patients=recalibration_patients)
               for k in range(members)]
    boosters = [b for _, b in trained]
    manifest["ensemble"] = {"members": members, "method": ENSEMBLE_METHOD, "interval_level": INTERVAL_LEVEL,
                            "tier_confidence": DEFAULT_CONFIDENCE,
                            "x_top_suggestion_confidence": TOP_SUGGESTION_CONFIDENCE}
    if recalibration_patients:
        # Each member recalibrated as the booster is, on its own fresh draw (recommendations.recalibration).
        manifest["ensemble"]["recalibration"] = [m.get("recalibration") for m, _ in trained]
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
    """split_metrics for the test patients treated with each candidate drug, keyed by ATC code, with their
    calibration (slope, intercept, O/E and 95 % intervals) under x_calibration."""
    treated = cohort.drug_atc[rows]
    return {atc: {**split_metrics(y=cohort.y[rows][treated == atc], p=p[treated == atc]),
                  "x_calibration": calibration(y=cohort.y[rows][treated == atc], p=p[treated == atc])}
            for atc in cohort.drugs}


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
        "Effects follow the direction and, where published, at most the size of the checked sources listed in "
        "docs/synthetic-cohort.md; they are a simulation, not estimates from those studies.",
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
                    f"{test['calibration_intercept']} (logit(p) as offset). Per-drug AUC, Brier and calibration "
                    "(slope, intercept, observed/expected, each with a 95 % interval) in metrics.per_drug."),
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
