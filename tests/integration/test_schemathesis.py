"""The published OpenAPI contract holds: generated requests to every operation of /api/schema/ get no 5xx,
only documented status codes and content types, and bodies that match the documented schemas.

Driven in-process through the WSGI app (the test's database transaction included) with an EHR token;
the model-admin operations answer that token with their documented 403.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from tests.patients.api_helpers import ehr_client_create

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# Both modes: requests the contract allows, and requests it forbids (mangled bodies, path parameters and
# headers), which must meet a documented 4xx in JSON, never a 5xx.
CONFIG = SchemathesisConfig.from_dict({"generation": {"mode": "all"}})

@schemathesis.serializer("application/x-ndjson", "application/fhir+ndjson")
def _ndjson(ctx, value) -> bytes:
    """An import body is binary in the schema: whatever bytes were generated, sent as they are."""
    return value if isinstance(value, bytes) else str(value).encode()


# Loaded when the module is collected: generating the schema reads no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)


@pytest.fixture(autouse=True)
def connection_kept_open():
    """As Django's test client does: the test's transaction lives on the connection, so no request may close it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def import_files_in_a_temporary_directory(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def ehr_token(site_lu):
    return ehr_client_create(site_lu, "schemathesis")[1]


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_api_keeps_its_published_contract(case, ehr_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {ehr_token}"}, checks=CHECKS)
