"""Per-drug logistic recalibration: fitted from summable sums, checked in the manifest, applied to margins and SHAP."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost

from recommendations.canary import canary_check
from recommendations.recalibration import (
    SLOPE_RANGE,
    contributions_recalibrate,
    margins_recalibrate,
    members_coefficients,
    recalibration_fit,
    recalibration_pooled,
    recalibration_problem,
    recalibration_sums,
)
from recommendations.validation import calibration
from tests.recommendations.test_model_package import (
    DRUGS,
    MAX_BYTES,
    _manifest,
    _refused,
    _with_manifest,
    package_build,
    package_load,
)

A, B = "L04AB02", "L04AG05"


def _rows(n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Margins of a model too extreme for drug A (true slope 0.6) and too flat for B (true slope 1.5, shifted)."""
    rng = np.random.default_rng(seed)
    keys = np.where(rng.random(n) < 0.5, A, B)
    margins = rng.normal(-0.5, 1.0, n)
    true = np.where(keys == A, 0.6 * margins, 0.3 + 1.5 * margins)
    y = (rng.random(n) < 1 / (1 + np.exp(-true))).astype(float)
    return margins, y, keys


def test_the_pooled_fit_recovers_each_drugs_intercept_and_slope():
    margins, y, keys = _rows(200_000)
    block = recalibration_pooled(margins, y, keys, source="test rows")
    assert block["drugs"][A]["slope"] == pytest.approx(0.6, abs=0.03)
    assert block["drugs"][A]["intercept"] == pytest.approx(0.0, abs=0.03)
    assert block["drugs"][B]["slope"] == pytest.approx(1.5, abs=0.05)
    assert block["drugs"][B]["intercept"] == pytest.approx(0.3, abs=0.05)
    assert block["drugs"][A]["n"] + block["drugs"][B]["n"] == 200_000
    assert recalibration_problem(block, [A, B]) is None


def test_recalibrated_margins_have_slope_one_on_new_rows_of_the_same_kind():
    margins, y, keys = _rows(100_000, seed=1)
    block = recalibration_pooled(margins, y, keys, source="test rows")
    fresh_m, fresh_y, fresh_keys = _rows(100_000, seed=2)
    recalibrated = margins_recalibrate(fresh_m, fresh_keys, block)
    for drug in (A, B):
        rows = fresh_keys == drug
        before = calibration(y=fresh_y[rows], p=1 / (1 + np.exp(-fresh_m[rows])))["calibration_slope"]
        after = calibration(y=fresh_y[rows], p=1 / (1 + np.exp(-recalibrated[rows])))["calibration_slope"]
        assert abs(after - 1) < 0.06 < abs(before - 1), (drug, before, after)


def test_sites_summed_sums_give_the_pooled_fit_in_a_few_newton_rounds():
    margins, y, keys = _rows(40_000, seed=3)
    sites = np.array_split(np.arange(len(y)), 4)
    block = None
    for _ in range(6):  # one round: every site sends its sums at the current estimate, the hub takes a step
        sums = [recalibration_sums(margins[s], y[s], keys[s], block) for s in sites]
        block = recalibration_fit(sums, block, source="four sites")
    pooled = recalibration_pooled(margins, y, keys, source="pooled")
    for drug in (A, B):
        for key in ("intercept", "slope"):
            assert block["drugs"][drug][key] == pytest.approx(pooled["drugs"][drug][key], abs=1e-5)
        assert block["drugs"][drug]["n"] == pooled["drugs"][drug]["n"]


def test_the_sums_of_sites_add_up_to_the_sums_of_their_rows_together():
    margins, y, keys = _rows(1_000, seed=4)
    whole = recalibration_sums(margins, y, keys)
    parts = [recalibration_sums(margins[s], y[s], keys[s]) for s in (slice(0, 300), slice(300, None))]
    for drug, values in whole.items():
        np.testing.assert_allclose(np.add(parts[0][drug], parts[1][drug]), values, rtol=1e-12)
    assert whole[A][0] == (keys == A).sum()


