"""Shared fixtures: the people of the Clinnova network our tests talk about.

- Alice is a clinician at the Luxembourg site (LU).
- Bob is a clinician at the French site (FR): he must never see Alice's patients.
- Mia is a model admin: she manages model versions and sees no patients.
- The Luxembourg hospital's EHR ("epic") posts visits for site LU; the French one ("dxcare") for FR.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import os

import pytest
from django.contrib.auth.models import Group, User

from clinnova.access import CLINICIAN, MODEL_ADMIN
from clinnova.audit import Actor
from patients.models import Site
from patients.services import PatientInput, visit_ingest

REQUIRE_SERVICES = os.environ.get("CLINNOVA_REQUIRE_SERVICES") == "1"


def services_missing(reason: str):
    """Skip outside CI; in CI (CLINNOVA_REQUIRE_SERVICES=1) a missing service is a failure."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashing():
    """The production hasher's algorithm with few iterations (tests/hashers.py says why)."""
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    settings.PASSWORD_HASHERS = ["tests.hashers.QuickPBKDF2PasswordHasher",
                                 *(h for h in settings.PASSWORD_HASHERS if not h.endswith(".PBKDF2PasswordHasher"))]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


@pytest.fixture
def site_lu(db):
    return Site.objects.get_or_create(code="LU", defaults={"name": "Luxembourg", "country": "LU"})[0]


@pytest.fixture
def site_fr(db):
    return Site.objects.get_or_create(code="FR", defaults={"name": "Strasbourg", "country": "FR"})[0]


def _person(username: str, role: str, site: Site | None) -> User:
    user = User.objects.create_user(username, password="a-long-test-password")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    if site is not None:
        site.members.add(user)
    return user


@pytest.fixture
def alice(site_lu):
    return _person("alice", CLINICIAN, site_lu)


@pytest.fixture
def bob(site_fr):
    return _person("bob", CLINICIAN, site_fr)


@pytest.fixture
def mia(db):
    return _person("mia", MODEL_ADMIN, None)


@pytest.fixture
def ehr_lu(site_lu):
    """The Luxembourg hospital's EHR client (Alice's site) and its token."""
    from tests.patients.api_helpers import ehr_client_create

    return ehr_client_create(site_lu, "epic")


@pytest.fixture
def ehr_fr(site_fr):
    """The French hospital's EHR client (Bob's site) and its token."""
    from tests.patients.api_helpers import ehr_client_create

    return ehr_client_create(site_fr, "dxcare")


@pytest.fixture
def admin_client(admin_user):
    """pytest-django's superuser in a browser of its own, past the second factor the Django admin requires."""
    from django.test import Client

    from tests.trust.helpers import verified

    browser = Client()
    verified(browser, admin_user)
    return browser


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


RA_VISIT = {
    "tender_joint_count_28": 8, "swollen_joint_count_28": 5, "esr": 32, "crp": 14.0,
    "patient_global": 60, "evaluator_global": 50, "rf_positive": True, "anti_ccp_positive": True,
    "smoking_status": "never", "albumin": 41.0, "haemoglobin": 128,
}


@pytest.fixture
def ra_patient_lu(site_lu):
    """A woman with seropositive rheumatoid arthritis at the Luxembourg site, one visit."""
    visit = visit_ingest(
        site=site_lu, disease="rheumatoid_arthritis", visit_date=dt.date.today() - dt.timedelta(days=3),
        measurements=dict(RA_VISIT), actor=Actor(client="test"),
        patient_input=PatientInput(system="urn:test:ehr", value="LU-0001", sex="female", birth_year=1968,
                                   diagnosed_on=dt.date(2015, 4, 1)),
    )
    return visit.patient


def tiers_shown(rec, *, first_tier: int, top: bool):
    """Make the stored ranking one whose first `first_tier` drugs the ensemble could not tell apart, with or
    without a top suggestion: for tests about what a page does with one, whatever the shipped model says of
    the fixture patient."""
    for item in rec.items.filter(current=False).order_by("rank"):
        item.tier = 1 if item.rank <= first_tier else 2
        item.top_suggestion = top and item.rank == 1
        item.probability_low, item.probability_high = item.probability - 0.05, item.probability + 0.05
        item.save(update_fields=["tier", "top_suggestion", "probability_low", "probability_high"])


# --- models -----------------------------------------------------------------

PRETRAINED = __import__("pathlib").Path(__file__).resolve().parent.parent / "recommendations" / "pretrained"


def pretrained_bytes(disease: str) -> bytes:
    return (PRETRAINED / f"{disease}.zip").read_bytes()


def model_version_install(disease: str, *, status: str = "active", version: int = 1):
    """A shipped package registered directly (its validation, canary included, is tested on its own).

    A version other than 1 carries its number in an extension key of the manifest, so its bytes differ:
    the registry refuses the same package twice.
    """
    from recommendations.models import ModelVersion

    data, manifest, sha256 = _installable(disease, version)
    return ModelVersion.objects.create(disease=disease, version=version, status=status, sha256=sha256,
                                       package=data, manifest=copy.deepcopy(manifest), filename=f"{disease}.zip",
                                       validation_report=[{"name": "shipped", "passed": True, "message": ""}])


@functools.cache
def _installable(disease: str, version: int) -> tuple[bytes, dict, str]:
    """The package's bytes, manifest and hash, read once per run: its checks look at every member's trees."""
    from recommendations.package import package_read, package_sha256

    data = pretrained_bytes(disease) if version == 1 else package_copy(pretrained_bytes(disease), x_copy=version)
    manifest, _, _ = package_read(data, max_bytes=len(data) + 1)
    return data, manifest, package_sha256(data)


def package_copy(data: bytes, *, members: bool = True, **manifest_extra) -> bytes:
    """The same package with extension keys added to its manifest (different bytes, same model).

    members=False drops the bootstrap ensemble: a package as every package was before intervals.
    """
    import io
    import json
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(source.read("manifest.json")) | manifest_extra
    if not members:
        manifest.pop("ensemble", None)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("manifest.json", json.dumps(manifest))
        for name in source.namelist():
            if name != "manifest.json" and (members or not name.startswith("members/")):
                target.writestr(name, source.read(name))
    return out.getvalue()


@pytest.fixture
def ra_model(db):
    return model_version_install("rheumatoid_arthritis")


@pytest.fixture
def all_models(db):
    return {d: model_version_install(d) for d in
            ("crohns_disease", "ulcerative_colitis", "rheumatoid_arthritis", "multiple_sclerosis")}


@pytest.fixture(autouse=True)
def celery_in_process():
    """Tests score in-process; the worker tests switch this off to go through the real broker."""
    from clinnova.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = True
