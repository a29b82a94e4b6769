"""The hub's maths from binned counts: pooled AUC within 0.002 of the central one, Brier exact, intervals."""

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from network.disclosure import Unit, binned_counts
from network.metrics import pooled_auc, stratum_metrics


def site(rng, n, shift=0.0, miscalibration=0.0):
    logit = rng.normal(-0.3 + shift, 1.1, n)
    p = 1 / (1 + np.exp(-logit))
    y = rng.random(n) < 1 / (1 + np.exp(-(logit + miscalibration)))
    return p, y


def summaries(sites):
    out = []
    for k, (p, y) in enumerate(sites):
        out.append(binned_counts([Unit(f"{k}-{i}", float(pi), bool(yi)) for i, (pi, yi) in enumerate(zip(p, y))]))
    return out


def test_pooled_auc_from_binned_counts_equals_the_central_auc_within_0_002():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        sites = [site(rng, n, shift) for n, shift in ((200, 0.0), (260, 0.3), (200, -0.2), (320, 0.1))]
        central = roc_auc_score(np.concatenate([y for _, y in sites]), np.concatenate([p for p, _ in sites]))
        assert abs(pooled_auc(summaries(sites))["value"] - central) < 0.002


def test_pooled_auc_is_not_the_average_of_the_site_aucs():
    rng = np.random.default_rng(11)
    # Sites whose risk levels differ: pooling adds the between-site discrimination an average misses.
    sites = [site(rng, 300, shift) for shift in (-1.5, -0.5, 0.5, 1.5)]
    pooled = pooled_auc(summaries(sites))["value"]
    mean_of_sites = np.mean([roc_auc_score(y, p) for p, y in sites])
    central = roc_auc_score(np.concatenate([y for _, y in sites]), np.concatenate([p for p, _ in sites]))
    assert abs(pooled - central) < 0.002
    assert abs(pooled - mean_of_sites) > 0.01


def test_brier_is_exact_and_calibration_recovers_a_well_calibrated_model():
    rng = np.random.default_rng(5)
    sites = [site(rng, 1500) for _ in range(4)]
    m = stratum_metrics(summaries(sites))
    p, y = np.concatenate([p for p, _ in sites]), np.concatenate([y for _, y in sites])
    assert abs(m["brier"]["value"] - brier_score_loss(y, p)) < 1e-4
    assert m["slope"]["low"] < 1 < m["slope"]["high"]
    assert m["intercept"]["low"] < 0 < m["intercept"]["high"]
    assert m["oe"]["low"] < 1 < m["oe"]["high"]
    assert m["auc"]["low"] < m["auc"]["value"] < m["auc"]["high"]


def test_calibration_finds_a_model_that_underestimates_response():
    rng = np.random.default_rng(6)
    sites = [site(rng, 1500, miscalibration=0.8) for _ in range(4)]
    m = stratum_metrics(summaries(sites))
    assert m["intercept"]["low"] > 0.5
    assert m["oe"]["low"] > 1.1
    assert all(point["observed"] >= point["predicted"] - 0.05 for point in m["reliability"])
