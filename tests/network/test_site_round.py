"""One site's answer to a training round: the floor on its rows holds in every round that uses them."""

from __future__ import annotations

import pytest

from network.training import BAGGING, TrainingError, site_train_round
from network.training_compare import split_make


@pytest.fixture(scope="module")
def sites():
    return split_make(disease="rheumatoid_arthritis", seed=5, n_patients=2_000).sites


def test_a_site_below_its_floor_refuses_the_count_round_and_every_training_round(sites):
    lu = sites["LU"]
    floor = lu.n_train + 1
    for kind in ({"count": True, "train": False}, {"train": True}):
        with pytest.raises(TrainingError, match=f"{lu.n_train} training rows, fewer than the {floor}"):
            site_train_round(model=b"", data=lu, strategy=BAGGING, seed=1, min_rows=floor, **kind)
    # The last round only asks for the chosen model's validation loss: no rows are used to train or counted.
    last = site_train_round(model=b"", data=lu, strategy=BAGGING, seed=1, min_rows=floor, train=False)
    assert last["trees"] == b"" and last["n_validation"] > 0


def test_a_site_above_its_floor_counts_in_the_count_round_and_grows_no_tree_there(sites):
    fr = sites["FR"]
    reply = site_train_round(model=b"", data=fr, strategy=BAGGING, seed=1, min_rows=fr.n_train, count=True,
                             train=False)
    assert reply["n_train"] == fr.n_train and reply["trees"] == b""
    grown = site_train_round(model=b"", data=fr, strategy=BAGGING, seed=1, min_rows=fr.n_train)
    assert grown["trees"]
