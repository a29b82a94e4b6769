"""A structural check of an XGBoost booster document before XGBoost ever parses it.

XGBoost's own reader trusts its input: a booster nested 100,000 levels deep, a
`size_leaf_vector` of 2³²−1, an out-of-range categorical node or `gblinear` crash
the process that loads it, and a `num_target` of 4,294,967,295 allocates tens of
gigabytes. This module reads the document itself, in pure Python with bounded
memory (iterative parsing, a depth limit, counts checked against the bytes left),
and checks that it is the kind of booster Clinnova scores: one gbtree model of
numerical splits, one output, every tree a proper tree (children after their
parent, each node the child of one parent, split features in range). Only a
document that passes is handed to XGBoost, and then only in a resource-limited
child process (recommendations.sandbox).

Reference: the XGBoost model schema (doc/model.schema in the XGBoost repository,
3.x) and its UBJSON reader (src/common/json.cc); UBJSON draft 12 (ubjson.org).
"""

from __future__ import annotations

import json
import re

import numpy as np

MAX_DEPTH = 16            # the deepest path in a real booster document is 7 containers
MAX_ARRAY = 1 << 22       # elements in one array
MAX_FEATURES = 10_000
MAX_TREES = 10_000
MAX_NODES_PER_TREE = 1 << 16
MAX_NODES_TOTAL = 1 << 22
ROOT_PARENT = 2147483647  # XGBoost's "no parent" (kInvalidNodeId) for the root


class BoosterStructureError(ValueError):
    """The booster document is not one Clinnova scores; the message names the field and what is allowed."""


# --- reading: JSON ---------------------------------------------------------------

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(data: bytes) -> int:
    """How deeply a JSON document nests, counted without parsing it (strings are skipped)."""
    skeleton = np.frombuffer(_JSON_STRING.sub(b'""', data), dtype=np.uint8)
    step = np.zeros(skeleton.shape, dtype=np.int64)
    step[(skeleton == ord("[")) | (skeleton == ord("{"))] = 1
    step[(skeleton == ord("]")) | (skeleton == ord("}"))] = -1
    return int(np.cumsum(step).max(initial=0))


def _json_read(data: bytes):
    depth = json_depth(data)
    if depth > MAX_DEPTH:
        raise BoosterStructureError(f"the JSON booster nests {depth:,} levels deep; at most {MAX_DEPTH} are allowed")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError) as exc:
        raise BoosterStructureError(f"the JSON booster is not valid JSON ({str(exc)[:120]})") from None


# --- reading: UBJSON ---------------------------------------------------------------

_SCALARS = {b"i": ">i1", b"U": ">u1", b"I": ">i2", b"l": ">i4", b"L": ">i8", b"d": ">f4", b"D": ">f8"}


