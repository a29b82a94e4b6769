"""CPU seconds of each part of the load test's stack, read from /proc: what a request costs, whatever the load.

On a machine shared with other work, requests per second measure the neighbours as much as the code; the CPU
each process spent per request does not depend on how long it waited for a core.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.db import connection

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def _tree(root: int, parents: dict[int, int]) -> list[int]:
    """The process and all its descendants."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += [child for child, parent in parents.items() if parent == pid]
    return found


def cpu_snapshot(stack) -> dict[str, dict[int, float]] | None:
    """{part: {pid: CPU seconds}} of gunicorn, the Celery workers, this database's PostgreSQL backends and this
    process (the load generator); None where /proc is not available."""
    if not Path("/proc/self/stat").exists():
        return None
    parents = _parents()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        # Only backends on this machine: in a container their ids would name other processes here.
        backends = [row[0] for row in cursor.fetchall() if _command(row[0]).startswith("postgres")]
    parts = {"gunicorn": _tree(stack.web.pid, parents),
             "worker": [pid for w in stack.workers for pid in _tree(w.pid, parents)],
             "postgres": backends, "generator": [os.getpid()]}
    return {part: {pid: cpu for pid in pids if (cpu := _cpu(pid)) is not None} for part, pids in parts.items()}


def cpu_spent(before: dict | None, after: dict | None) -> dict[str, float]:
    """CPU seconds each part spent between two snapshots (a process started meanwhile counts from zero)."""
    if before is None or after is None:
        return {}
    return {part: sum(cpu - before[part].get(pid, 0.0) for pid, cpu in after[part].items()) for part in after}
