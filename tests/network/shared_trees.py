"""What a tree a site sends may hold: the shape of a depth-4 tree and nothing that grows with the site's rows."""

TREE_KEYS = {"base_weights", "categories", "categories_nodes", "categories_segments", "categories_sizes",
             "default_left", "id", "left_children", "loss_changes", "parents", "right_children", "split_conditions",
             "split_indices", "split_type", "sum_hessian", "tree_param"}


def assert_tree_reveals_no_rows(tree: dict) -> None:
    assert set(tree) <= TREE_KEYS
    nodes = len(tree["left_children"])
    assert nodes <= 2 ** 5 - 1  # depth 4: no array as long as the site's rows
    assert all(len(v) in (0, nodes) for v in tree.values() if isinstance(v, list))
    assert set(tree["loss_changes"]) == {0.0}  # gains stripped
    assert all(h == round(h) and h >= 20 for h in tree["sum_hessian"])  # covers rounded, never one patient's
