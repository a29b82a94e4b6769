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
def network(tmp_path_factory, node_template):
    data = tmp_path_factory.mktemp("network")
    network_prepare(data_dir=data, patients=2, outcome_patients=12, template=node_template)
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


# The model card's path, as a worker runs it: the request recorded, the task's guarded claim and `flwr run`.
JOB = """
from clinnova.audit import Actor
from network.evaluation import evaluation_request
from network.tasks import federated_evaluation
from recommendations.models import ModelVersion

version = ModelVersion.objects.get(disease="crohns_disease", status="active")
run = evaluation_request(version=version, actor=Actor(client="test"), submit=False)
federated_evaluation(run.pk)
print(run.pk)
"""


def test_an_evaluation_asked_for_as_a_job_is_submitted_by_the_worker_and_finished_by_the_servers(network):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", JOB], cwd=ROOT, env=network.hub_env,
                          capture_output=True, text=True, timeout=200)
    assert done.returncode == 0, done.stderr[-2000:]
    run_id = int(done.stdout.split()[-1])
    hub = sqlite3.connect(network.data_dir / "hub.sqlite3")
    # The worker returned once `flwr run` answered; the hub's ServerApp finishes the run without it.
    while time.monotonic() - started < 150:
        status, flower_id, sites, error = hub.execute(
            "select status, flower_run_id, sites, error from network_federatedrun where id = ?", (run_id,)).fetchone()
        if status in ("done", "failed"):
            break
        time.sleep(1)
    assert status == "done", error
    assert flower_id not in ("", "queued")  # Flower's id replaced the worker's claim
    # Every site is accounted for; whether each answered within the round is the engine tests' business (on a
    # loaded machine a site's ClientApp can start after this module's short round timeout).
    sites = json.loads(sites)
    assert set(sites) == set(SITES)
    logged = dict(hub.execute("select direction, count(*) from network_messagelog where run_id = ? "
                              "group by direction", (run_id,)).fetchall())
    assert logged.get("to_site") == 4
    # A reply (an answer, or a refusal or failure) is logged; a site that stayed silent sent nothing.
    assert logged.get("from_site", 0) == sum(not state.startswith(("no answer", "not connected"))
                                             for state in sites.values())


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
