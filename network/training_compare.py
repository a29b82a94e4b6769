"""The measurement behind the choice of strategy: pooled, federated (each candidate) and site-local training on
the synthetic cohort split across four sites of unequal size, all scored on one pooled held-out test set.

The cohort and the split come from recommendations.training through two seams (`cohort_for`, `split_for`),
so a regenerated cohort or split slots in. The federated runs call the same site and hub functions as the
Flower apps, in one process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xgboost
from sklearn.metrics import roc_auc_score

from network.training import (
    BAGGING,
    Progress,
    SiteData,
    booster_bytes,
    booster_from,
    global_combine,
    network_loss,
    params,
    round_sites,
    site_data,
    site_train_round,
    site_weights,
)
from network.training_calibration import federated_recalibrate
from recommendations import training
from recommendations.cohort import cohort_generate
from recommendations.recalibration import margins_recalibrate, recalibration_pooled

# Unequal sites, as real ones are: Luxembourg small, Grand Est large.
SHARES = {"LU": 0.10, "FR": 0.40, "DE": 0.30, "CH": 0.20}
PATIENCE = training.EARLY_STOPPING_ROUNDS


def cohort_for(*, disease: str, seed: int, n_patients: int):
    return cohort_generate(disease=disease, n_patients=n_patients, seed=seed)


def split_for(*, n_patients: int, seed: int):
    return training.patient_split(n_patients=n_patients, seed=seed)


@dataclass
class Split:
    cohort: object
    sites: dict[str, SiteData]
    pooled: SiteData
    test: np.ndarray


def site_of_patient(*, n_patients: int, seed: int, shares: dict[str, float] = SHARES) -> np.ndarray:
    """Each patient's site, drawn with the sites' shares (seeded)."""
    rng = np.random.default_rng([seed, 4_5174])
    return rng.choice(list(shares), size=n_patients, p=list(shares.values()))


def split_make(*, disease: str, seed: int, n_patients: int, shares: dict[str, float] = SHARES) -> Split:
    cohort = cohort_for(disease=disease, seed=seed, n_patients=n_patients)
    train, validation, test = split_for(n_patients=cohort.n_patients, seed=seed)
    where = site_of_patient(n_patients=cohort.n_patients, seed=seed, shares=shares)

    def data(name, tr, va):
        return site_data(site=name, X_train=cohort.X[tr], y_train=cohort.y[tr], X_validation=cohort.X[va],
                         y_validation=cohort.y[va], columns=cohort.columns)
    sites = {code: data(code, train[where[train] == code], validation[where[validation] == code]) for code in shares}
    return Split(cohort=cohort, sites=sites, pooled=data("pooled", train, validation), test=test)


def centrally_train(*, data: SiteData, seed: int) -> xgboost.Booster:
    """model_train's settings (with the federated runs' pinned intercept) on one set of rows."""
    booster = xgboost.train(params(seed=seed), data.train, num_boost_round=training.MAX_ROUNDS,
                            evals=[(data.validation, "validation")],
                            early_stopping_rounds=training.EARLY_STOPPING_ROUNDS, verbose_eval=False)
    return booster[: booster.best_iteration + 1]


def federated_train(*, sites: dict[str, SiteData], strategy: str, seed: int, max_rounds: int,
                    patience: int | None = None, weighted: bool = False) -> dict:
    """The hub's loop in one process: rounds of site_train_round and global_combine, early stopping on the
    network's validation loss. Returns the model and what was exchanged. `weighted` (bagging): each site's
    step scaled by its share of the rows (network.training.site_weights)."""
    order = sorted(sites)
    weights = site_weights({code: data.n_train for code, data in sites.items()}) if weighted else {}
    model, sent, received = b"", 0, 0
    rounds_patience = patience or (PATIENCE if strategy == BAGGING else PATIENCE)
    progress = Progress(patience=rounds_patience)
    rounds = 0
    for r in range(1, max_rounds + 2):
        final = r == max_rounds + 1
        trainers = [] if final else round_sites(strategy=strategy, sites=order, round_number=r)
        replies = []
        for code in order:
            sent += len(model)
            reply = site_train_round(model=model, data=sites[code], strategy=strategy, seed=seed + r,
                                     train=code in trainers, weight=weights.get(code, 1.0))
            received += len(reply["trees"]) + 64
            replies.append(reply)
        stop = progress.record(round_number=r - 1, model_before=model, loss=network_loss(replies))
        if stop or final:
            break
        model = global_combine(model=model, replies=replies, strategy=strategy)
        rounds = r
    return {"model": progress.best_model, "rounds": progress.best_round, "rounds_run": rounds,
            "bytes_to_sites": sent, "bytes_from_sites": received}


def auc_on(booster: xgboost.Booster, split: Split, recalibration: dict | None = None) -> float:
    c = split.cohort
    m = xgboost.DMatrix(c.X[split.test], missing=np.nan, feature_names=c.columns, nthread=1)
    margin = margins_recalibrate(booster.predict(m, output_margin=True), c.drug_atc[split.test], recalibration)
    return float(roc_auc_score(c.y[split.test], margin))


def pooled_recalibration(booster: xgboost.Booster, data: SiteData) -> dict:
    """Pooled training's recalibration, with the same rows the federated one uses: the validation rows."""
    return recalibration_pooled(booster.predict(data.validation, output_margin=True), data.validation.get_label(),
                                data.validation_drugs, source="pooled validation rows")


