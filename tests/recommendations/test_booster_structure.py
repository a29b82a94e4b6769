"""The booster document is checked before XGBoost reads it: every crash and hang of the review is refused by name.

None of these documents is ever handed to XGBoost in the test process: a few of them kill the process
that parses them (the security review's reproductions: SIGSEGV, hours of work, 23 GB resident).
"""

from __future__ import annotations

import copy
import json

import pytest

from recommendations.booster_structure import BoosterStructureError, booster_structure_check
from recommendations.package import package_precheck
from tests.recommendations.booster_docs import booster_doc, package_with_booster, ubj


@pytest.fixture(scope="module")
def doc() -> dict:
    return booster_doc()


def _changed(doc: dict, change) -> dict:
    new = copy.deepcopy(doc)
    change(new)
    return new


def _tree(d: dict, i: int = 0) -> dict:
    return d["learner"]["gradient_booster"]["model"]["trees"][i]


def _params(d: dict) -> dict:
    return d["learner"]["learner_model_param"]


def _refused(document, *mentions: str) -> None:
    for fmt, data in (("json", json.dumps(document).encode()), ("ubj", ubj(document))):
        with pytest.raises(BoosterStructureError) as caught:
            booster_structure_check(data, fmt)
        for text in mentions:
            assert text in str(caught.value), (fmt, str(caught.value))


def test_the_shipped_boosters_pass_in_both_formats(doc):
    for fmt, data in (("json", json.dumps(doc).encode()), ("ubj", ubj(doc))):
        trees = len(doc["learner"]["gradient_booster"]["model"]["trees"])
        assert trees > 1 and booster_structure_check(data, fmt).startswith(f"{trees} trees")


@pytest.mark.parametrize("value", ["2", "100", "-1", "4294967295"])
def test_a_leaf_vector_other_than_one_value_is_refused(doc, value):
    _refused(_changed(doc, lambda d: _tree(d, 3)["tree_param"].update(size_leaf_vector=value)),
             "trees[3].tree_param.size_leaf_vector", value.lstrip("-"))


@pytest.mark.parametrize("key, value", [("num_class", "99999999"), ("num_target", "99999999"),
                                        ("num_target", "4294967295"), ("num_feature", "4294967295")])
def test_an_output_or_feature_count_out_of_range_is_refused(doc, key, value):
    _refused(_changed(doc, lambda d: _params(d).update({key: value})), f"learner_model_param.{key}")


def test_a_linear_booster_is_refused(doc):
    _refused(_changed(doc, lambda d: d["learner"]["gradient_booster"].update(name="gblinear")),
             "gradient_booster.name", "'gblinear'", "gbtree")


def test_an_out_of_range_categorical_node_is_refused(doc):
    def change(d):
        t = _tree(d)
        t.update(categories=[1, 5], categories_nodes=[99999], categories_segments=[0], categories_sizes=[2])
        t["split_type"][0] = 1
    _refused(_changed(doc, change), "trees[0].categories", "numerical splits only")


def test_mismatched_categorical_sizes_are_refused(doc):
    _refused(_changed(doc, lambda d: _tree(d).update(categories_nodes=[0, 1], categories_segments=[0],
                                                      categories_sizes=[4294967295])),
             "2 categories_nodes, 1 categories_segments and 1 categories_sizes")


@pytest.mark.parametrize("fmt", ["json", "ubj"])
def test_a_document_nested_a_hundred_thousand_levels_is_refused_without_recursion(fmt):
    depth = 100_000
    data = b"[" * depth + b"]" * depth
    with pytest.raises(BoosterStructureError, match="nests"):
        booster_structure_check(data, fmt)


def test_a_ubjson_array_announcing_more_elements_than_bytes_is_refused_before_allocating():
    data = b"{" + b"L" + (7).to_bytes(8, "big") + b"learner" + b"[$d#L" + (2 ** 40).to_bytes(8, "big") + b"}"
    with pytest.raises(BoosterStructureError, match="elements"):
        booster_structure_check(data, "ubj")


def test_a_tree_whose_child_points_back_to_its_parent_is_refused(doc):
    def change(d):
        t = _tree(d)
        t["left_children"][1] = 0
    _refused(_changed(doc, change), "trees[0].left_children[1]", "after its")


def test_a_split_on_a_feature_the_booster_does_not_have_is_refused(doc):
    _refused(_changed(doc, lambda d: _tree(d)["split_indices"].__setitem__(0, 4000)),
             "trees[0].split_indices[0]", "4000")


def test_an_array_shorter_than_the_tree_is_refused(doc):
    _refused(_changed(doc, lambda d: _tree(d)["base_weights"].pop()), "trees[0].base_weights")


def test_a_tree_count_that_disagrees_with_the_trees_is_refused(doc):
    _refused(_changed(doc, lambda d: d["learner"]["gradient_booster"]["model"]["gbtree_model_param"]
                      .update(num_trees="99999999")), "num_trees")


def test_a_five_thousand_digit_number_is_refused_as_a_named_problem(doc):
    data = json.dumps(_changed(doc, lambda d: _params(d).update(num_feature="1"))).encode().replace(
        b'"num_feature": "1"', b'"num_feature": ' + b"9" * 5000)
    with pytest.raises(BoosterStructureError):
        booster_structure_check(data, "json")


def test_a_package_with_a_bad_booster_fails_the_named_check_before_xgboost_sees_it(doc):
    bad = _changed(doc, lambda d: _params(d).update(num_target="4294967295"))
    checks, manifest = package_precheck(package_with_booster(ubj(bad)), max_bytes=10 ** 8)
    failed = [c for c in checks if c.ran and not c.passed]
    assert [c.name for c in failed] == ["booster_structure"]
    assert "num_target is 4294967295" in failed[0].message and manifest is not None
