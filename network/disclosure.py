"""What may leave a site: binned counts where no cell holds 1 to 4 patients.

Predictions are binned on a grid shared by every site (GRID_BINS equal steps of the predicted
probability). A site then merges adjacent grid bins, from the lowest probability up, until each merged
bin's two cells (responded, did not respond) hold either no patient or at least MIN_CELL distinct
patients; a remainder too small to stand alone joins the bin below it, and a stratum that cannot form one
such bin is not released at all. Why merging rather than suppression or secure aggregation is in
docs/network.md: suppressing cells biases every metric towards the well-filled bins, and Flower's SecAgg+
would hide the sites' own figures from them (per-site results would be lost) while still needing the rule
applied to the sum.

Each released cell carries sums over its patients (of the logit, its square, the probability, squared
errors) so that the hub computes the Brier score exactly and the AUC and calibration with an error that
tests measure (docs/network.md): never a single patient's value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# The Clinnova network's small-cell rule: no released cell holds fewer than 5 patients.
MIN_CELL = 5
GRID_BINS = 200
# Probabilities are clipped before taking logits so that a 0 or 1 cannot produce an infinite sum.
EPS = 1e-6
CELL_SUMS = ("sum_logit", "sum_logit2", "sum_p", "sum_p2", "sum_se", "sum_se2")


@dataclass
class Unit:
    """One evaluable decision at a site (never leaves the site)."""

    patient: str
    probability: float
    responded: bool


def _cell(units: list[Unit], outcome: int) -> dict:
    p = np.clip(np.array([u.probability for u in units], dtype=float), EPS, 1 - EPS)
    lp = np.log(p / (1 - p))
    se = (p - outcome) ** 2
    return {"y": outcome, "n": len(units), "patients": len({u.patient for u in units}),
            "sum_logit": float(lp.sum()), "sum_logit2": float((lp ** 2).sum()), "sum_p": float(p.sum()),
            "sum_p2": float((p ** 2).sum()), "sum_se": float(se.sum()), "sum_se2": float((se ** 2).sum())}


def _releasable(group: list[Unit], min_cell: int) -> bool:
    for outcome in (True, False):
        patients = len({u.patient for u in group if u.responded is outcome})
        if 0 < patients < min_cell:
            return False
    return len({u.patient for u in group}) >= min_cell


def concordant_pairs(units: list[Unit]) -> float:
    """Mann–Whitney count over this site's own (responder, non-responder) pairs, ties counting ½."""
    p = np.array([u.probability for u in units], dtype=float)
    y = np.array([u.responded for u in units], dtype=bool)
    if y.all() or not y.any():
        return 0.0
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    sorted_p = p[order]
    # Average ranks over ties (1-based), the textbook Mann–Whitney statistic.
    i = 0
    while i < len(p):
        j = i
        while j + 1 < len(p) and sorted_p[j + 1] == sorted_p[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_pos = int(y.sum())
    return float(ranks[y].sum() - n_pos * (n_pos + 1) / 2)


def binned_counts(units: list[Unit], *, min_cell: int = MIN_CELL, grid_bins: int = GRID_BINS) -> dict | None:
    """The releasable summary of one stratum: merged bins of the shared grid, or None when it cannot be released."""
    if not units:
        return None
    grid = [min(grid_bins - 1, int(u.probability * grid_bins)) for u in units]
    order = sorted(range(len(units)), key=lambda i: grid[i])
    bins: list[tuple[int, int, list[Unit]]] = []
    group: list[Unit] = []
    lo = grid[order[0]]
    for k, i in enumerate(order):
        group.append(units[i])
        last_of_grid_bin = k + 1 == len(order) or grid[order[k + 1]] != grid[i]
        if last_of_grid_bin and _releasable(group, min_cell):
            hi = grid[order[k + 1]] if k + 1 < len(order) else grid_bins
            bins.append((lo, hi, group))
            group = []
            lo = hi
    while group:  # a remainder too small to stand alone joins the bins below until it can be released
        if not bins:
            return None
        prev_lo, _, prev = bins.pop()
        group = prev + group
        if _releasable(group, min_cell):
            bins.append((prev_lo, grid_bins, group))
            group = []
    released = []
    for lo, hi, members in bins:
        cells = [_cell([u for u in members if u.responded is bool(outcome)], outcome)
                 for outcome in (1, 0) if any(u.responded is bool(outcome) for u in members)]
        released.append({"lo": lo, "hi": hi, "cells": cells})
    n_pos = sum(u.responded for u in units)
    return {"grid_bins": grid_bins, "bins": released, "n": len(units), "events": n_pos,
            "concordant_pairs": concordant_pairs(units)}


def released_cells(summary: dict) -> list[dict]:
    return [cell for b in summary.get("bins", []) for cell in b["cells"]]


def breaches(payload: dict, *, min_cell: int = MIN_CELL) -> list[str]:
    """Every place in a site's reply where a cell counts 1 to min_cell-1 patients (should be none)."""
    found = []
    for name, summary in (payload.get("strata") or {}).items():
        if summary is None:
            continue
        if 0 < summary["n"] < min_cell:
            found.append(f"{name}: n={summary['n']}")
        for cell in released_cells(summary):
            if 0 < cell["patients"] < min_cell or 0 < cell["n"] < min_cell:
                found.append(f"{name}: cell of {cell['patients']} patients")
    return found


def logit(p: float) -> float:
    p = min(max(p, EPS), 1 - EPS)
    return math.log(p / (1 - p))
