"""The federated per-drug recalibration: the sites' sums give the pooled fit, and small cells are not sent."""

import numpy as np
import xgboost

from network.training import booster_bytes, params, site_data
from network.training_calibration import (
    SITE_MIN_EVENTS,
    federated_recalibrate,
    recalibration_final,
    recalibration_step,
    shrinkage_weights,
    site_recalibration_sums,
)
from network.training_compare import split_make
from recommendations.recalibration import recalibration_pooled, recalibration_problem, recalibration_sums


def small_model(split):
    booster = xgboost.train(params(seed=3), split.pooled.train, num_boost_round=25, verbose_eval=False)
    return booster, booster_bytes(booster)


def test_the_sites_summed_newton_steps_reach_the_pooled_fit_of_the_rows_they_used_then_shrunk_towards_none():
    split = split_make(disease="crohns_disease", seed=3, n_patients=6000)
    booster, model = small_model(split)
    fit = federated_recalibrate(model=model, sites=split.sites, drugs=split.cohort.drugs)
    block = fit["recalibration"] or {"drugs": {}}
    assert recalibration_problem({**block, "method": "m", "source": "s"}, split.cohort.drugs) is None
    assert 2 <= fit["steps"] <= 6
    # The same fit in one place, on the rows the sites summed: per site, its drugs with ten of each outcome.
    margins, outcomes, drugs = [], [], []
    senders = {}
    for data in split.sites.values():
        m = booster.predict(data.validation, output_margin=True)
        y, keys = data.validation.get_label(), data.validation_drugs
        for drug in set(keys.tolist()):
            rows = keys == drug
            if min(y[rows].sum(), (1 - y[rows]).sum()) >= SITE_MIN_EVENTS:
                margins.append(m[rows]), outcomes.append(y[rows]), drugs.append(keys[rows])
                senders[drug] = senders.get(drug, 0) + 1
    pooled = recalibration_pooled(np.concatenate(margins), np.concatenate(outcomes), np.concatenate(drugs),
                                  source="test")
    expected = {d: c for d, c in pooled["drugs"].items() if senders[d] >= 2}
    assert len(expected) >= 3
    # Each pooled estimate shrunk towards (0, 1) by its empirical-Bayes weight, from the pooled rows' information.
    sums = recalibration_sums(np.concatenate(margins), np.concatenate(outcomes), np.concatenate(drugs), pooled)
    variances = {}
    for d in expected:
        _, _, _, h00, h01, h11 = sums[d]
        det = h00 * h11 - h01 * h01
        variances[d] = (h11 / det, h00 / det)
    weights = shrinkage_weights({d: (c["intercept"], c["slope"]) for d, c in expected.items()}, variances)
    shrunk = {d: (c["intercept"] * weights[d][0], 1 + (c["slope"] - 1) * weights[d][1]) for d, c in expected.items()}
    assert set(block["drugs"]) == {d for d, (a, b) in shrunk.items() if (round(a, 6), round(b, 6)) != (0.0, 1.0)}
    for drug in block["drugs"]:
        assert abs(block["drugs"][drug]["intercept"] - shrunk[drug][0]) < 1e-3
        assert abs(block["drugs"][drug]["slope"] - shrunk[drug][1]) < 1e-3
        assert block["drugs"][drug]["n"] == expected[drug]["n"]


def test_a_site_withholds_a_drug_with_few_of_either_outcome_and_the_hub_fits_no_drug_one_site_sent():
    split = split_make(disease="crohns_disease", seed=3, n_patients=6000)
    _, model = small_model(split)
    columns = split.cohort.columns
    drugs = split.cohort.drugs
    rng = np.random.default_rng(1)
    X = np.full((60, len(columns)), np.nan, dtype=np.float32)
    X[:, columns.index("age")] = rng.integers(20, 70, 60)
    X[:, len(columns) - len(drugs):] = 0
    X[:40, columns.index(f"drug:{drugs[0]}")] = 1  # 20 responders, 20 not
    X[40:, columns.index(f"drug:{drugs[1]}")] = 1  # 11 responders, 9 not: withheld
    y = np.r_[np.tile([1, 0], 20), np.r_[np.ones(11), np.zeros(9)]]
    data = site_data(site="LU", X_train=X, y_train=y, X_validation=X, y_validation=y, columns=columns)
    reply = site_recalibration_sums(model=model, data=data, recalibration=None)
    assert set(reply) == {"site", "sums"} and list(reply["sums"]) == [drugs[0]]
    assert reply["sums"][drugs[0]][0] == 40
    # One site's drug is not fitted (it guarantees ten of each outcome, fewer than the twenty a fit needs); two are.
    other = {**reply, "site": "FR"}
    alone, _ = recalibration_step(replies=[reply], recalibration=None)
    assert alone["drugs"] == {}
    both, moved = recalibration_step(replies=[reply, other], recalibration=None)
    assert list(both["drugs"]) == [drugs[0]] and both["drugs"][drugs[0]]["n"] == 80 and moved > 0