def test_a_drug_with_too_few_responders_is_left_unrecalibrated():
    margins, y, keys = _rows(2_000, seed=5)
    y[keys == B] = 0.0
    y[np.flatnonzero(keys == B)[:5]] = 1.0
    block = recalibration_pooled(margins, y, keys, source="test rows")
    assert A in block["drugs"] and B not in block["drugs"]


def test_contributions_are_scaled_so_base_plus_values_is_the_recalibrated_margin():
    rng = np.random.default_rng(6)
    contribs = rng.normal(size=(4, 7))
    keys = np.array([A, B, A, "L04AC05"])
    block = {"method": "m", "source": "s", "drugs": {A: {"intercept": 0.2, "slope": 0.8, "n": 10},
                                                     B: {"intercept": -0.1, "slope": 1.3, "n": 10}}}
    out = contributions_recalibrate(contribs, keys, block)
    margins = margins_recalibrate(contribs.sum(axis=1), keys, block)
    np.testing.assert_allclose(out.sum(axis=1), margins, atol=1e-12)
    np.testing.assert_allclose(out[0, :-1], 0.8 * contribs[0, :-1])
    assert out[1, -1] == pytest.approx(-0.1 + 1.3 * contribs[1, -1])
    np.testing.assert_array_equal(out[3], contribs[3])  # a drug the block does not name is unchanged


# --- the manifest block ----------------------------------------------------------------------------------------


def _block(**entry) -> dict:
    return {"method": "logistic", "source": "held-out rows",
            "drugs": {DRUGS[0]: {"intercept": 0.1, "slope": 0.9, "n": 500, **entry}}}


@pytest.mark.parametrize("block,mentions", [
    (_block(slope=float("nan")), "slope must be a finite number"),
    (_block(intercept=float("inf")), "intercept must be a finite number"),
    (_block(slope=-1.0), "slope -1.0 is outside"),
    (_block(slope=SLOPE_RANGE[1] * 2), "is outside 0.25–4.0"),
    (_block(intercept=9.0), "intercept 9.0 is outside ±5.0"),
    (_block(n=0), "n must be a whole number ≥ 1"),
    (_block(slope="1.0"), "slope must be a finite number, got '1.0'"),
    ({"method": "m", "source": "s", "drugs": {"L04AA24": {"intercept": 0.0, "slope": 1.0, "n": 9}}},
     "'L04AA24' is not one of manifest.drugs"),
    ({"method": "m", "drugs": {}}, "manifest.recalibration.source must be a non-empty string"),
    ({"method": "m", "source": "s", "drugs": [1, 2]}, "manifest.recalibration.drugs must be an object"),
    (_block(weight=2.0), "must hold exactly intercept, slope and n"),
])
def test_a_malformed_recalibration_block_is_refused_naming_the_key(package, block, mentions):
    _refused(_with_manifest(package, lambda m: m.update(recalibration=block)), "manifest_schema",
             "manifest.recalibration", mentions)


def _with_members(blocks) -> dict:
    return {**_manifest(), "ensemble": {"members": 2, "method": "retrainings", "interval_level": 0.9,
                                        "tier_confidence": 0.8, "recalibration": blocks}}


@pytest.mark.parametrize("blocks,mentions", [
    ({"0": _block()}, "manifest.ensemble.recalibration must be a list with one block (or null) per member"),
    ([_block()], "manifest.ensemble.recalibration holds 1 blocks for 2 members"),
    ([_block(), _block(slope=9.0)], "manifest.ensemble.recalibration[1].drugs.L04AB02.slope 9.0 is outside"),
    ([None, {"method": "m", "drugs": {}}], "manifest.ensemble.recalibration[1].source must be a non-empty string"),
])
def test_a_malformed_member_recalibration_is_refused_naming_the_member(blocks, mentions):
    from recommendations.package_manifest import manifest_problem
    assert mentions in manifest_problem(_with_members(blocks))


def test_member_recalibration_blocks_one_per_member_or_null_pass_the_check():
    from recommendations.package_manifest import manifest_problem
    assert manifest_problem(_with_members([_block(), None])) is None


