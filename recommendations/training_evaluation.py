"""The validation report of a trained package: does it rank the drugs right, would a retraining agree, is it
calibrated per drug? Measured on fresh synthetic cohorts, whose true probabilities are known.

The shipped package (booster, members, recalibrations; seed `seed`) and four retrained packages (seeds seed + 1 …
seed + 4, each on its own cohort draw, with its own members and recalibrations) are judged on a fresh cohort whose
seed no training cohort uses. 20,000 evaluation patients put the gain captured within about ±3 points between draws.

Top-suggestion agreement asks what a clinician would see: among the patients the shipped package gives a top
suggestion, the share for whom every retrained package puts the same drug first in the order its page shows (the
mean of its members, recalibrated). The agreement with the retrained packages' single boosters is reported beside
it (top_agreement_boosters): a lone booster's order is noisier than any package's, so it is a floor, not the claim.
"""

from __future__ import annotations

import numpy as np
import xgboost

from patients.drugs import BY_ATC
from recommendations.cohort import cohort_generate
from recommendations.package import package_build
from recommendations.training import (
    DEFAULT_MEMBERS,
    DEFAULT_PATIENTS,
    DEFAULT_SEED,
    PARAMS,
    RECALIBRATION_SEED_OFFSET,
    SHIPPED_CREATED_AT,
    _round,
    ensemble_train,
    member_seed,
    probabilities,
)
from recommendations.validation import calibration, ranking_metrics, top_agreement

DEFAULT_RETRAININGS = 5
EVALUATION_SEED = 2025
EVALUATION_PATIENTS = 20_000
# Per-drug calibration needs far more patients than ranking: a drug's patients differ little in their predicted
# probability (within-drug AUC 0.53–0.73), so its slope's 95 % interval was ±0.4 among 2,600 patients and ±0.15
# among 20,000 (200,000 patients). 500,000 give 40,000-80,000 per drug, about ±0.1: narrow enough that a slope
# reported outside 0.8-1.2 is the model's and not the measurement's.
CALIBRATION_SEED = 2026
CALIBRATION_PATIENTS = 500_000


def training_seeds(*, seed: int, retrainings: int, members: int) -> set[int]:
    """Every cohort seed the shipped and retrained packages train or recalibrate on."""
    seeds = set()
    for s in range(seed, seed + retrainings):
        for draw in {s} | {member_seed(s, k) for k in range(members)}:
            seeds |= {draw, draw + RECALIBRATION_SEED_OFFSET}
    return seeds


