"""Federated training on the real engine: a SuperLink and four SuperNodes, each node with its own database.

A small model is trained over Flower and registered at the hub; every message that crossed from a site is read
back from the hub's message log: aggregates and trees only, no patient-level value.
"""

import json
import sqlite3
import subprocess
import sys
import time

import pytest

from network.engine import ROOT
from network.launcher import network_prepare, network_start
from tests.network.shared_trees import assert_tree_reveals_no_rows

pytestmark = pytest.mark.slow
SITES = ("LU", "FR", "DE", "CH")


@pytest.fixture(scope="module")
def network(tmp_path_factory, node_template):
    data = tmp_path_factory.mktemp("network")
    network_prepare(data_dir=data, patients=2, outcome_patients=2, template=node_template)
    net = network_start(data_dir=data, web=False, round_timeout=60)
    time.sleep(2)
    yield net
    net.stop()


def test_a_small_federated_model_is_trained_registered_and_only_trees_leave_the_sites(network):
    done = subprocess.run([sys.executable, "manage.py", "train_federated", "--disease", "crohns_disease",
                           "--rounds", "2", "--patients", "4000", "--seed", "3", "--data", "cohort"],
                          cwd=ROOT, env=network.hub_env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    hub = sqlite3.connect(network.data_dir / "hub.sqlite3")
    run_id, sites, status = hub.execute("select id, sites, status from network_federatedrun "
                                        "where kind = 'training' order by id desc limit 1").fetchone()
    assert status == "done"
    assert json.loads(sites) == {code: "answered" for code in SITES}
    manifest, version_status = hub.execute("select manifest, status from recommendations_modelversion "
                                           "order by id desc limit 1").fetchone()
    manifest = json.loads(manifest)
    assert version_status == "validated"
    assert sorted(manifest["x_federated"]["site_rows"]) == sorted(SITES)
    assert "Flower" in manifest["model_card"]["model_details"]
    # The recalibration's Newton steps ran on the sites' sums; what they kept (on two rounds over 4,000 patients'
    # shares, often no drug: test_federated_recalibration shows a block reaching the package) is what it carries.
    result = json.loads(hub.execute("select result from network_federatedrun where id = ?", (run_id,)).fetchone()[0])
    assert result["recalibration_steps"] >= 1
    assert manifest.get("recalibration") == result["recalibration"]

    sums = hub.execute("select site_code, content, shape from network_messagelog where run_id = ? and "
                       "direction = 'from_site' and message_type = 'query.calibrate'", (run_id,)).fetchall()
    assert sums and {site for site, *_ in sums} == set(SITES)
    for site, content, shape in sums:
        payload = json.loads(content)
        assert set(payload) == {"site", "sums"} and payload["site"] == site
        assert set(json.loads(shape)["reply"]) == {"payload"}
        for drug, values in payload["sums"].items():
            # n, two gradient and three information sums: over at least 20 validation patients of the drug.
            assert drug in manifest["drugs"] and len(values) == 6 and values[0] >= 20
    replies = hub.execute("select site_code, size_bytes, content, shape from network_messagelog "
                          "where run_id = ? and direction = 'from_site' and message_type = 'train.xgb'",
                          (run_id,)).fetchall()
    # Steps weighted by site share (the default): a count round, two training rounds and the last validation.
    assert len(replies) == 4 * 4
    assert json.loads(hub.execute("select config from network_federatedrun where id = ?", (run_id,)).fetchone()[0]
                      )["weighted"] is True
    assert result["rounds_run"] == 2
    for site, size, content, shape in replies:
        payload = json.loads(content)
        assert set(payload) == {"site", "loss_sum", "n_validation", "n_train", "trees"}
        assert payload["site"] == site
        assert all(isinstance(payload[k], (int, float)) for k in ("loss_sum", "n_validation", "n_train"))
        assert set(json.loads(shape)["reply"]) == {"payload", "trees"}
        trees = (payload["trees"] or {"learner": {"gradient_booster": {"model": {"trees": []}}}})
        for tree in trees["learner"]["gradient_booster"]["model"]["trees"]:
            assert_tree_reveals_no_rows(tree)
            assert all(w == 0.0 for w, left in zip(tree["base_weights"], tree["left_children"]) if left != -1)
        assert size < 200_000
