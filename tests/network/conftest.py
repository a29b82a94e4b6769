"""What the modules that start a network of real node processes share: the database every node starts from."""

from __future__ import annotations

import pytest

from network.launcher import network_template


@pytest.fixture(scope="session")
def node_template(tmp_path_factory):
    """Migrated, with the shipped models loaded: made once per test run (about 40 s) and copied by each network."""
    return network_template(tmp_path_factory.mktemp("node-template"))
