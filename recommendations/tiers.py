"""Tiers and the top suggestion: which drugs a bootstrap ensemble can tell apart, and which one leads.

Input everywhere is a matrix of probabilities, one row per ensemble member (a booster trained on a
bootstrap resample of the cohort) and one column per rankable candidate drug. The members' spread is
the model's uncertainty about each drug's probability (bootstrap aggregation, Breiman 1996,
"Bagging predictors", Machine Learning 24:123-140; the percentile interval, Efron & Tibshirani 1993,
"An Introduction to the Bootstrap", ch. 13).

- "A beats B" with confidence c: A's probability exceeds B's in a share c of the members (ties count
  half), i.e. the bootstrap estimate of P(p_A > p_B).
- Tiers: drugs are ordered by their mean probability over the members; walking down that order, a
  drug starts a new tier only if the drug before it beats it with confidence >= `confidence`
  (0.8 by default, the threshold of issue 12). Drugs inside a tier cannot be told apart and are shown
  as "similar", not in order. Chaining is deliberate: if A~B and B~C, all three share a tier even when
  A beats C, because the page could not say where B goes.
- Top suggestion: the leading drug, only if it is the single best drug in a share >= TOP_SUGGESTION_CONFIDENCE
  (0.9) of the members (it beats the whole field at once, which implies beating each other drug pairwise with
  at least that confidence, so a top suggestion is always alone in tier 1). The issue's rule is "beats every
  other drug with at least 80 % confidence"; 0.9 was chosen by measurement (docs/synthetic-cohort.md,
  "Top-suggestion agreement"): with members that are retrainings on new cohort draws, each recalibrated on its
  own draw, four retrained packages repeated the top suggestion of each of five packages for 72-84 % of MS
  patients at 0.8 and for 90-97 % at 0.9 (RA 96-98 % and 97-99 %; 150,000-patient cohorts). A suggestion that
  four retrainings must all repeat needs more than an 80 % lead in one ensemble.

With fewer than two members there is no measure of uncertainty at all (an old single-booster model
package): every drug shares one tier and there is no top suggestion — the page cannot claim an order
it cannot support.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_CONFIDENCE = 0.8
TOP_SUGGESTION_CONFIDENCE = 0.9
INTERVAL_LEVEL = 0.9


@dataclass(frozen=True)
class Tier:
    number: int  # 1 = best tier
    indices: tuple[int, ...]  # columns of the input matrix, best mean first


def _as_members(member_probabilities) -> np.ndarray:
    p = np.asarray(member_probabilities, dtype=float)
    if p.ndim != 2:
        raise ValueError(f"member_probabilities must be 2-D (n_members, n_drugs), got shape {p.shape}")
    if np.isnan(p).any():
        raise ValueError("member_probabilities contains NaN")
    return p


def beats(member_probabilities, a: int, b: int) -> float:
    """Share of members in which drug column `a` has a higher probability than `b` (ties count half)."""
    p = _as_members(member_probabilities)
    return float(np.mean(p[:, a] > p[:, b]) + 0.5 * np.mean(p[:, a] == p[:, b]))


def order_by_mean(member_probabilities) -> list[int]:
    """Columns ordered by mean probability over the members, best first (stable for ties)."""
    return _order(_as_members(member_probabilities))


def _order(p: np.ndarray) -> list[int]:
    # Column by column, not p.mean(axis=0): that sums in another order and can differ in the last bit, which
    # would reorder drugs whose means tie.
    # sum / n is what np.mean computes for a float column, without its Python-level wrapper.
    means = [-(p[:, j].sum() / p.shape[0]) for j in range(p.shape[1])]
    return sorted(range(p.shape[1]), key=means.__getitem__)


def rank_tiers(member_probabilities, *, confidence: float = DEFAULT_CONFIDENCE) -> list[Tier]:
    """Group the drug columns into tiers of drugs that the members cannot tell apart (see module doc)."""
    return tiers_and_top(member_probabilities, confidence=confidence)[0]


def top_suggestion_index(member_probabilities, *, confidence: float = TOP_SUGGESTION_CONFIDENCE) -> int | None:
    """The column of the drug that is the single best in >= `confidence` of the members, else None."""
    return tiers_and_top(member_probabilities, top_confidence=confidence)[1]


def tiers_and_top(member_probabilities, *, confidence: float = DEFAULT_CONFIDENCE,
                  top_confidence: float = TOP_SUGGESTION_CONFIDENCE) -> tuple[list[Tier], int | None]:
    """rank_tiers (at `confidence`) and top_suggestion_index (at `top_confidence`) of one matrix, read once: the
    scoring pipeline asks both for every visit, and this is the same arithmetic as `beats` for each neighbouring
    pair, in one array operation."""
    p = _as_members(member_probabilities)
    n_members, n_drugs = p.shape
    if n_drugs == 0:
        return [], None
    order = _order(p)
    if n_members < 2:
        return [Tier(1, tuple(order))], None
    # beats(prev, next) for every neighbouring pair in mean order: shares of members (ties count half).
    ahead, behind = p[:, order[:-1]], p[:, order[1:]]
    shares = np.mean(ahead > behind, axis=0) + 0.5 * np.mean(ahead == behind, axis=0)
    tiers: list[list[int]] = [[order[0]]]
    for j, share in zip(order[1:], shares.tolist()):
        if share >= confidence:
            tiers.append([j])
        else:
            tiers[-1].append(j)
    top = None
    # One rankable candidate: nothing to beat, and "top" would suggest a comparison that never was.
    if n_drugs > 1:
        leader = order[0]
        others = np.delete(p, leader, axis=1)
        if np.mean(p[:, leader] > others.max(axis=1)) >= top_confidence:
            top = leader
    return [Tier(n, tuple(cols)) for n, cols in enumerate(tiers, start=1)], top


def interval(member_probabilities, *, level: float = INTERVAL_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Per-column percentile interval over the members (e.g. 5th and 95th percentile for level 0.9)."""
    p = _as_members(member_probabilities)
    tail = (1.0 - level) / 2.0 * 100.0
    return np.percentile(p, tail, axis=0), np.percentile(p, 100.0 - tail, axis=0)
