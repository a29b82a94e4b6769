"""The review's crashing uploads replayed against real gunicorn, Redis, a Celery worker and PostgreSQL.

Each answers 4xx (the structural check) or is accepted as a job and rejected by the sandbox; afterwards the
same gunicorn workers are alive (none was killed and replaced) and a valid package still validates.
"""

from __future__ import annotations

import copy
import subprocess
import time

import pytest
import requests
from django.test import Client

from clinnova.stack import stack_running
from recommendations.models import ModelStatus, ModelVersion
from tests.conftest import package_copy, pretrained_bytes
from tests.recommendations.booster_docs import booster_doc, package_with_booster, ubj
from tests.recommendations.test_worker import real_services  # noqa: F401  (fixture)
from tests.trust.helpers import verified

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _changed(change) -> bytes:
    doc = copy.deepcopy(booster_doc())
    change(doc)
    return package_with_booster(ubj(doc))


def _tree(d, i=0):
    return d["learner"]["gradient_booster"]["model"]["trees"][i]


REPRODUCTIONS = {
    "nesting 100,000 deep": package_with_booster(b"[" * 100_000 + b"]" * 100_000),
    "size_leaf_vector 2": _changed(lambda d: _tree(d)["tree_param"].update(size_leaf_vector="2")),
    "size_leaf_vector 100": _changed(lambda d: _tree(d)["tree_param"].update(size_leaf_vector="100")),
    "size_leaf_vector -1": _changed(lambda d: _tree(d)["tree_param"].update(size_leaf_vector="-1")),
    "size_leaf_vector 2^32-1": _changed(lambda d: _tree(d)["tree_param"].update(size_leaf_vector="4294967295")),
    "categorical node out of range": _changed(lambda d: _tree(d).update(
        categories=[1], categories_nodes=[999999], categories_segments=[0], categories_sizes=[1])),
    "mismatched categorical sizes": _changed(lambda d: _tree(d).update(
        categories=[1, 2], categories_nodes=[0, 1], categories_segments=[0], categories_sizes=[2])),
    "gblinear": _changed(lambda d: d["learner"]["gradient_booster"].update(name="gblinear")),
    "num_class 99999999": _changed(lambda d: d["learner"]["learner_model_param"].update(num_class="99999999")),
    "num_target 99999999": _changed(lambda d: d["learner"]["learner_model_param"].update(num_target="99999999")),
    "num_target 4294967295": _changed(lambda d: d["learner"]["learner_model_param"].update(
        num_target="4294967295")),
    "extra member model.pkl": package_with_booster(ubj(booster_doc()), extra={"model.pkl": b"\x80\x04N."}),
}


def _workers(master_pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def test_the_reviews_crashing_uploads_get_4xx_and_kill_no_gunicorn_worker(real_services, mia):
    browser = Client()
    verified(browser, mia)
    with stack_running(web_workers=2) as stack:
        session = requests.Session()
        session.cookies.set("sessionid", browser.cookies["sessionid"].value)
        session.get(f"{stack.url}/models/upload/", timeout=30).raise_for_status()
        headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{stack.url}/models/upload/"}
        before = _workers(stack.web.pid)
        assert len(before) == 2

        def upload(name: str, data: bytes) -> requests.Response:
            return session.post(f"{stack.url}/api/v1/model-versions/", files={"file": (name, data)},
                                headers=headers, timeout=60)

        for name, data in REPRODUCTIONS.items():
            response = upload(f"{name}.zip", data)
            assert response.status_code == 422, (name, response.status_code, response.text[:300])
            reason = response.json()["rejection_reason"]
            assert reason.split(":")[0] in ("booster_structure", "contents", "bomb"), (name, reason)

        good = upload("retrained.zip", package_copy(pretrained_bytes("crohns_disease"), x_note="live"))
        assert good.status_code == 202, good.text[:300]
        version_url = f"{stack.url}{good.headers['Location']}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and session.get(version_url, timeout=30).json()["status"] == "validating":
            time.sleep(0.5)
        assert session.get(version_url, timeout=30).json()["status"] == ModelStatus.VALIDATED
        assert _workers(stack.web.pid) == before  # the same two workers: none died and was replaced
        assert requests.get(f"{stack.url}/health/", timeout=5).json() == {"status": "ok"}
    assert ModelVersion.objects.exclude(status=ModelStatus.REJECTED).count() == 1
