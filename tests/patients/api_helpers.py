"""What the EHR API tests share: issuing a client's token, and a visit as an EHR would post it."""

from __future__ import annotations

import copy
import datetime as dt

from doors.api.auth import EHRClientThrottle
from patients.models import EHRClient, Site
from tests.conftest import RA_VISIT

TODAY = dt.date.today()


def ehr_client_create(site: Site, name: str = "epic") -> tuple[EHRClient, str]:
    client = EHRClient(site=site, name=name)
    token = client.token_issue()
    client.save()
    # Under CI the throttle counts in Redis, which outlives the test database whose ids start again at 1.
    EHRClientThrottle.counters_reset(client.pk)
    return client, token


def auth(token: str, keyword: str = "Bearer") -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"{keyword} {token}"}


VISIT = {
    "visit_id": "V-1",
    "patient": {"id": "P-1", "sex": "female", "birth_year": 1968, "diagnosed_on": "2015-04-01"},
    "disease": "rheumatoid_arthritis",
    "date": (TODAY - dt.timedelta(days=3)).isoformat(),
    "measurements": dict(RA_VISIT),
    "therapies": [{"drug": "L04AB04", "start": "2020-01-01", "stop": "2021-06-01",
                   "outcome": "secondary_loss_of_response", "response_at_followup": False}],
    "comorbidities": {"vte_history": False, "heart_failure_nyha": "none"},
}


def visit_body(**overrides) -> dict:
    body = copy.deepcopy(VISIT)
    body.update(overrides)
    return body
