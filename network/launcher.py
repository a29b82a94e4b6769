"""`make network`: the hub, four site nodes, the SuperLink and four SuperNodes on this machine.

Each node is this codebase with its own SQLite database (the hub's without patients, each site's with its
share of the demo network and its own accounts) served by `runserver` on a free loopback port. Used by
`manage.py run_network` and by the engine tests, which start the same processes.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from clinnova.stack import free_port
from network.engine import ROOT, flower_env, process_stop, superlink_start, supernode_start

SITES = ("LU", "FR", "DE", "CH")
DEV_SECRET = "network-demo-only-secret-key-not-for-production-0123456789"


def node_env(data_dir: Path, node: str, **extra: str) -> dict[str, str]:
    """The environment of one node: its database, role and site; tasks in-process, no broker."""
    hub = node == "hub"
    env = flower_env(DATABASE_URL=f"sqlite:///{data_dir / f'{node.lower()}.sqlite3'}", DEBUG="1", HTTPS="0",
                     SECRET_KEY=DEV_SECRET, CLINNOVA_ROLE="hub" if hub else "site", CLINNOVA_SITE="" if hub else node,
                     MEDIA_ROOT=str(data_dir / f"{node.lower()}-media"), LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        env.pop(name, None)
    env.update(extra)
    return env


def _manage(env: dict, *args: str) -> None:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {done.stderr.strip()[-800:]}")


def network_template(data_dir: Path) -> Path:
    """The database every node starts from (migrated, the shipped models loaded; packages live in the database),
    made once in data_dir: about 40 s, which several networks can share by copying it (network_prepare)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    template = data_dir / "template.sqlite3"
    if not template.exists():
        _manage(node_env(data_dir, "template"), "migrate", "--no-input", "-v0")
        _manage(node_env(data_dir, "template"), "load_models")
    return template


def network_prepare(*, data_dir: Path, sites=SITES, patients: int = 20, outcome_patients: int = 200,
                    history_patients: int = 0, diseases: tuple[str, ...] = (), template: Path | None = None) -> None:
    """Create the nodes' databases once: migrated, models loaded, the hub's accounts, each site's demo share.

    history_patients: treatment history per disease across the network (each site its share, unequal), what
    the sites train on; diseases: those of the outcome patients and history (default every disease);
    template: a database made by network_template to start from instead of making one here."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if template is not None and not (data_dir / "template.sqlite3").exists():
        shutil.copyfile(template, data_dir / "template.sqlite3")
    template = network_template(data_dir)
    todo = [node for node in ("hub", *sites) if not (data_dir / f"{node.lower()}.sqlite3").exists()]
    for node in todo:
        shutil.copyfile(template, data_dir / f"{node.lower()}.sqlite3")

    def setup(node: str) -> None:
        if node == "hub":
            _manage(node_env(data_dir, node), "load_demo", "--hub")
        else:
            _manage(node_env(data_dir, node), "load_demo", "--sites", node, "--patients", str(patients),
                    "--outcome-patients", str(outcome_patients), "--history-patients", str(history_patients),
                    "--diseases", ",".join(diseases))
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(setup, todo))


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class Network:
    data_dir: Path
    superlink: str
    hub_env: dict
    site_envs: dict[str, dict]
    urls: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def supernode_start(self, site: str) -> subprocess.Popen:
        proc = supernode_start(superlink=self.superlink, port=free_port(), env=self.site_envs[site],
                               log=self.data_dir / f"supernode-{site.lower()}.log", site=site)
        self.processes[f"supernode-{site}"] = proc
        return proc

    def stop(self) -> None:
        # SuperNodes first, then the SuperLink, then the web servers.
        for name in sorted(self.processes, key=lambda n: (not n.startswith("supernode"), n != "superlink")):
            process_stop(self.processes[name])
        self.processes.clear()


def network_start(*, data_dir: Path, sites=SITES, web: bool = True, round_timeout: int = 120,
                  site_settings: dict[str, dict[str, str]] | None = None) -> Network:
    """Start the SuperLink (hub environment), the SuperNodes (site environments) and, with `web`, the pages.

    site_settings: extra environment per site code, or "hub" (a site's own training floor, say)."""
    port = free_port()
    net = Network(data_dir=data_dir, superlink=f"127.0.0.1:{port}",
                  hub_env=node_env(data_dir, "hub", NETWORK_SUPERLINK=f"127.0.0.1:{port}",
                                   NETWORK_ROUND_TIMEOUT=str(round_timeout), **(site_settings or {}).get("hub", {})),
                  site_envs={site: node_env(data_dir, site, **(site_settings or {}).get(site, {})) for site in sites})
    try:
        (data_dir / "superlink").mkdir(exist_ok=True)
        net.processes["superlink"] = superlink_start(port=port, env=net.hub_env, log=data_dir / "superlink.log",
                                                     state_dir=data_dir / "superlink")
        wait_port(port)
        net.urls["SuperLink (Flower)"] = net.superlink
        if web:
            for node, env in [("hub", net.hub_env), *net.site_envs.items()]:
                web_port = free_port()
                with open(data_dir / f"web-{node.lower()}.log", "ab") as out:
                    net.processes[f"web-{node}"] = subprocess.Popen(
                        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{web_port}"],
                        # SITE_URL: the node's links and CDS audience are the address it is served on.
                        cwd=ROOT, env={**env, "SITE_URL": f"http://127.0.0.1:{web_port}"}, stdout=out,
                        stderr=subprocess.STDOUT, start_new_session=True)
                net.urls[node] = f"http://127.0.0.1:{web_port}/"
        for site in sites:
            net.supernode_start(site)
        for node, url in net.urls.items():
            if url.startswith("http"):
                wait_port(int(url.rsplit(":", 1)[1].strip("/")))
    except BaseException:
        net.stop()
        raise
    return net
