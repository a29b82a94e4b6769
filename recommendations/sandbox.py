"""Every step that parses an uploaded booster runs here: in a child process with hard limits.

XGBoost's reader is C++ that trusts its input. However carefully the document is
checked first (recommendations.booster_structure), a bad booster must cost one
child process, never a web or Celery worker. The child limits itself before it
reads anything: address space (RLIMIT_AS, so an allocation of gigabytes fails
instead of waking the host's OOM killer), CPU time (RLIMIT_CPU) and no core
file; the parent kills it at a wall-clock deadline kept below gunicorn's worker
timeout (see clinnova.gunicorn_conf), so even a validation run inside a request
cannot get the web worker killed. The child reports one JSON line per check as
it finishes, which the registry stores as the upload's progress.

    python -m recommendations.sandbox <package path> <memory MiB> <cpu seconds>
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SIGNALS = {signal.SIGSEGV: "a segmentation fault", signal.SIGBUS: "a bus error", signal.SIGABRT: "an abort",
           signal.SIGFPE: "an arithmetic fault", signal.SIGILL: "an illegal instruction"}


@dataclass(frozen=True)
class Limits:
    memory_mb: int
    cpu_s: int
    wall_s: float


def limits_from_settings() -> Limits:
    from django.conf import settings

    return Limits(memory_mb=settings.MODEL_SANDBOX_MEMORY_MB, cpu_s=settings.MODEL_SANDBOX_CPU_S,
                  wall_s=settings.MODEL_SANDBOX_WALL_S)


def sandbox_validate(data: bytes, *, limits: Limits, on_check: Callable[[dict], None] | None = None) -> list[dict]:
    """The booster checks and the canary of a package, each {"name", "passed", "message"}, run in a limited child.

    Stops at the first failure; a child that crashes, runs out of memory or time is reported as a failed check
    named after the step it was on, with the limit it hit.
    """
    done: list[dict] = []
    steps = ["booster_load", "objective", "feature_count", "canary"]
    with tempfile.NamedTemporaryFile(prefix="clinnova-package-", suffix=".zip") as handle:
        handle.write(data)
        handle.flush()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONPATH": str(BASE_DIR), "PYTHONDONTWRITEBYTECODE": "1",
               "NUMBA_CACHE_DIR": tempfile.gettempdir(), "MPLCONFIGDIR": tempfile.gettempdir()}
        proc = subprocess.Popen([sys.executable, "-m", "recommendations.sandbox", handle.name, str(limits.memory_mb),
                                 str(limits.cpu_s)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, cwd=BASE_DIR, env=env, start_new_session=True)
        timed_out = _read_lines(proc, deadline=time.monotonic() + limits.wall_s, done=done, on_check=on_check)
        if timed_out:
            os.killpg(proc.pid, signal.SIGKILL)
        code = proc.wait()
    if done and done[-1]["passed"] is False:
        return done
    if len(done) == len(steps):
        return done
    step = steps[len(done)]
    if timed_out:
        message = f"stopped after {limits.wall_s:g} s (the limit of wall-clock time)"
    elif code == -signal.SIGXCPU or code == -signal.SIGKILL:
        message = f"stopped after {limits.cpu_s} s of CPU time (the limit)"
    elif code < 0:
        message = f"crashed the process that read it ({SIGNALS.get(-code, f'signal {-code}')}); nothing else was affected"
    else:
        message = f"the checking process ended without a result (exit code {code}; memory limit {limits.memory_mb} MiB)"
    failure = {"name": step, "passed": False, "message": message}
    done.append(failure)
    if on_check:
        on_check(failure)
    return done


def _read_lines(proc, *, deadline: float, done: list, on_check) -> bool:
    """Collect the child's result lines until it exits; True when the wall-clock deadline passed first."""
    buffer = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            if not sel.select(timeout=left):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                return False
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                result = _line_parse(line)
                if result is not None:
                    done.append(result)
                    if on_check:
                        on_check(result)


def _line_parse(line: bytes) -> dict | None:
    try:
        raw = json.loads(line)
    except ValueError:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        return None
    return {"name": raw["name"][:40], "passed": bool(raw.get("passed")), "message": str(raw.get("message", ""))[:500]}


# --- the child ---------------------------------------------------------------------------


def _limit_self(memory_mb: int, cpu_s: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _emit(name: str, passed: bool, message: str) -> None:
    sys.stdout.write(json.dumps({"name": name, "passed": passed, "message": message}) + "\n")
    sys.stdout.flush()


def child_main(argv: list[str]) -> int:
    path, memory_mb, cpu_s = argv[0], int(argv[1]), int(argv[2])
    data = Path(path).read_bytes()
    _limit_self(memory_mb, cpu_s)
    from recommendations.canary import canary_check
    from recommendations.package import booster_checks_run

    parsed: dict = {}
    try:
        for check in booster_checks_run(data, max_bytes=len(data) + 1, parsed=parsed):
            _emit(check.name, check.passed, check.message)
            if not check.passed:
                return 0
        passed, message = canary_check(data, parsed=parsed)
    except MemoryError:
        return 3  # the parent names the step and the memory limit
    except Exception as exc:  # any failure of an untrusted model is a rejection, reported to the admin
        passed, message = False, f"canary scoring failed: {type(exc).__name__}: {str(exc)[:200]}"
    _emit("canary", passed, message)
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
