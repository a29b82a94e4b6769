"""Imports point downward only: clinnova (core) ← patients (the record) ← recommendations ← network ← doors.

See ARCHITECTURE.md's layers. A function-local import that dodges a cycle counts too.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["clinnova", "patients", "recommendations", "network", "doors"]
# The core's URL configuration routes every door; it is read by Django, imported by nothing.
ENTRY_POINTS = {"clinnova/urls.py", "clinnova/celery.py"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules_of(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" not in rel and rel not in ENTRY_POINTS:
            yield rel, path


@pytest.mark.parametrize("package", LAYERS[:-1])
def test_a_layer_imports_nothing_from_the_layers_above_it(package):
    above = set(LAYERS[LAYERS.index(package) + 1:])
    offenders = {rel: sorted(imported_packages(path) & above) for rel, path in modules_of(package)}
    assert {rel: names for rel, names in offenders.items() if names} == {}