class _UBJ:
    """An iterative UBJSON reader: no recursion, and no allocation larger than the bytes that remain."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def fail(self, what: str):
        raise BoosterStructureError(f"the UBJSON booster is malformed at byte {self.pos:,}: {what}")

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            self.fail(f"{n:,} bytes announced but {len(self.data) - self.pos:,} remain")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def marker(self) -> bytes:
        m = self.take(1)
        while m == b"N":  # no-op
            m = self.take(1)
        return m

    def integer(self, m: bytes) -> int:
        if m not in (b"i", b"U", b"I", b"l", b"L"):
            self.fail(f"a length must be an integer, found marker {m!r}")
        return int(np.frombuffer(self.take(np.dtype(_SCALARS[m]).itemsize), dtype=_SCALARS[m])[0])

    def count(self, itemsize: int = 1) -> int:
        n = self.integer(self.marker())
        if n < 0 or n > MAX_ARRAY:
            self.fail(f"a container of {n:,} elements (at most {MAX_ARRAY:,})")
        if n * itemsize > len(self.data) - self.pos:
            self.fail(f"a container of {n:,} elements but only {len(self.data) - self.pos:,} bytes remain")
        return n

    def string(self) -> str:
        raw = self.take(self.count())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.fail("a string that is not UTF-8")

    def scalar(self, m: bytes):
        if m in _SCALARS:
            value = np.frombuffer(self.take(np.dtype(_SCALARS[m]).itemsize), dtype=_SCALARS[m])[0]
            return float(value) if m in (b"d", b"D") else int(value)
        if m == b"S":
            return self.string()
        if m == b"C":
            return self.take(1).decode("latin-1")
        if m == b"T":
            return True
        if m == b"F":
            return False
        if m == b"Z":
            return None
        if m == b"H":
            text = self.string()
            if len(text) > 64:
                self.fail("a high-precision number of more than 64 characters")
            return text
        self.fail(f"unknown marker {m!r}")

    def read(self):
        # Each open container is [value, remaining count or None, pending key]; values are attached on close.
        stack: list[list] = []
        while True:
            if stack and stack[-1][1] == 0:
                value = stack.pop()[0]
            elif stack and isinstance(stack[-1][0], dict) and stack[-1][2] is None:
                frame = stack[-1]
                if frame[1] is None and self.data[self.pos:self.pos + 1] == b"}":
                    self.pos += 1
                    value = stack.pop()[0]
                else:
                    frame[2] = self.string()
                    continue
            else:
                m = self.marker()
                if m == b"]" and stack and isinstance(stack[-1][0], list) and stack[-1][1] is None:
                    value = stack.pop()[0]
                elif m in (b"[", b"{"):
                    if len(stack) >= MAX_DEPTH:
                        raise BoosterStructureError(f"the UBJSON booster nests deeper than {MAX_DEPTH} levels")
                    typed = self.container_head(m)
                    if isinstance(typed, np.ndarray):
                        value = typed
                    else:
                        stack.append([[] if m == b"[" else {}, typed, None])
                        continue
                else:
                    value = self.scalar(m)
            if not stack:
                if self.pos != len(self.data):
                    self.fail(f"{len(self.data) - self.pos:,} bytes after the document")
                return value
            frame = stack[-1]
            if isinstance(frame[0], list):
                frame[0].append(value)
            else:
                frame[0][frame[2]] = value
                frame[2] = None
            if frame[1] is not None:
                frame[1] -= 1

    def container_head(self, m: bytes):
        """None for a container closed by its end marker, a count for a counted one, an array for a typed one."""
        nxt = self.data[self.pos:self.pos + 1]
        if nxt == b"$":
            self.pos += 1
            kind = self.take(1)
            if self.take(1) != b"#":
                self.fail("a typed container without a count")
            if m != b"[" or kind not in _SCALARS:
                self.fail(f"a typed container of {kind!r}")
            dtype = np.dtype(_SCALARS[kind])
            n = self.count(dtype.itemsize)
            return np.frombuffer(self.take(n * dtype.itemsize), dtype=dtype)
        if nxt == b"#":
            self.pos += 1
            return self.count()
        return None


# --- the checks ----------------------------------------------------------------------


def _obj(node, path: str) -> dict:
    if not isinstance(node, dict):
        raise BoosterStructureError(f"{path} must be an object")
    return node


def _get(node: dict, key: str, path: str):
    if key not in node:
        raise BoosterStructureError(f"{path}.{key} is missing")
    return node[key]


def _int_text(value, path: str, *, low: int, high: int) -> int:
    """XGBoost writes model parameters as decimal strings ("31")."""
    text = value if isinstance(value, str) else str(value) if isinstance(value, int) else None
    if text is None or not re.fullmatch(r"-?\d{1,12}", text):
        raise BoosterStructureError(f"{path} is {str(value)[:40]!r}; a whole number from {low} to {high} is expected")
    number = int(text)
    if not low <= number <= high:
        raise BoosterStructureError(f"{path} is {number}; Clinnova reads {low} to {high}")
    return number


def _numbers(node, path: str, length: int) -> np.ndarray:
    if isinstance(node, np.ndarray):
        arr = node
    elif isinstance(node, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in node):
        arr = np.asarray(node, dtype=np.float64) if node else np.zeros(0)
    else:
        raise BoosterStructureError(f"{path} must be an array of numbers")
    if arr.ndim != 1 or len(arr) != length:
        raise BoosterStructureError(f"{path} has {len(arr):,} values; the tree has {length:,} nodes")
    return arr.astype(np.float64)


def _empty(node, path: str, why: str) -> None:
    if node is None:
        return
    if (isinstance(node, (list, np.ndarray)) and len(node)) or (isinstance(node, dict) and any(
            len(v) if isinstance(v, (list, np.ndarray, dict)) else True for v in node.values())):
        raise BoosterStructureError(f"{path} is not empty: {why}")


def _tree_check(tree, path: str, num_feature: int) -> int:
    tree = _obj(tree, path)
    param = _obj(_get(tree, "tree_param", path), f"{path}.tree_param")
    n = _int_text(_get(param, "num_nodes", f"{path}.tree_param"), f"{path}.tree_param.num_nodes",
                  low=1, high=MAX_NODES_PER_TREE)
    _int_text(param.get("size_leaf_vector", "1"), f"{path}.tree_param.size_leaf_vector", low=0, high=1)
    _int_text(param.get("num_feature", str(num_feature)), f"{path}.tree_param.num_feature",
              low=num_feature, high=num_feature)
    _int_text(param.get("num_deleted", "0"), f"{path}.tree_param.num_deleted", low=0, high=0)
    cats = {key: tree.get(key, []) for key in ("categories", "categories_nodes", "categories_segments",
                                                 "categories_sizes")}
    for key, value in cats.items():
        if not isinstance(value, (list, np.ndarray)):
            raise BoosterStructureError(f"{path}.{key} must be an array")
    lengths = {key: len(v) for key, v in cats.items()}
    if len({lengths["categories_nodes"], lengths["categories_segments"], lengths["categories_sizes"]}) != 1:
        raise BoosterStructureError(
            f"{path} has {lengths['categories_nodes']} categories_nodes, {lengths['categories_segments']} "
            f"categories_segments and {lengths['categories_sizes']} categories_sizes; they must match")
    for key, value in cats.items():
        _empty(value, f"{path}.{key}", "Clinnova models use numerical splits only (no categorical splits)")
    arrays = {key: _numbers(_get(tree, key, path), f"{path}.{key}", n) for key in (
        "left_children", "right_children", "parents", "split_indices", "split_conditions", "split_type",
        "default_left", "base_weights", "loss_changes", "sum_hessian")}
    left, right, parents = arrays["left_children"], arrays["right_children"], arrays["parents"]
    index = np.arange(n)
    leaf = left == -1
    if np.any(leaf != (right == -1)):
        node = int(np.flatnonzero(leaf != (right == -1))[0])
        raise BoosterStructureError(f"{path} node {node} has one child; a node has two children or none")
    internal = ~leaf
    # Children come after their parent (as XGBoost allocates them), so no path can loop back.
    for side, child in (("left_children", left), ("right_children", right)):
        bad = internal & ((child <= index) | (child >= n))
        if np.any(bad):
            node = int(np.flatnonzero(bad)[0])
            raise BoosterStructureError(f"{path}.{side}[{node}] is {child[node]:g}; a child is a node after its "
                                        f"parent, below {n}")
    children = np.concatenate([left[internal], right[internal]]).astype(np.int64)
    if len(children) != n - 1 or len(np.unique(children)) != len(children):
        raise BoosterStructureError(f"{path} is not a tree: every node but the root must be the child of exactly "
                                    "one node")
    if parents[0] != ROOT_PARENT or np.any(parents[children] != np.concatenate([index[internal], index[internal]])):
        raise BoosterStructureError(f"{path}.parents does not match its children")
    split = arrays["split_indices"]
    bad = internal & ((split < 0) | (split >= num_feature) | (split != np.floor(split)))
    if np.any(bad):
        node = int(np.flatnonzero(bad)[0])
        raise BoosterStructureError(f"{path}.split_indices[{node}] is {split[node]:g}; features are 0 to "
                                    f"{num_feature - 1}")
    if np.any(leaf & ((split != 0) | (arrays["default_left"] != 0))):
        node = int(np.flatnonzero(leaf & ((split != 0) | (arrays["default_left"] != 0)))[0])
        raise BoosterStructureError(f"{path} leaf {node} carries a split (XGBoost writes 0 for a leaf's "
                                    "split_indices and default_left)")
    if np.any(arrays["split_type"] != 0):
        raise BoosterStructureError(f"{path}.split_type holds categorical splits; Clinnova models use numerical "
                                    "splits only")
    if not np.all(np.isin(arrays["default_left"], (0, 1))):
        raise BoosterStructureError(f"{path}.default_left must hold 0 or 1")
    for key in ("split_conditions", "base_weights"):
        if not np.all(np.isfinite(arrays[key])):
            raise BoosterStructureError(f"{path}.{key} holds a value that is not a finite number")
    return n


def booster_structure_check(data: bytes, fmt: str) -> str:
    """A sentence describing a booster document that is safe to hand to XGBoost; BoosterStructureError otherwise."""
    if fmt == "json":
        doc = _json_read(data)
    elif fmt == "ubj":
        doc = _UBJ(data).read()
    else:
        raise BoosterStructureError(f"booster format {fmt!r} is unknown (expected ubj or json)")
    learner = _obj(_get(_obj(doc, "the booster document"), "learner", "the booster document"), "learner")
    params = _obj(_get(learner, "learner_model_param", "learner"), "learner.learner_model_param")
    num_feature = _int_text(_get(params, "num_feature", "learner.learner_model_param"),
                            "learner.learner_model_param.num_feature", low=1, high=MAX_FEATURES)
    _int_text(params.get("num_class", "0"), "learner.learner_model_param.num_class", low=0, high=0)
    _int_text(params.get("num_target", "1"), "learner.learner_model_param.num_target", low=1, high=1)
    for key in ("feature_names", "feature_types"):
        names = learner.get(key, [])
        if not isinstance(names, list) or not all(isinstance(v, str) for v in names) \
                or len(names) not in (0, num_feature):
            raise BoosterStructureError(f"learner.{key} must be a list of 0 or {num_feature} strings")
    if any(t == "c" for t in learner.get("feature_types", [])):
        raise BoosterStructureError("learner.feature_types declares a categorical feature; Clinnova models use "
                                    "numerical features only")
    objective = _obj(_get(learner, "objective", "learner"), "learner.objective").get("name")
    if objective != "binary:logistic":
        raise BoosterStructureError(f"learner.objective.name is {str(objective)[:40]!r}; scoring needs "
                                    "binary:logistic")
    gb = _obj(_get(learner, "gradient_booster", "learner"), "learner.gradient_booster")
    name = gb.get("name")
    if name != "gbtree":
        raise BoosterStructureError(f"learner.gradient_booster.name is {str(name)[:40]!r}; Clinnova scores tree "
                                    "boosters (gbtree) only")
    model = _obj(_get(gb, "model", "learner.gradient_booster"), "learner.gradient_booster.model")
    _empty(model.get("cats"), "learner.gradient_booster.model.cats",
           "Clinnova models use numerical features only (no category encoding)")
    mparam = _obj(_get(model, "gbtree_model_param", "model"), "model.gbtree_model_param")
    num_trees = _int_text(_get(mparam, "num_trees", "model.gbtree_model_param"),
                          "model.gbtree_model_param.num_trees", low=1, high=MAX_TREES)
    _int_text(mparam.get("num_parallel_tree", "1"), "model.gbtree_model_param.num_parallel_tree", low=1, high=1)
    trees = _get(model, "trees", "model")
    if not isinstance(trees, list) or len(trees) != num_trees:
        raise BoosterStructureError(f"model.trees holds {len(trees) if isinstance(trees, list) else 'no list of'} "
                                    f"trees; num_trees says {num_trees}")
    info = _numbers(_get(model, "tree_info", "model"), "model.tree_info", num_trees)
    if np.any(info != 0):
        raise BoosterStructureError("model.tree_info assigns a tree to an output other than 0; Clinnova models "
                                    "have one output")
    if "iteration_indptr" in model:
        ptr = model["iteration_indptr"]
        ptr = _numbers(ptr, "model.iteration_indptr", len(ptr) if isinstance(ptr, (list, np.ndarray)) else -1)
        if len(ptr) < 1 or ptr[0] != 0 or ptr[-1] != num_trees or np.any(np.diff(ptr) < 0):
            raise BoosterStructureError("model.iteration_indptr must rise from 0 to num_trees")
    total = 0
    for i, tree in enumerate(trees):
        total += _tree_check(tree, f"model.trees[{i}]", num_feature)
        if total > MAX_NODES_TOTAL:
            raise BoosterStructureError(f"the booster has more than {MAX_NODES_TOTAL:,} nodes")
    return f"{num_trees} trees, {total:,} nodes, {num_feature} features, numerical splits, one output"

