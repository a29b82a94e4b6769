"""Flower's processes on this machine and the hub's `flwr run`: the engine under the network.

Every process is started with an OS-assigned loopback port, in its own process group, and stopped here
with everything it started (Flower's SuperExec and app processes included). Production runs the same
commands with TLS and SuperNode authentication (docs/network.md); `--insecure` is for one machine only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings

from network.models import FederatedRun, RunStatus

ROOT = Path(settings.BASE_DIR)
APP_DIR = ROOT / "network" / "flowerapp"
BIN = Path(sys.executable).parent


def flower_env(base: dict | None = None, **extra: str) -> dict[str, str]:
    """An environment in which Flower finds its commands and its app processes find the project."""
    env = dict(base if base is not None else os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env['PYTHONPATH']}" if env.get("PYTHONPATH") else str(ROOT)
    env.setdefault("DJANGO_SETTINGS_MODULE", "clinnova.settings")
    env["FLWR_DISABLE_UPDATE_CHECK"] = "1"  # no network beyond this machine
    env["FLWR_TELEMETRY_ENABLED"] = "0"
    env.update(extra)
    return env


def _popen(args: list[str], *, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def superlink_start(*, port: int, env: dict, log: Path, state_dir: Path) -> subprocess.Popen:
    """The hub's SuperLink, insecure on loopback. The ServerApp it starts inherits `env` (the hub's)."""
    return _popen([str(BIN / "flower-superlink"), "--insecure", "--host", "127.0.0.1", "--port", str(port),
                   "--database", str(state_dir / "superlink.db"), "--disable-runtime-dependency-installation"],
                  env=env, log=log)


def supernode_start(*, superlink: str, port: int, env: dict, log: Path, site: str) -> subprocess.Popen:
    """A site's SuperNode: connects out to the SuperLink; its ClientApp inherits `env` (the site's)."""
    return _popen([str(BIN / "flower-supernode"), "--insecure", "--superlink", superlink, "--host", "127.0.0.1",
                   "--port", str(port), "--node-config", f'site="{site}"', "--max-retries", "1000"],
                  env=env, log=log)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def process_stop(proc: subprocess.Popen, *, timeout: float = 15) -> None:
    """Stop a process started here, its group and every process it started (SuperExec runs detached)."""
    if proc.poll() is not None:
        return
    pids = _descendants(proc.pid)
    for pid in [proc.pid, *pids]:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    for pid in [proc.pid, *pids]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=5)


def process_pause(proc: subprocess.Popen) -> None:
    """Freeze a node (SIGSTOP), as a hung machine would be: it keeps its connection and answers nothing."""
    for pid in [proc.pid, *_descendants(proc.pid)]:
        os.kill(pid, signal.SIGSTOP)


def process_resume(proc: subprocess.Popen) -> None:
    for pid in [proc.pid, *_descendants(proc.pid)]:
        os.kill(pid, signal.SIGCONT)


class SubmitError(RuntimeError):
    pass


def _flower_config(home: Path, superlink: str) -> None:
    lines = ["[superlink]", 'default = "hub"', "", "[superlink.hub]", f'address = "{superlink}"']
    if settings.NETWORK_TLS_ROOT_CERT:
        lines.append(f'root-certificates = "{settings.NETWORK_TLS_ROOT_CERT}"')
    else:
        lines.append("insecure = true")
    (home / "config.toml").write_text("\n".join(lines) + "\n")


def run_submit(run: FederatedRun, *, superlink: str | None = None, wait: float | None = None) -> FederatedRun:
    """Start the run on the SuperLink with `flwr run`, then wait for the ServerApp to finish it.

    Raises SubmitError when no SuperLink is configured or `flwr run` fails; the run row says so too.
    """
    superlink = superlink or settings.NETWORK_SUPERLINK
    if not superlink:
        FederatedRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="NETWORK_SUPERLINK is not set")
        raise SubmitError("NETWORK_SUPERLINK is not set: this hub does not know where its SuperLink listens")
    with tempfile.TemporaryDirectory(prefix="flwr-cli-") as home:
        _flower_config(Path(home), superlink)
        done = subprocess.run([str(BIN / "flwr"), "run", str(APP_DIR), "hub", "--run-config", f"run-id={run.pk}",
                               "--format", "json"], env=flower_env(FLWR_HOME=home), cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip()[-500:]
        FederatedRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error=f"flwr run failed: {reason}")
        raise SubmitError(f"flwr run failed: {reason}")
    flower_id = str(json.loads(done.stdout[done.stdout.index("{"):]).get("run-id") or "")
    FederatedRun.objects.filter(pk=run.pk, flower_run_id__in=["", "queued"]).update(flower_run_id=flower_id)
    deadline = time.monotonic() + (wait if wait is not None else settings.NETWORK_ROUND_TIMEOUT + 90)
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED):
            return run
        time.sleep(0.5)
    run.refresh_from_db()
    return run
