"""Priya is the network's privacy officer: she reads the audit trail and sees no patients."""

import pytest
from django.contrib.auth.models import Group, User

from clinnova.access import PRIVACY_OFFICER
from tests.trust.helpers import PASSWORD, verified


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """These tests sign in through the password form many times; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def priya(db):
    user = User.objects.create_user("priya", password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name=PRIVACY_OFFICER)[0])
    return user


@pytest.fixture
def priya_client(client, priya):
    verified(client, priya)
    return client


@pytest.fixture
def client_for_alice(alice):
    """A second browser, Alice's, for tests where Priya's client is the main one."""
    from django.test import Client

    browser = Client()
    browser.force_login(alice)
    return browser