# Per-drug calibration slopes are measured on a fresh draw of the synthetic cohort (another seed, this size):
# a 20 % test split leaves a few hundred patients per drug, whose slopes scatter by ±0.2 from noise alone.
CALIBRATION_PATIENTS = 60_000
CALIBRATION_SEED_OFFSET = 1000


@lru_cache(maxsize=2)
def calibration_cohort(*, disease: str, seed: int):
    return cohort_for(disease=disease, seed=seed + CALIBRATION_SEED_OFFSET, n_patients=CALIBRATION_PATIENTS)


def calibration_slopes(booster: xgboost.Booster, *, disease: str, seed: int,
                       recalibration: dict | None = None) -> dict[str, float]:
    """Per-drug calibration slope (logistic regression of y on logit p; ideal 1) on an independent synthetic draw,
    of the booster's probabilities after the package's per-drug recalibration when one is given."""
    c = calibration_cohort(disease=disease, seed=seed)
    margin = booster.predict(xgboost.DMatrix(c.X, missing=np.nan, feature_names=c.columns, nthread=1),
                             output_margin=True)
    p = 1 / (1 + np.exp(-margins_recalibrate(margin, c.drug_atc, recalibration)))
    out = {}
    for atc in c.drugs:
        rows = c.drug_atc == atc
        if len(set(c.y[rows].tolist())) == 2:
            out[atc] = training.heldout_metrics(y=c.y[rows], p=p[rows])["calibration_slope"]
    return out


# The arms of the measurement: (strategy, each site's step weighted by its share).
ARMS = {"bagging": (BAGGING, False), "bagging_weighted": (BAGGING, True), "cyclic": ("cyclic", False)}


def compare(*, disease: str, seed: int, n_patients: int = training.DEFAULT_PATIENTS,
            max_rounds: int = 300, arms=("bagging", "bagging_weighted", "cyclic")) -> dict:
    split = split_make(disease=disease, seed=seed, n_patients=n_patients)
    row = {"disease": disease, "seed": seed, "sites": {k: v.n_train for k, v in split.sites.items()}}
    t = time.perf_counter()
    pooled = centrally_train(data=split.pooled, seed=seed)
    recalibrated = pooled_recalibration(pooled, split.pooled)
    row["pooled"] = {"auc": auc_on(pooled, split), "seconds": time.perf_counter() - t,
                     "trees": pooled.num_boosted_rounds(),
                     "slopes": calibration_slopes(pooled, disease=disease, seed=seed),
                     "auc_recalibrated": auc_on(pooled, split, recalibrated),
                     "slopes_recalibrated": calibration_slopes(pooled, disease=disease, seed=seed,
                                                               recalibration=recalibrated)}
    row["local"] = {code: auc_on(centrally_train(data=data, seed=seed), split) for code, data in split.sites.items()}
    for arm in arms:
        strategy, weighted = ARMS[arm]
        t = time.perf_counter()
        fit = federated_train(sites=split.sites, strategy=strategy, seed=seed, max_rounds=max_rounds,
                              weighted=weighted)
        calibrated = federated_recalibrate(model=fit["model"], sites=split.sites, drugs=split.cohort.drugs)
        seconds = time.perf_counter() - t
        booster = booster_from(fit["model"])
        block = calibrated["recalibration"]
        row[arm] = {"auc": auc_on(booster, split), "rounds": fit["rounds"], "trees": booster.num_boosted_rounds(),
                    "bytes": fit["bytes_to_sites"] + fit["bytes_from_sites"], "seconds": seconds,
                    "slopes": calibration_slopes(booster, disease=disease, seed=seed),
                    "recalibration_steps": calibrated["steps"], "auc_recalibrated": auc_on(booster, split, block),
                    "slopes_recalibrated": calibration_slopes(booster, disease=disease, seed=seed,
                                                              recalibration=block)}
    return row


__all__ = ["compare", "split_make", "federated_train", "centrally_train", "booster_bytes"]


@lru_cache(maxsize=4)
def site_share(*, disease: str, seed: int, n_patients: int, site: str) -> SiteData:
    """A site node's training data for a run on the synthetic cohort: its share of the seeded cohort.

    The shipped models learn from this synthetic cohort, not from the demo network's visits; a node builds
    its own share (the others' rows never leave the function). Cached for the rounds of one run.
    """
    split = split_make(disease=disease, seed=seed, n_patients=n_patients)
    if site not in split.sites:
        raise ValueError(f"site {site!r} has no share of the cohort; expected one of {', '.join(split.sites)}")
    return split.sites[site]
