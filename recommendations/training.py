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
from recommendations.validation import calibration, ranking_metrics, top_agreement

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


# The validation report's ranking figures (recommendations.validation): the shipped package (booster and members,
# seed `seed`) and four retrained boosters (seeds seed + 1 … seed + 4, each on its own cohort draw), judged on a
# fresh cohort whose seed no training cohort uses. 20,000 evaluation patients put the gain captured within about
# ±3 points between draws. The retrained models are single boosters, not ensembles: whether they rank the shipped
# model's top suggestion first is the question, and a booster's order is noisier than an ensemble mean's, so the
# agreement measured is if anything too low.
DEFAULT_RETRAININGS = 5
EVALUATION_SEED = 2025
EVALUATION_PATIENTS = 20_000
# Per-drug calibration needs far more patients than ranking: a drug's patients differ little in their predicted
# probability (within-drug AUC 0.53–0.73), so its slope's 95 % interval was ±0.4 among 2,600 patients. A second
# fresh cohort (its own seed) of 200,000 gives ~20,000 per drug, an interval of about ±0.15.
CALIBRATION_SEED = 2026
CALIBRATION_PATIENTS = 200_000


def package_train_validated(*, disease: str, seed: int = DEFAULT_SEED, n_patients: int = DEFAULT_PATIENTS,
                            created_at: str = SHIPPED_CREATED_AT, members: int = DEFAULT_MEMBERS,
                            retrainings: int = DEFAULT_RETRAININGS, evaluation_seed: int = EVALUATION_SEED,
                            evaluation_patients: int = EVALUATION_PATIENTS) -> tuple[bytes, dict]:
    """(package bytes, its manifest), with the ranking report in manifest.metrics.x_evaluation: on a fresh
    synthetic cohort (evaluation_seed), where the generator's true probability of every patient on every
    candidate is known, the gain captured and mean regret of the shipped model's order (its members' mean, the
    order tiers shows; the booster's without members), their range over the retrainings, top-suggestion
    agreement with the retrained models, and per-drug calibration of the shipped probability.
    """
    if retrainings < 1:
        raise ValueError(f"retrainings must be at least 1, got {retrainings}")
    if {evaluation_seed, CALIBRATION_SEED} & set(range(seed, seed + retrainings)):
        raise ValueError(f"the evaluation seeds {evaluation_seed} and {CALIBRATION_SEED} must differ from the "
                         f"training cohorts' seeds {seed}–{seed + retrainings - 1}")
    evaluation = cohort_generate(disease=disease, n_patients=evaluation_patients, seed=evaluation_seed)
    candidates = xgboost.DMatrix(evaluation.candidate_rows(np.arange(evaluation.n_patients)), missing=np.nan,
                                 feature_names=evaluation.columns, nthread=PARAMS["nthread"])
    shape = (evaluation.n_patients, len(evaluation.drugs))
    manifest, booster, boosters = ensemble_train(disease=disease, seed=seed, n_patients=n_patients,
                                                 created_at=created_at, members=members)
    shipped = np.stack([b.predict(candidates).reshape(shape) for b in (boosters or [booster])])
    orders = [shipped.mean(axis=0)]
    for r in range(1, retrainings):
        _, retrained = model_train(disease=disease, seed=seed + r, n_patients=n_patients, created_at=created_at)
        orders.append(retrained.predict(candidates).reshape(shape))
    rankings = [ranking_metrics(p_true=evaluation.p_all, p_model=o, available=evaluation.available) for o in orders]
    agreement = (top_agreement(shipped, orders[1:], available=evaluation.available)
                 if retrainings > 1 and boosters else None)
    first = rankings[0]
    captured = [r.gain_captured for r in rankings if r.gain_captured is not None]
    report = {
        "cohort": f"fresh synthetic cohort, seed {evaluation_seed}, {evaluation.n_patients} patients",
        "seed": evaluation_seed,
        **first.as_dict(),
        "gain_captured_range": [_round(min(captured)), _round(max(captured))] if captured else None,
        "mean_regret_range": [_round(min(r.mean_regret for r in rankings)),
                              _round(max(r.mean_regret for r in rankings))],
        "one_drug_for_all": evaluation.drugs[first.one_drug],
        **(agreement.as_dict() if agreement else {"top_agreement": None, "retrainings": retrainings}),
        **fresh_calibration(booster, disease=disease),
    }
    manifest["metrics"]["x_evaluation"] = report
    manifest["model_card"]["metrics"] += " " + ranking_sentence(report)
    return package_build(manifest=manifest, booster=booster, members=boosters), manifest


def fresh_calibration(booster: xgboost.Booster, *, disease: str, seed: int = CALIBRATION_SEED,
                      n_patients: int = CALIBRATION_PATIENTS) -> dict:
    """Per-drug calibration of the booster's probabilities on a fresh cohort: {"calibration_cohort", "per_drug"}."""
    cohort = cohort_generate(disease=disease, n_patients=n_patients, seed=seed)
    p = booster.predict(xgboost.DMatrix(cohort.X, missing=np.nan, feature_names=cohort.columns,
                                        nthread=PARAMS["nthread"]))
    return {
        "calibration_cohort": f"fresh synthetic cohort, seed {seed}, {n_patients} patients",
        "calibration_seed": seed, "calibration_n": n_patients,
        "per_drug": {atc: calibration(y=cohort.y[cohort.drug_atc == atc], p=p[cohort.drug_atc == atc])
                     for atc in cohort.drugs},
    }


def ranking_sentence(report: dict) -> str:
    """The model card's account of the ranking figures, in words."""
    def pct(value):
        return "not measured" if value is None else f"{value * 100:.0f} %"
    agreement = ("not measured" if report.get("top_agreement") is None else
                 f"{pct(report['top_agreement'])} (the share of the {pct(report['with_top_suggestion'])} of patients "
                 f"with a top suggestion whose suggested drug {report['retrainings'] - 1} retrained models all rank "
                 "first)")
    return (f"On a {report['cohort']} whose true probabilities are known: the model's choices capture "
            f"{pct(report['gain_captured'])} of the gain that choosing per patient can add over giving everyone "
            f"{BY_ATC[report['one_drug_for_all']].name} (achievable {report['achievable_gain'] * 100:.1f} points); "
            f"mean regret against each patient's best drug {report['mean_regret'] * 100:.2f} points; top-suggestion "
            f"agreement {agreement}. Per-drug calibration in metrics.per_drug and metrics.x_evaluation.per_drug.")


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
