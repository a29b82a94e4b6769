"""A seeded fuzz of the upload path: hundreds of broken packages, every one refused, the process alive.

Each mutation breaks something structural in a valid package (a model parameter, a tree's wiring, an array's
length, a member of the archive, the nesting of the document, its bytes) and goes through the registry's real
upload service, as an admin's upload would. The security review's own fuzz of XGBoost's reader found segfaults
and hangs; here nothing is parsed by XGBoost in this process, so the test process surviving is the proof that a
web worker would.
"""

from __future__ import annotations

import copy
import io
import json
import random
import time
import zipfile

import numpy as np
import pytest
import xgboost

from clinnova.audit import Actor
from patients.dictionary import features_for
from patients.drugs import candidates_for
from recommendations.features import column_names
from recommendations.models import ModelStatus, ModelVersion
from recommendations.registry import model_version_upload
from tests.recommendations.booster_docs import ubj
from tests.recommendations.test_model_package import _manifest

SEED = 20261130
MUTATIONS = 520
STRUCTURAL_KEYS = {
    "num_feature", "num_class", "num_target", "num_trees", "num_parallel_tree", "num_nodes", "size_leaf_vector",
    "num_deleted", "name", "left_children", "right_children", "parents", "split_indices", "split_type",
    "default_left", "categories", "categories_nodes", "categories_segments", "categories_sizes", "tree_info",
    "iteration_indptr", "feature_names", "base_weights", "split_conditions", "trees", "learner", "gradient_booster",
    "model", "tree_param", "learner_model_param", "gbtree_model_param",
}
# Keys XGBoost does without (it assumes the value a Clinnova model has): deleting them leaves a valid booster.
OPTIONAL_KEYS = {"num_deleted", "size_leaf_vector", "num_class", "num_target", "num_parallel_tree",
                 "iteration_indptr", "feature_names", "categories", "categories_nodes", "categories_segments",
                 "categories_sizes", "num_feature"}
HOSTILE_SCALARS = ["-1", "2", "100", "4294967295", "99999999", "18446744073709551615", "", "gblinear", "dart",
                   -1, 2 ** 32 - 1, 2 ** 64, None, True, [], {}, 1e308, "1e9", "0x10", " 1", "１"]
HOSTILE_ELEMENTS = [-2, -5, 2 ** 31, 4294967295, 99999, 4000, -(2 ** 40), 2 ** 64, "x", None, [1], 0.5]


def _valid_package() -> tuple[dict, bytes]:
    features, drugs = features_for("crohns_disease"), [d.atc for d in candidates_for("crohns_disease")]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, len(features) + len(drugs))).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(float)
    booster = xgboost.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1, "seed": 0},
                            xgboost.DMatrix(X, label=y, feature_names=column_names(features, drugs)),
                            num_boost_round=4)
    return json.loads(bytes(booster.save_raw("json"))), json.dumps(_manifest()).encode()


def _paths(node, prefix=()):
    """Every (container, key) under a structural key, and the structural scalars themselves."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in STRUCTURAL_KEYS:
                yield node, key
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, (dict, list)):
                yield from _paths(value, prefix + (i,))


def _mutate_doc(doc: dict, rng: random.Random) -> tuple[str, dict | bytes]:
    new = copy.deepcopy(doc)
    container, key = rng.choice(list(_paths(new)))
    value = container[key]
    op = rng.randrange(6)
    if op == 0 and key not in OPTIONAL_KEYS:
        del container[key]
        return f"delete {key}", new
    if op == 1 or not isinstance(value, list):
        container[key] = rng.choice(HOSTILE_SCALARS)
        return f"{key} = {container[key]!r}", new
    if op == 2 and value:
        i = rng.randrange(len(value))
        value[i] = rng.choice(HOSTILE_ELEMENTS)
        return f"{key}[{i}] = {value[i]!r}", new
    if op == 3 and value:
        del value[rng.randrange(len(value)):]
        return f"{key} truncated to {len(value)}", new
    if op == 4:
        value.extend(value[:3] or [7])
        return f"{key} lengthened to {len(value)}", new
    container[key] = {"0": value}
    return f"{key} turned into an object", new


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), payload, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _mutations(doc: dict, manifest: bytes, rng: random.Random):
    """(what was done, package bytes) for every mutation; none of them leaves a valid package."""
    good_ubj = ubj(doc)
    good = _zip({"manifest.json": manifest, "model.ubj": good_ubj})
    produced = 0
    while produced < MUTATIONS:
        kind = rng.random()
        if kind < 0.55:
            what, new = _mutate_doc(doc, rng)
            fmt = rng.choice(["ubj", "json"])
            booster = ubj(new) if fmt == "ubj" else json.dumps(new).encode()
            if new == doc:
                continue
            yield what, _zip({"manifest.json": manifest, f"model.{fmt}": booster})
        elif kind < 0.65:
            cut = rng.randrange(1, len(good_ubj))
            yield f"booster cut at byte {cut}", _zip({"manifest.json": manifest, "model.ubj": good_ubj[:cut]})
        elif kind < 0.72:
            depth = rng.choice([17, 1000, 100_000])
            fmt = rng.choice(["ubj", "json"])
            body = b"[" * depth + b"]" * depth
            booster = (b'{"learner": ' + body + b"}") if fmt == "json" else (b"{L" + (7).to_bytes(8, "big")
                                                                              + b"learner" + body + b"}")
            yield f"nesting {depth} deep ({fmt})", _zip({"manifest.json": manifest, f"model.{fmt}": booster})
        elif kind < 0.82:
            data = bytearray(good)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            if bytes(data) == good:
                continue
            yield "bits flipped in the zip", bytes(data)
        elif kind < 0.9:
            name = rng.choice(["model.pkl", "model.json", "../x", "notes.txt", "model.ubj.bak"])
            yield f"extra member {name}", _zip({"manifest.json": manifest, "model.ubj": good_ubj, name: b"\x80\x04."})
        else:
            yield "the same package again", good
        produced += 1


@pytest.mark.django_db
def test_hundreds_of_mutated_packages_are_all_refused_and_the_process_survives(mia):
    rng = random.Random(SEED)
    doc, manifest = _valid_package()
    actor = Actor(user=mia)
    original = model_version_upload(data=_zip({"manifest.json": manifest, "model.ubj": ubj(doc)}),
                                    filename="original.zip", actor=actor)
    assert original.status == ModelStatus.VALIDATED, original.rejection_reason
    started = time.monotonic()
    refused_by: dict[str, int] = {}
    accepted, sandboxed = [], []
    count = 0
    for what, data in _mutations(doc, manifest, rng):
        count += 1
        version = model_version_upload(data=data, filename="fuzz.zip", actor=actor)
        if version.status != ModelStatus.REJECTED:
            accepted.append(what)
            continue
        if version.validation_report[-1]["name"] in ("booster_load", "objective", "feature_count", "canary"):
            sandboxed.append(what)
        check = version.rejection_reason.split(":")[0]
        refused_by[check] = refused_by.get(check, 0) + 1
    elapsed = time.monotonic() - started
    print(f"{count} mutations in {elapsed:.1f} s, refused by: {refused_by}; in the sandbox: {sandboxed}")
    assert count >= 500
    assert accepted == []
    assert sum(refused_by.values()) == count
    assert ModelVersion.objects.exclude(status=ModelStatus.REJECTED).count() == 1
    assert elapsed < 60
