"""Error pages speak to the person in a sentence, in the site's frame, and never show a stack trace."""

import uuid

import pytest
from django.conf import settings


def test_the_suite_runs_with_debug_off_like_production():
    assert settings.DEBUG is False


def test_an_unknown_patient_gets_the_not_found_page(alice_client):
    response = alice_client.get(f"/patients/{uuid.uuid4()}/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Not found" in page and "nothing you can see from your sites" in page
    assert "Signed in as <strong>alice</strong>" in page  # in the frame
    assert "Traceback" not in page and "Http404" not in page


def test_an_unknown_address_gets_the_not_found_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "Not found" in response.content.decode()


def test_a_forbidden_page_gets_the_not_allowed_page(alice_client):
    response = alice_client.get("/models/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "Not allowed" in page and "PermissionDenied" not in page and "Only model admins" not in page


@pytest.mark.urls("tests.pages.urls_crash")
def test_a_crash_gets_the_something_went_wrong_page_without_a_stack_trace(alice_client):
    alice_client.raise_request_exception = False
    response = alice_client.get("/crash/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in page and "Nothing you entered was half-saved" in page
    assert "Traceback" not in page and "RuntimeError" not in page and "internal detail" not in page
