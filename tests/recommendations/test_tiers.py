"""Tiers and the top suggestion from a bootstrap ensemble's member probabilities."""

import numpy as np
import pytest

from recommendations.tiers import (
    TOP_SUGGESTION_CONFIDENCE,
    beats,
    interval,
    order_by_mean,
    rank_tiers,
    tiers_and_top,
    top_suggestion_index,
)


def _members(*columns):
    return np.column_stack([np.asarray(c, dtype=float) for c in columns])


def test_a_one_point_lead_within_the_members_spread_shares_the_first_tier():
    rng = np.random.default_rng(1)
    a = 0.40 + rng.normal(0, 0.02, 20)
    b = 0.39 + rng.normal(0, 0.02, 20)
    p = _members(a, b)
    assert [t.indices for t in rank_tiers(p)] == [(0, 1)]
    assert top_suggestion_index(p) is None


def test_a_drug_that_beats_every_other_in_every_member_is_the_top_suggestion_alone_in_tier_one():
    p = _members([0.6, 0.62, 0.61, 0.63], [0.40, 0.41, 0.42, 0.39], [0.41, 0.40, 0.38, 0.42])
    tiers = rank_tiers(p)
    assert tiers[0].number == 1 and tiers[0].indices == (0,)
    assert set(tiers[1].indices) == {1, 2} and tiers[1].number == 2
    assert top_suggestion_index(p) == 0


def test_tiers_split_at_the_confidence_threshold():
    # Column 0 beats column 1 in 8 of 10 members (exactly 0.8): a new tier; 7 of 10: same tier.
    a = np.full(10, 0.5)
    b = np.array([0.4] * 8 + [0.6] * 2)
    assert beats(_members(a, b), 0, 1) == pytest.approx(0.8)
    assert [t.indices for t in rank_tiers(_members(a, b))] == [(0,), (1,)]
    b7 = np.array([0.4] * 7 + [0.6] * 3)
    assert [t.indices for t in rank_tiers(_members(a, b7))] == [(0, 1)]


def test_a_leader_best_in_8_of_10_members_opens_its_own_tier_but_needs_9_of_10_to_be_the_top_suggestion():
    lead = np.full(10, 0.5)
    eight = np.array([0.6] * 2 + [0.4] * 8)
    assert [t.indices for t in rank_tiers(_members(lead, eight))] == [(0,), (1,)]
    assert top_suggestion_index(_members(lead, eight)) is None
    nine = np.array([0.6] + [0.4] * 9)
    assert top_suggestion_index(_members(lead, nine)) == 0


def test_the_top_suggestion_needs_to_beat_the_whole_field_at_once_not_each_drug_alone():
    # The leader beats B in 8/10 members and C in 8/10, but is the single best in only 6/10.
    lead = np.full(10, 0.5)
    b = np.array([0.6, 0.6] + [0.4] * 8)
    c = np.array([0.4, 0.4, 0.6, 0.6] + [0.4] * 6)
    p = _members(lead, b, c)
    assert beats(p, 0, 1) >= 0.8 and beats(p, 0, 2) >= 0.8
    assert top_suggestion_index(p) is None


def test_ties_in_every_member_count_half_and_never_separate():
    p = _members([0.5] * 5, [0.5] * 5)
    assert beats(p, 0, 1) == 0.5
    assert len(rank_tiers(p)) == 1
    assert top_suggestion_index(p) is None


def test_a_single_booster_gives_no_order_and_no_top_suggestion():
    p = _members([0.9], [0.1], [0.5])
    assert [t.indices for t in rank_tiers(p)] == [(0, 2, 1)]
    assert top_suggestion_index(p) is None


def test_a_single_candidate_is_never_called_top():
    assert top_suggestion_index(_members([0.5, 0.6, 0.7])) is None
    assert rank_tiers(_members([0.5, 0.6, 0.7]))[0].indices == (0,)


def test_tiers_cover_every_column_once_in_order_of_mean():
    rng = np.random.default_rng(7)
    p = rng.uniform(0, 1, size=(15, 9))
    tiers = rank_tiers(p)
    flat = [j for t in tiers for j in t.indices]
    assert sorted(flat) == list(range(9))
    means = p.mean(axis=0)
    assert all(means[x] >= means[y] for x, y in zip(flat, flat[1:]))
    assert [t.number for t in tiers] == list(range(1, len(tiers) + 1))


def test_the_interval_is_the_members_5th_to_95th_percentile():
    p = _members(np.linspace(0, 1, 101))
    low, high = interval(p)
    assert low[0] == pytest.approx(0.05) and high[0] == pytest.approx(0.95)


def test_it_rejects_a_matrix_that_is_not_members_by_drugs():
    with pytest.raises(ValueError, match="2-D"):
        rank_tiers(np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="NaN"):
        top_suggestion_index(np.array([[0.1, np.nan], [0.2, 0.3]]))


def _tiers_by_definition(p, confidence=0.8):
    """The module doc's definition, pair by pair with `beats`: what tiers_and_top computes in one array step."""
    order = order_by_mean(p)
    tiers = [[order[0]]]
    for prev, j in zip(order, order[1:]):
        if beats(p, prev, j) >= confidence:
            tiers.append([j])
        else:
            tiers[-1].append(j)
    return [tuple(t) for t in tiers]


def test_tiers_computed_in_one_array_step_match_the_pairwise_definition_on_random_ensembles():
    rng = np.random.default_rng(7)
    tops = 0
    for _ in range(300):
        n_members, n_drugs = int(rng.integers(2, 12)), int(rng.integers(1, 11))
        centre = rng.uniform(0.2, 0.8, n_drugs)
        p = np.clip(centre + rng.normal(0, rng.choice([0.01, 0.05, 0.2]), (n_members, n_drugs)), 0, 1)
        if rng.random() < 0.2:
            p[:, -1] = p[:, 0]  # exact ties count half
        tiers, top = tiers_and_top(p)
        assert [t.indices for t in tiers] == _tiers_by_definition(p)
        leader = order_by_mean(p)[0]
        wins = np.mean(p[:, leader] > np.delete(p, leader, axis=1).max(axis=1)) if n_drugs > 1 else 0.0
        assert top == (leader if n_drugs > 1 and wins >= TOP_SUGGESTION_CONFIDENCE else None)
        tops += top is not None
    assert 0 < tops < 300  # both answers occurred
