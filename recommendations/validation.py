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

Top-suggestion agreement across retrainings: the model gives a patient a top suggestion when
recommendations.tiers.top_suggestion_index finds one in its ensemble members; the same patients are scored by
independently retrained models (another cohort draw and booster seed each; recommendations.training_evaluation
passes the order each retrained package's page would show). Agreement is the share of patients with a top
suggestion whose suggested drug every retrained model ranks first.

Calibration per drug: on the held-out patients treated with each drug, the calibration slope (logistic
regression of y on logit p) and calibration-in-the-large (intercept with logit p as offset; Van Calster B et
al., BMC Med 2019;17:230) with 95 % Wald intervals from the observed information, and observed/expected
(O/E = Σy / Σp) with a 95 % interval from the Poisson error of the observed count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommendations.tiers import TOP_SUGGESTION_CONFIDENCE, top_suggestion_index

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
    share: float | None  # None when the model gave nobody a top suggestion
    with_top: float  # share of patients who got a top suggestion
    patients: int  # patients with a top suggestion
    retrainings: int  # the shipped model and the retrained ones

    def as_dict(self) -> dict:
        return {"top_agreement": _round(self.share), "with_top_suggestion": _round(self.with_top),
                "patients_with_top": self.patients, "retrainings": self.retrainings}


def top_agreement(member_probabilities: np.ndarray, retrained: list[np.ndarray], *,
                  available: np.ndarray | None = None, confidence: float = TOP_SUGGESTION_CONFIDENCE) -> Agreement:
    """Agreement of the model's top suggestions with retrained models.

    member_probabilities: the model's ensemble, (n_members, n_patients, n_drugs); retrained: one
    (n_patients, n_drugs) array of probabilities per retrained model, for the same patients. Among the patients
    given a top suggestion (recommendations.tiers.top_suggestion_index on their available candidates), the share
    whose suggested drug every retrained model ranks first.
    """
    members = np.asarray(member_probabilities, dtype=float)
    if not retrained:
        raise ValueError("agreement needs at least one retrained model")
    n_patients, n_drugs = members.shape[1:]
    available = np.ones((n_patients, n_drugs), dtype=bool) if available is None else np.asarray(available, bool)
    rank1 = np.stack([np.where(available, np.asarray(p, dtype=float), -np.inf).argmax(axis=1) for p in retrained])
    with_top = agreeing = 0
    for i in range(n_patients):
        columns = np.flatnonzero(available[i])
        top = top_suggestion_index(members[:, i, columns], confidence=confidence)
        if top is None:
            continue
        with_top += 1
        agreeing += bool((rank1[:, i] == columns[top]).all())
    return Agreement(share=agreeing / with_top if with_top else None, with_top=with_top / n_patients,
                     patients=with_top, retrainings=len(retrained) + 1)


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


# --- the printed report ---------------------------------------------------------------------------------------------

# The figures the targets name: gain captured ≥ 60 %, top-suggestion agreement ≥ 90 %, per-drug
# calibration slopes within 0.8–1.2.
TARGETS = {"gain_captured": 0.60, "top_agreement": 0.90, "slope": (0.8, 1.2)}
REPORT_HEADER = ["disease", "gain captured", "over retrainings", "mean regret", "achievable", "top agreement",
                 "(single boosters)", "with top suggestion", "slopes (min–max)", "slopes in 0.8–1.2"]
DRUG_HEADER = ["disease", "ATC", "split", "n", "slope (95 % CI)", "intercept (95 % CI)", "O/E (95 % CI)"]


def report_row(disease: str, manifest: dict) -> list[str]:
    """One line of the ranking report from a package manifest ("–" where a figure was not measured)."""
    e = (manifest.get("metrics") or {}).get("x_evaluation") or {}
    slopes = [c.get("calibration_slope") for c in (e.get("per_drug") or {}).values()]
    slopes = [s for s in slopes if s is not None]
    low, high = TARGETS["slope"]
    return [
        disease, _pct(e.get("gain_captured")),
        "–" if not e.get("gain_captured_range") else "–".join(_pct(v) for v in e["gain_captured_range"]),
        _points(e.get("mean_regret")), _points(e.get("achievable_gain")), _pct(e.get("top_agreement")),
        _pct(e.get("top_agreement_boosters")), _pct(e.get("with_top_suggestion")),
        f"{min(slopes):.2f}–{max(slopes):.2f}" if slopes else "–",
        f"{sum(low <= s <= high for s in slopes)}/{len(slopes)}" if slopes else "–",
    ]


def drug_rows(disease: str, manifest: dict) -> list[list[str]]:
    """Per-drug calibration lines: on the held-out test split and on the fresh evaluation cohort."""
    metrics = manifest.get("metrics") or {}
    rows = []
    fresh = (metrics.get("x_evaluation") or {}).get("per_drug") or {}
    for atc, m in (metrics.get("per_drug") or {}).items():
        for split, c in (("test", m.get("x_calibration")), ("fresh", fresh.get(atc))):
            if c:
                rows.append([disease, atc, split, str(c["n"]), _with_interval(c, "calibration_slope", "slope_interval"),
                             _with_interval(c, "calibration_intercept", "intercept_interval"),
                             _with_interval(c, "oe", "oe_interval")])
    return rows


def _with_interval(c: dict, key: str, interval: str) -> str:
    if c.get(key) is None:
        return "–"
    ci = c.get(interval)
    return f"{c[key]:.2f}" + (f" ({ci[0]:.2f}–{ci[1]:.2f})" if ci else "")


def _pct(value) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _points(value) -> str:
    return "–" if value is None else f"{value * 100:.2f} pt"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