def package_train_validated(*, disease: str, seed: int = DEFAULT_SEED, n_patients: int = DEFAULT_PATIENTS,
                            created_at: str = SHIPPED_CREATED_AT, members: int = DEFAULT_MEMBERS,
                            retrainings: int = DEFAULT_RETRAININGS, evaluation_seed: int = EVALUATION_SEED,
                            evaluation_patients: int = EVALUATION_PATIENTS) -> tuple[bytes, dict]:
    """(package bytes, its manifest), with the ranking report in manifest.metrics.x_evaluation: on a fresh
    synthetic cohort (evaluation_seed), where the generator's true probability of every patient on every
    candidate is known, the gain captured and mean regret of the shipped package's order (its members' mean, the
    order tiers shows; the booster's without members), their range over the retrainings, top-suggestion
    agreement with the retrained packages, and per-drug calibration of the shipped probability.
    """
    if retrainings < 1:
        raise ValueError(f"retrainings must be at least 1, got {retrainings}")
    clash = {evaluation_seed, CALIBRATION_SEED} & training_seeds(seed=seed, retrainings=retrainings, members=members)
    if clash:
        raise ValueError(f"the evaluation seeds {evaluation_seed} and {CALIBRATION_SEED} must differ from the "
                         f"training cohorts' seeds; {sorted(clash)} is one of them")
    evaluation = cohort_generate(disease=disease, n_patients=evaluation_patients, seed=evaluation_seed)
    candidates = xgboost.DMatrix(evaluation.candidate_rows(np.arange(evaluation.n_patients)), missing=np.nan,
                                 feature_names=evaluation.columns, nthread=PARAMS["nthread"])
    keys = np.tile(np.asarray(evaluation.drugs), evaluation.n_patients)
    shape = (evaluation.n_patients, len(evaluation.drugs))

    def scored(manifest: dict, boosters: list[xgboost.Booster], blocks: list | None = None) -> np.ndarray:
        """(n_boosters, n_patients, n_drugs) recalibrated probabilities, as scoring computes them: each member
        with its own block (`blocks`), else the package's."""
        blocks = blocks or [manifest.get("recalibration")] * len(boosters)
        return np.stack([probabilities(b, candidates, keys, block).reshape(shape)
                         for b, block in zip(boosters, blocks, strict=True)])

    def members_scored(manifest: dict, booster: xgboost.Booster, members: list[xgboost.Booster]) -> np.ndarray:
        if not members:
            return scored(manifest, [booster])
        return scored(manifest, members, manifest["ensemble"].get("recalibration"))

    manifest, booster, boosters = ensemble_train(disease=disease, seed=seed, n_patients=n_patients,
                                                 created_at=created_at, members=members)
    shipped = members_scored(manifest, booster, boosters)
    orders, lone = [shipped.mean(axis=0)], []
    for r in range(1, retrainings):
        retrained, r_booster, r_members = ensemble_train(disease=disease, seed=seed + r, n_patients=n_patients,
                                                         created_at=created_at, members=members)
        orders.append(members_scored(retrained, r_booster, r_members).mean(axis=0))
        lone.append(scored(retrained, [r_booster])[0])
    rankings = [ranking_metrics(p_true=evaluation.p_all, p_model=o, available=evaluation.available) for o in orders]
    agreement = boosters_agreement = None
    if retrainings > 1 and boosters:
        agreement = top_agreement(shipped, orders[1:], available=evaluation.available)
        boosters_agreement = top_agreement(shipped, lone, available=evaluation.available)
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
        "top_agreement_boosters": boosters_agreement.as_dict()["top_agreement"] if boosters_agreement else None,
        **fresh_calibration(booster, manifest.get("recalibration"), disease=disease),
    }
    manifest["metrics"]["x_evaluation"] = report
    manifest["model_card"]["metrics"] += " " + ranking_sentence(report)
    return package_build(manifest=manifest, booster=booster, members=boosters), manifest


def fresh_calibration(booster: xgboost.Booster, recalibration: dict | None, *, disease: str,
                      seed: int = CALIBRATION_SEED, n_patients: int = CALIBRATION_PATIENTS) -> dict:
    """Per-drug calibration of the booster's recalibrated probabilities on a fresh cohort: {"calibration_cohort",
    "per_drug"}."""
    cohort = cohort_generate(disease=disease, n_patients=n_patients, seed=seed)
    p = probabilities(booster, xgboost.DMatrix(cohort.X, missing=np.nan, feature_names=cohort.columns,
                                               nthread=PARAMS["nthread"]), cohort.drug_atc, recalibration)
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
                 f"with a top suggestion whose suggested drug {report['retrainings'] - 1} retrained packages all "
                 f"rank first; their single boosters alone all do for {pct(report.get('top_agreement_boosters'))})")
    return (f"On a {report['cohort']} whose true probabilities are known: the model's choices capture "
            f"{pct(report['gain_captured'])} of the gain that choosing per patient can add over giving everyone "
            f"{BY_ATC[report['one_drug_for_all']].name} (achievable {report['achievable_gain'] * 100:.1f} points); "
            f"mean regret against each patient's best drug {report['mean_regret'] * 100:.2f} points; top-suggestion "
            f"agreement {agreement}. Per-drug calibration in metrics.per_drug and metrics.x_evaluation.per_drug.")
