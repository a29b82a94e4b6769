"""What the validation report measures beyond AUC and Brier: per-drug calibration with intervals, and, where the
generator's true probabilities are known (the synthetic cohort), whether the model ranks the drugs right.

Ranking metrics compare policies on the same patients, using the generator's probability of response of every
patient on every candidate (Cohort.p_all), restricted to the candidates the patient could start:

- one drug for all: the single candidate with the highest mean true probability, given to everyone;
- personalised oracle: each patient's truly best candidate;
- the model: each patient's candidate with the highest predicted probability.

gain captured = (model − one drug for all) / (oracle − one drug for all), the share of what personalising can
add that the model's choices add (1 = all of it, 0 = no better than one drug for all, < 0 = worse);
mean regret = mean over patients of (best true probability − true probability of the model's choice), in
probability (the report prints percentage points).

Top-suggestion agreement across retrainings: the same patients are scored by R independently retrained
models (another cohort draw, bootstrap and booster seed each); a model gives a patient a top suggestion when
recommendations.tiers.top_suggestion_index finds one in its ensemble members. Agreement is the share of
(patient, retraining) pairs with a top suggestion whose drug is the rank-1 drug of every other retraining.

Calibration per drug: on the held-out patients treated with each drug, the calibration slope (logistic
regression of y on logit p) and calibration-in-the-large (intercept with logit p as offset; Van Calster B et
al., BMC Med 2019;17:230) with 95 % Wald intervals from the observed information, and observed/expected
(O/E = Σy / Σp) with a 95 % interval from the Poisson error of the observed count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommendations.tiers import top_suggestion_index

Z95 = 1.959964
DIGITS = 4


# --- ranking against the generator's truth ----------------------------------------------------------------------


@dataclass(frozen=True)
class Ranking:
    gain_captured: float | None  # None when personalising cannot gain anything on these patients
    mean_regret: float
    achievable_gain: float  # oracle − one drug for all, in probability
    model_gain: float  # model − one drug for all, in probability
    one_drug: int  # the column of the one-drug-for-all policy
    n: int

    def as_dict(self) -> dict:
        return {"gain_captured": _round(self.gain_captured), "mean_regret": _round(self.mean_regret),
                "achievable_gain": _round(self.achievable_gain), "model_gain": _round(self.model_gain),
                "n": self.n}


def ranking_metrics(*, p_true: np.ndarray, p_model: np.ndarray, available: np.ndarray | None = None) -> Ranking:
    """Gain captured and regret of choosing argmax p_model, judged by p_true; both (n_patients, n_drugs)."""
    p_true = np.asarray(p_true, dtype=float)
    p_model = np.asarray(p_model, dtype=float)
    if p_true.shape != p_model.shape or p_true.ndim != 2:
        raise ValueError(f"p_true {p_true.shape} and p_model {p_model.shape} must be the same (n, drugs) shape")
    available = np.ones(p_true.shape, dtype=bool) if available is None else np.asarray(available, dtype=bool)
    if not available.any(axis=1).all():
        raise ValueError("every patient needs at least one available candidate")
    n = len(p_true)
    # One drug for all must be a drug everyone could start.
    for_all = np.flatnonzero(available.all(axis=0))
    if not len(for_all):
        raise ValueError("no candidate is available to every patient, so 'one drug for all' is undefined")
    one_drug = int(for_all[np.argmax(p_true[:, for_all].mean(axis=0))])
    truth = np.where(available, p_true, -np.inf)
    best = truth.max(axis=1)
    chosen = np.where(available, p_model, -np.inf).argmax(axis=1)
    model_value = p_true[np.arange(n), chosen]
    baseline = p_true[:, one_drug].mean()
    achievable = float(best.mean() - baseline)
    model_gain = float(model_value.mean() - baseline)
    captured = model_gain / achievable if achievable > 1e-9 else None
    return Ranking(gain_captured=captured, mean_regret=float((best - model_value).mean()),
                   achievable_gain=achievable, model_gain=model_gain, one_drug=one_drug, n=n)


@dataclass(frozen=True)
class Agreement:
    share: float | None  # None when no retraining gave anyone a top suggestion
    with_top: float  # share of (patient, retraining) pairs that got a top suggestion
    pairs: int  # (patient, retraining) pairs with a top suggestion
    retrainings: int

    def as_dict(self) -> dict:
        return {"top_agreement": _round(self.share), "with_top_suggestion": _round(self.with_top),
                "pairs": self.pairs, "retrainings": self.retrainings}


def top_agreement(member_probabilities: list[np.ndarray], *, available: np.ndarray | None = None) -> Agreement:
    """Agreement of the top suggestion across retrainings.

    member_probabilities: one array per retraining, shaped (n_members, n_patients, n_drugs), for the same
    patients. A retraining's rank-1 drug is the highest mean over its members (the order tiers uses).
    """
    stacks = [np.asarray(m, dtype=float) for m in member_probabilities]
    if len(stacks) < 2:
        raise ValueError("agreement needs at least two retrainings")
    n_patients, n_drugs = stacks[0].shape[1:]
    available = np.ones((n_patients, n_drugs), dtype=bool) if available is None else np.asarray(available, bool)
    rank1 = np.stack([np.where(available, m.mean(axis=0), -np.inf).argmax(axis=1) for m in stacks])
    pairs = agreeing = 0
    for r, members in enumerate(stacks):
        others = np.delete(rank1, r, axis=0)
        for i in range(n_patients):
            columns = np.flatnonzero(available[i])
            top = top_suggestion_index(members[:, i, columns])
            if top is None:
                continue
            pairs += 1
            agreeing += bool((others[:, i] == columns[top]).all())
    total = n_patients * len(stacks)
    return Agreement(share=agreeing / pairs if pairs else None, with_top=pairs / total, pairs=pairs,
                     retrainings=len(stacks))


# --- calibration with intervals -----------------------------------------------------------------------------------


def calibration(*, y: np.ndarray, p: np.ndarray) -> dict:
    """Slope, intercept (logit p as offset) and O/E, each with a 95 % interval; None where undefined."""
    y = np.asarray(y, dtype=float)
    logit = _logit(np.asarray(p, dtype=float))
    result = {"n": int(len(y)), "calibration_slope": None, "slope_interval": None,
              "calibration_intercept": None, "intercept_interval": None, "oe": None, "oe_interval": None}
    if len(y) == 0:
        return result
    observed, expected = float(y.sum()), float(np.clip(p, 0, 1).sum())
    if expected > 0:
        oe = observed / expected
        result["oe"] = _round(oe)
        if observed > 0:
            half = Z95 / np.sqrt(observed)
            result["oe_interval"] = [_round(oe * np.exp(-half)), _round(oe * np.exp(half))]
    if 0 < observed < len(y):
        fit = _logistic_fit(y=y, x=logit)
        if fit is not None:
            (_a, b), cov = fit
            se = float(np.sqrt(cov[1, 1]))
            result["calibration_slope"] = _round(b)
            result["slope_interval"] = [_round(b - Z95 * se), _round(b + Z95 * se)]
        a, info = _offset_intercept(y=y, offset=logit)
        se = 1 / np.sqrt(info) if info > 0 else float("nan")
        result["calibration_intercept"] = _round(a)
        result["intercept_interval"] = [_round(a - Z95 * se), _round(a + Z95 * se)]
    return result


def _logistic_fit(*, y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Maximum-likelihood (intercept, slope) of logit P(y) = a + b x by Newton's method, with the inverse
    observed information as covariance; None if it does not converge (separation)."""
    X = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    for _ in range(100):
        q = 1 / (1 + np.exp(-(X @ beta)))
        info = X.T @ (X * (q * (1 - q))[:, None])
        try:
            step = np.linalg.solve(info, X.T @ (y - q))
        except np.linalg.LinAlgError:
            return None
        beta += step
        if np.abs(step).max() < 1e-10:
            q = 1 / (1 + np.exp(-(X @ beta)))
            info = X.T @ (X * (q * (1 - q))[:, None])
            return beta, np.linalg.inv(info)
    return None


def _offset_intercept(*, y: np.ndarray, offset: np.ndarray) -> tuple[float, float]:
    """The a solving Σ sigmoid(offset + a) = Σ y, and the information Σ q(1 − q) at it."""
    a = 0.0
    for _ in range(100):
        q = 1 / (1 + np.exp(-(offset + a)))
        info = float((q * (1 - q)).sum())
        step = (y.sum() - q.sum()) / max(info, 1e-12)
        a += step
        if abs(step) < 1e-12:
            break
    q = 1 / (1 + np.exp(-(offset + a)))
    return float(a), float((q * (1 - q)).sum())


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def _round(value):
    return None if value is None else round(float(value), DIGITS)