def test_each_drug_keeps_the_share_of_its_miscalibration_that_its_information_supports():
    # Three drugs with the same estimate: the drug with ten times the information keeps more of its deviation.
    block = {"method": "m", "source": "s", "drugs": {
        "L04AB02": {"intercept": 0.3, "slope": 1.4, "n": 600}, "L04AB04": {"intercept": 0.3, "slope": 1.4, "n": 60},
        "L04AG05": {"intercept": -0.2, "slope": 0.7, "n": 600}}}
    sums = {"L04AB02": [600, 0, 0, 120, 0, 120], "L04AB04": [60, 0, 0, 12, 0, 12],
            "L04AG05": [600, 0, 0, 120, 0, 120]}
    drugs = ["L04AB02", "L04AB04", "L04AG05"]
    final = recalibration_final(block, drugs, [{"site": "LU", "sums": sums}])
    big, small = final["drugs"]["L04AB02"], final["drugs"]["L04AB04"]
    assert 1.0 < small["slope"] < big["slope"] < 1.4 and 0.0 < small["intercept"] < big["intercept"] < 0.3
    assert final["drugs"]["L04AG05"]["slope"] < 1.0
    # Drugs that all sit at (0, 1) within their noise: the estimated spread is 0 and nothing is recalibrated.
    calm = {d: {"intercept": 0.01, "slope": 1.01, "n": 600} for d in drugs}
    assert recalibration_final({**block, "drugs": calm}, drugs, [{"site": "LU", "sums": sums}]) is None
    # Fewer than three drugs: no spread to estimate, no recalibration.
    two = {d: block["drugs"][d] for d in drugs[:2]}
    assert recalibration_final({**block, "drugs": two}, drugs[:2], [{"site": "LU", "sums": sums}]) is None


def test_the_run_s_recalibration_is_written_into_the_registered_package_which_passes_validation(db):
    from django.utils import timezone

    from network.flower.records import CALIBRATE, TRAIN
    from network.models import FederatedRun, MessageLog, RunKind, RunStatus
    from network.training_package import training_run_register

    split = split_make(disease="crohns_disease", seed=3, n_patients=2000)
    _, model = small_model(split)
    drugs = split.cohort.drugs
    block = {"method": "logistic recalibration per drug", "source": "per-drug sums of the sites' validation rows",
             "drugs": {drugs[0]: {"intercept": -0.4, "slope": 1.2, "n": 300}}}
    run = FederatedRun.objects.create(
        kind=RunKind.TRAINING, status=RunStatus.RUNNING, started_at=timezone.now(), booster=model,
        config={"disease": "crohns_disease", "seed": 3, "n_patients": 2000, "strategy": "bagging", "data": "cohort"},
        result={"rounds": 25, "rounds_run": 25, "bytes_to_sites": 1000, "bytes_from_sites": 1000,
                "recalibration": block, "recalibration_steps": 4})
    for site in ("LU", "FR"):
        MessageLog.objects.create(run=run, direction="from_site", site_code=site, message_type=TRAIN, shape={},
                                  size_bytes=10, content={"site": site, "n_train": 100, "trees": {"learner": {}}})
    # A site that answered only the count round (no trees) is not named among the sites whose trees the model holds.
    MessageLog.objects.create(run=run, direction="from_site", site_code="CH", message_type=TRAIN, shape={},
                              size_bytes=10, content={"site": "CH", "n_train": 90, "trees": None})
    for site in ("LU", "FR"):
        # A recalibration reply carries sums, not a count of rows: the card's row counts come from training replies.
        MessageLog.objects.create(run=run, direction="from_site", site_code=site, message_type=CALIBRATE, shape={},
                                  size_bytes=10, content={"site": site, "sums": {}})
    version = training_run_register(run)
    assert version.status == "validated", version.rejection_reason
    assert version.manifest["recalibration"] == block
    assert version.manifest["x_federated"]["site_rows"] == {"LU": 100, "FR": 100}
    assert "Recalibrated per drug" in version.manifest["model_card"]["model_details"]
