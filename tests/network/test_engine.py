"""The real engine: a SuperLink and four SuperNodes, each node with its own database, on this machine.

Every message that crossed from a site to the hub is read back from the hub's message log and checked:
no cell of 1–4 patients, no patient's id or identifier, nothing but the aggregate schema.
"""

import json
import re
import sqlite3
import subprocess
import sys
import time

import pytest

from network.disclosure import breaches
from network.engine import ROOT, process_pause, process_resume, process_stop
from network.launcher import network_prepare, network_start

pytestmark = pytest.mark.slow
SITES = ("LU", "FR", "DE", "CH")


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    data = tmp_path_factory.mktemp("network")
    network_prepare(data_dir=data, patients=2, outcome_patients=12)
    net = network_start(data_dir=data, web=False, round_timeout=25)
    time.sleep(2)
    yield net
    net.stop()


def evaluate(net) -> dict:
    done = subprocess.run([sys.executable, "manage.py", "evaluate_federated", "--disease", "crohns_disease"],
                          cwd=ROOT, env=net.hub_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    hub = sqlite3.connect(net.data_dir / "hub.sqlite3")
    run_id, sites, started, finished = hub.execute(
        "select id, sites, started_at, finished_at from network_federatedrun order by id desc limit 1").fetchone()
    messages = hub.execute("select direction, site_code, size_bytes, content, error from network_messagelog "
                           "where run_id = ?", (run_id,)).fetchall()
    return {"sites": json.loads(sites), "messages": messages}


def site_secrets(net, code) -> set[str]:
    db = sqlite3.connect(net.data_dir / f"{code.lower()}.sqlite3")
    ids = {row[0].replace("-", "") for row in db.execute("select id from patients_patient")}
    ids |= {row[0] for row in db.execute("select value from patients_patientidentifier")}
    return ids


def test_every_message_from_a_site_is_an_aggregate(network):
    run = evaluate(network)
    assert run["sites"] == {code: "answered" for code in SITES}
    replies = [m for m in run["messages"] if m[0] == "from_site"]
    assert sorted(m[1] for m in replies) == sorted(SITES)
    for direction, site, size, content, error in replies:
        payload = json.loads(content)
        assert breaches(payload) == []
        assert set(payload) == {"site", "disease", "min_cell", "coverage", "strata"}
        text = content.replace("-", "")
        assert not any(secret in text for secret in site_secrets(network, site))
        assert not re.search(r"[0-9a-f]{32}", text)  # no UUID of any kind
        assert 0 < size < 100_000
    requests = [m for m in run["messages"] if m[0] == "to_site"]
    assert len(requests) == 4 and all(m[3] is None for m in requests)


def test_sites_down_frozen_or_refusing_do_not_block_the_others(network):
    db = sqlite3.connect(network.data_dir / "fr.sqlite3")
    # The site's own admin switches participation off (the row the node created when it first answered).
    if not db.execute("update network_participation set taking_part = 0, reason = 'ethics review pending'").rowcount:
        db.execute("insert into network_participation (taking_part, reason, changed_at) "
                   "values (0, 'ethics review pending', '2026-11-30 00:00:00')")
    db.commit()
    process_stop(network.processes.pop("supernode-DE"))
    process_pause(network.processes["supernode-CH"])
    try:
        started = time.monotonic()
        run = evaluate(network)
        assert time.monotonic() - started < 150
    finally:
        process_resume(network.processes["supernode-CH"])
        db.execute("update network_participation set taking_part = 1, reason = ''")
        db.commit()
    sites = run["sites"]
    assert sites["LU"] == "answered"
    assert sites["FR"].startswith("refused: FR: not taking part (ethics review pending)")
    assert sites["DE"] != "answered" and sites["CH"] != "answered"
    assert [m[1] for m in run["messages"] if m[0] == "from_site" and m[3]] == ["LU"]