def test_a_package_without_a_recalibration_block_still_loads(package):
    assert "recalibration" not in package_load(package, max_bytes=MAX_BYTES)[0]


def test_the_canary_scores_with_the_recalibration_applied(booster):
    manifest = {**_manifest(), "recalibration": _block()}
    data = package_build(manifest=manifest, booster=booster)
    passed, message = canary_check(data)
    assert passed and "1 drugs recalibrated" in message, message


@pytest.fixture(scope="module")
def booster():
    from tests.recommendations.test_model_package import FEATURES, _booster, column_names
    return _booster(len(FEATURES) + len(DRUGS), names=column_names(FEATURES, DRUGS))


@pytest.fixture(scope="module")
def package(booster) -> bytes:
    return package_build(manifest=_manifest(), booster=booster)


def test_scoring_applies_the_recalibration_to_the_booster_its_shap_values_and_every_member():
    """Stored values keep one base value per visit: the drug's shifted base goes to its own indicator."""
    from recommendations.canary import reference_rows
    from recommendations.ensemble import ensemble_join
    from recommendations.scoring import LoadedModel
    from tests.recommendations.test_model_package import FEATURES, _booster, column_names

    # As loaded for scoring: without column names (recommendations.package clears them).
    booster, *members = [_booster(len(FEATURES) + len(DRUGS)) for _ in range(3)]
    rows = reference_rows(FEATURES, DRUGS)
    block = {"method": "m", "source": "s", "drugs": {DRUGS[0]: {"intercept": 0.4, "slope": 0.5, "n": 100},
                                                     DRUGS[2]: {"intercept": -0.3, "slope": 1.7, "n": 100}}}
    plain = LoadedModel(1, "crohns_disease", FEATURES, DRUGS, column_names(FEATURES, DRUGS), booster, rules={},
                        ensemble=ensemble_join(members, reference=rows))
    recalibrated = LoadedModel(**{**plain.__dict__, "recalibration": block})
    matrix = xgboost.DMatrix(rows, missing=np.nan, nthread=1)
    keys = np.tile(np.asarray(DRUGS), len(rows) // len(DRUGS))
    raw = booster.predict(matrix, output_margin=True)
    expected = margins_recalibrate(raw, keys, block)
    contribs = recalibrated.contributions_of(matrix)
    np.testing.assert_allclose(contribs.sum(axis=1), expected, atol=1e-4)
    assert np.ptp(contribs[:, -1]) == 0  # one base value for every drug of a visit
    n_f = len(FEATURES)
    first = np.flatnonzero(keys == DRUGS[0])
    np.testing.assert_allclose(contribs[first, :n_f], 0.5 * plain.contributions_of(matrix)[first, :n_f], atol=1e-6)
    untouched = np.flatnonzero(keys == DRUGS[1])
    np.testing.assert_allclose(contribs[untouched], plain.contributions_of(matrix)[untouched], atol=1e-6)
    np.testing.assert_allclose(recalibrated.probabilities_of(matrix), 1 / (1 + np.exp(-expected)), atol=1e-6)
    member_margins = np.log(1 / plain.members_of(matrix) - 1) * -1
    np.testing.assert_allclose(recalibrated.members_of(matrix),
                               1 / (1 + np.exp(-margins_recalibrate(member_margins, keys, block))), atol=1e-6)
    # Members with blocks of their own: each member's column follows its own block, not the booster's.
    own = [{"method": "m", "source": "s", "drugs": {DRUGS[1]: {"intercept": -0.2, "slope": 1.3, "n": 100}}}, None]
    per_member = LoadedModel(**{**recalibrated.__dict__, "member_coefficients": members_coefficients(
        block, own, DRUGS, 2)})
    expected_members = np.column_stack([margins_recalibrate(member_margins[:, k], keys, own[k]) for k in range(2)])
    np.testing.assert_allclose(per_member.members_of(matrix), 1 / (1 + np.exp(-expected_members)), atol=1e-6)
    np.testing.assert_allclose(per_member.probabilities_of(matrix), 1 / (1 + np.exp(-expected)), atol=1e-6)
