"""No released cell counts 1 to 4 patients: bins are merged, or a stratum is withheld."""

import random

from network.disclosure import MIN_CELL, Unit, binned_counts, breaches, released_cells


def units(n, seed=1, patients=None):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = rng.random()
        out.append(Unit(patient=str(i if patients is None else i % patients), probability=p, responded=rng.random() < p))
    return out


def test_every_released_cell_holds_none_or_at_least_five_patients():
    summary = binned_counts(units(300))
    cells = released_cells(summary)
    assert len(summary["bins"]) > 10
    assert all(c["patients"] == 0 or c["patients"] >= MIN_CELL for c in cells)
    assert sum(c["n"] for c in cells) == 300
    assert breaches({"strata": {"overall": summary}}) == []


def test_a_stratum_with_four_responders_is_withheld_whole():
    few = [Unit(str(i), 0.1 + i / 100, i < 4) for i in range(40)]
    assert binned_counts(few) is None


def test_distinct_patients_count_not_decisions():
    # 30 decisions of only 4 patients: never releasable, however many rows.
    assert binned_counts(units(30, patients=4)) is None


def test_bins_tile_the_shared_grid_without_overlap():
    summary = binned_counts(units(200, seed=3))
    edges = [(b["lo"], b["hi"]) for b in summary["bins"]]
    assert all(hi > lo for lo, hi in edges)
    assert all(edges[i][1] == edges[i + 1][0] for i in range(len(edges) - 1))
    assert edges[-1][1] == summary["grid_bins"]


def test_the_checker_finds_a_small_cell_if_one_were_sent():
    summary = binned_counts(units(200, seed=4))
    summary["bins"][0]["cells"][0]["patients"] = 3
    assert breaches({"strata": {"overall": summary}})
