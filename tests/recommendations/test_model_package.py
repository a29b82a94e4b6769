"""The model package format: a good package round-trips; every bad one is refused by a named check."""

from __future__ import annotations

import copy
import io
import json
import pickle
import stat
import struct
import zipfile
from collections.abc import Callable

import numpy as np
import pytest
import xgboost

from patients.dictionary import features_for
from patients.drugs import candidates_for
from recommendations.features import column_names
from recommendations.package import (
    CHECKS,
    MAX_ENTRIES,
    MODEL_CARD_SECTIONS,
    OUTCOMES,
    PackageError,
    booster_load,
    package_build,
    package_checks,
    package_load,
    package_read,
    package_sha256,
)

CD = "crohns_disease"
MAX_BYTES = 20 * 1024 * 1024
FEATURES = features_for(CD)
DRUGS = [d.atc for d in candidates_for(CD)]


def _booster(n_columns: int, *, objective: str = "binary:logistic", names: list[str] | None = None) -> xgboost.Booster:
    """A tiny booster trained on random data with n_columns inputs."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, n_columns)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(float)
    dtrain = xgboost.DMatrix(X, label=y, feature_names=names)
    return xgboost.train({"objective": objective, "max_depth": 2, "nthread": 1, "seed": 0}, dtrain, num_boost_round=3)


def _manifest() -> dict:
    return {
        "format_version": 1,
        "disease": CD,
        "outcome": OUTCOMES[CD],
        "features": list(FEATURES),
        "drugs": list(DRUGS),
        "column_layout": "features then one indicator per drug",
        "xgboost_version": xgboost.__version__,
        "training_data": {"description": "random test data", "n_patients": 200, "n_rows": 200, "seed": 0,
                          "synthetic": True},
        "metrics": {
            "test": {"auc": 0.6, "brier": 0.2, "calibration_slope": 1.0, "calibration_intercept": 0.0, "n": 40},
            "per_drug": {atc: {"auc": None, "brier": 0.2, "n": 5} for atc in DRUGS},
            "validation": {"auc": 0.6, "brier": 0.2, "n": 40},
            "best_iteration": 2,
        },
        "intended_use": "tests",
        "caveats": ["random data"],
        "model_card": {section: "for tests" for section in MODEL_CARD_SECTIONS},
        "created_at": "2026-01-01T00:00:00+00:00",
    }


@pytest.fixture(scope="module")
def booster() -> xgboost.Booster:
    return _booster(len(FEATURES) + len(DRUGS), names=column_names(FEATURES, DRUGS))


@pytest.fixture(scope="module")
def package(booster) -> bytes:
    return package_build(manifest=_manifest(), booster=booster)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def _members(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _with_manifest(package: bytes, change: Callable[[dict], None]) -> bytes:
    members = _members(package)
    manifest = json.loads(members["manifest.json"])
    change(manifest)
    return _zip(members | {"manifest.json": json.dumps(manifest).encode()})


def _refused(data: bytes, check: str, *mentions: str, max_bytes: int = MAX_BYTES) -> None:
    """package_load raises the named check, and package_checks reports it as the first failure."""
    with pytest.raises(PackageError) as caught:
        package_load(data, max_bytes=max_bytes)
    assert caught.value.check == check, caught.value
    for text in mentions:
        assert text in caught.value.message, caught.value.message
    report, _, loaded = package_checks(data, max_bytes=max_bytes)
    failed = [c for c in report if c.ran and not c.passed]
    assert [c.name for c in failed] == [check] and loaded is None


# --- a good package ------------------------------------------------------------


def test_a_package_round_trips_through_build_read_and_load(package, booster):
    manifest, booster_bytes, fmt = package_read(package, max_bytes=MAX_BYTES)
    assert manifest == _manifest() and fmt == "ubj"
    loaded = booster_load(booster_bytes, fmt, manifest=manifest)
    X = np.random.default_rng(1).normal(size=(5, len(FEATURES) + len(DRUGS))).astype(np.float32)
    # The loaded booster takes a plain matrix in the manifest layout; the original needs the names.
    expected = booster.predict(xgboost.DMatrix(X, feature_names=column_names(FEATURES, DRUGS)))
    np.testing.assert_allclose(loaded.predict(xgboost.DMatrix(X)), expected, rtol=1e-6)


def test_the_same_manifest_and_booster_give_the_same_bytes(package, booster):
    assert package_build(manifest=_manifest(), booster=booster) == package
    assert len(package_sha256(package)) == 64


def test_a_booster_stored_as_xgboost_json_is_accepted_too(package, booster):
    data = _zip({"manifest.json": _members(package)["manifest.json"], "model.json": bytes(booster.save_raw("json"))})
    manifest, loaded = package_load(data, max_bytes=MAX_BYTES)
    assert package_read(data, max_bytes=MAX_BYTES)[2] == "json" and loaded.num_features() == 29


def test_every_check_of_a_good_package_passes_and_is_named(package):
    report, manifest, loaded = package_checks(package, max_bytes=MAX_BYTES)
    assert [c.name for c in report] == list(CHECKS)
    assert all(c.passed and c.ran for c in report) and manifest["disease"] == CD and loaded is not None


def test_checks_after_the_first_failure_are_reported_as_not_run(package):
    report, manifest, loaded = package_checks(package[: len(package) // 2], max_bytes=MAX_BYTES)
    assert [(c.name, c.passed, c.ran) for c in report[:3]] == [("size", True, True), ("archive", False, True),
                                                                ("entries", False, False)]
    assert all(not c.ran for c in report[2:]) and manifest is None and loaded is None


# --- files that are not packages -----------------------------------------------------


def test_a_pickle_renamed_to_zip_is_refused_without_being_unpickled(monkeypatch):
    data = pickle.dumps({"model": "harmless"})

    def never(*args, **kwargs):
        raise AssertionError("a package was unpickled")

    monkeypatch.setattr(pickle, "loads", never)
    monkeypatch.setattr(pickle, "load", never)
    monkeypatch.setattr(pickle, "Unpickler", never)
    _refused(data, "archive", "pickle")


def test_a_truncated_package_is_refused(package):
    _refused(package[: len(package) // 2], "archive", "truncated")


def test_an_oversized_file_is_refused_before_it_is_opened(package):
    _refused(package, "size", f"{len(package) - 1:,}", max_bytes=len(package) - 1)


def test_a_text_file_is_refused_as_not_a_zip():
    _refused(b'{"this": "is json"}', "archive", "not a zip")


# --- hostile archives ------------------------------------------------------------------


def test_a_member_path_climbing_out_of_the_package_is_refused(package):
    _refused(_zip(_members(package) | {"../evil.json": b"{}"}), "paths", "../evil.json")


def test_an_absolute_member_path_is_refused(package):
    _refused(_zip(_members(package) | {"/etc/evil.json": b"{}"}), "paths", "/etc/evil.json")


def test_a_symbolic_link_member_is_refused(package):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in _members(package).items():
            archive.writestr(name, payload)
        link = zipfile.ZipInfo("notes.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    _refused(buffer.getvalue(), "paths", "notes.txt", "symbolic link")


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(package):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in _members(package).items():
            archive.writestr(name, payload)
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            chunk = bytes(1024 * 1024)
            for _ in range(300):  # 300 MB of zeros deflate to about 300 KB
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024
    _refused(data, "bomb", "zeros.bin", "314,572,800")


def test_a_member_expanding_more_than_200_times_is_refused_even_under_the_size_limit(package):
    data = _zip(_members(package) | {"padding.bin": bytes(20 * 1024 * 1024)})
    _refused(data, "bomb", "padding.bin", "limit 200×")


def test_a_member_whose_header_claims_a_huge_size_is_refused(package):
    data = bytearray(_zip(_members(package) | {"readme.txt": b"small"}))
    # Central directory entry of the last member: uncompressed size at offset 24.
    entry = data.rindex(b"PK\x01\x02")
    data[entry + 24: entry + 28] = struct.pack("<I", 3_000_000_000)
    _refused(bytes(data), "bomb", "readme.txt")


def test_an_archive_with_too_many_entries_is_refused(package):
    extras = {f"note{i}.txt": b"hello" for i in range(MAX_ENTRIES)}
    _refused(_zip(_members(package) | extras), "entries", f"{MAX_ENTRIES + 2} entries")


@pytest.mark.parametrize("name", ["model.pkl", "readme.txt"])
def test_a_member_besides_the_manifest_and_booster_is_refused(package, name):
    _refused(_zip(_members(package) | {name: b"\x80\x04N."}), "contents", repr(name), "only")


def test_a_package_without_a_booster_is_refused(package):
    _refused(_zip({"manifest.json": _members(package)["manifest.json"]}), "contents", "model.ubj")


def test_a_package_without_a_manifest_is_refused(package):
    _refused(_zip({"model.ubj": _members(package)["model.ubj"]}), "contents", "manifest.json")


# --- manifests -------------------------------------------------------------------------------


def test_a_manifest_that_is_not_json_is_refused(package):
    _refused(_zip(_members(package) | {"manifest.json": b"{'disease': 'crohns_disease',"}), "manifest_json",
             "not valid JSON")


@pytest.mark.parametrize("change,mentions", [
    (lambda m: m.pop("outcome"), "manifest.outcome is missing"),
    (lambda m: m["metrics"]["test"].update(auc="high"), "manifest.metrics.test.auc must be a number, got 'high'"),
    (lambda m: m["metrics"]["test"].update(auc=1.7), "manifest.metrics.test.auc must be between 0 and 1"),
    (lambda m: m["training_data"].update(synthetic="yes"), "manifest.training_data.synthetic must be true or false"),
    (lambda m: m["model_card"].pop("ethical_considerations"), "manifest.model_card.ethical_considerations is missing"),
    (lambda m: m.update(created_at="yesterday"), "manifest.created_at must be an ISO 8601 date-time"),
    (lambda m: m.update(format_version=2), "format_version 2 is not supported"),
    (lambda m: m.update(features=m["features"] + ["crp"]), "manifest.features lists 'crp' more than once"),
    (lambda m: m.update(colour="blue"), "manifest.colour is not a known key"),
])
def test_a_manifest_breaking_the_schema_is_refused_naming_the_key(package, change, mentions):
    _refused(_with_manifest(package, change), "manifest_schema", mentions)


def test_a_manifest_may_carry_extension_keys(package):
    data = _with_manifest(package, lambda m: m.update(x_site_notes="trained at LU"))
    assert package_load(data, max_bytes=MAX_BYTES)[0]["x_site_notes"] == "trained at LU"


def test_an_unknown_disease_is_refused(package):
    _refused(_with_manifest(package, lambda m: m.update(disease="psoriasis")), "disease", "'psoriasis'")


@pytest.mark.parametrize("feature,mentions", [
    ("shoe_size", "is not a variable of the data dictionary"),
    ("jcv_index", "is a safety variable, not a model feature"),
    ("edss", "is not recorded for crohns_disease"),
])
def test_an_unknown_feature_is_refused(package, feature, mentions):
    def change(m: dict) -> None:
        m["features"][-1] = feature
    _refused(_with_manifest(package, change), "features", f"'{feature}'", mentions)


def test_an_unknown_drug_is_refused(package):
    def change(m: dict) -> None:
        m["drugs"][0] = "L04XX99"
        m["metrics"]["per_drug"] = {}
    _refused(_with_manifest(package, change), "drugs", "'L04XX99'", "not in the drug catalogue")


def test_a_pre_2024_atc_code_is_refused_with_the_current_one_named(package):
    def change(m: dict) -> None:
        m["drugs"][DRUGS.index("L04AG05")] = "L04AA33"
        m["metrics"]["per_drug"] = {}
    _refused(_with_manifest(package, change), "drugs", "'L04AA33'", "L04AG05")


def test_a_drug_of_another_disease_is_refused(package):
    def change(m: dict) -> None:
        m["drugs"][0] = "L04AG03"  # natalizumab: multiple sclerosis only
        m["metrics"]["per_drug"] = {}
    _refused(_with_manifest(package, change), "drugs", "'L04AG03'", "natalizumab", "crohns_disease")


# --- boosters ------------------------------------------------------------------------------------


def test_a_booster_reading_a_different_number_of_columns_is_refused(package):
    wrong = _booster(len(FEATURES) + len(DRUGS) - 3)
    data = _zip(_members(package) | {"model.ubj": bytes(wrong.save_raw("ubj"))})
    _refused(data, "feature_count", "reads 26 columns", "= 29")
    with pytest.raises(PackageError) as caught:
        package_build(manifest=_manifest(), booster=wrong)
    assert caught.value.check == "feature_count"


def test_a_booster_whose_columns_are_named_in_another_order_is_refused(package):
    names = column_names(FEATURES, DRUGS)
    names[0], names[1] = names[1], names[0]
    data = _zip(_members(package) | {"model.ubj": bytes(_booster(len(names), names=names).save_raw("ubj"))})
    _refused(data, "feature_count", "'sex'", "'age'")


def test_bytes_that_are_not_a_booster_are_refused(package):
    _refused(_zip(_members(package) | {"model.ubj": b"{not a model"}), "booster_structure", "malformed")


def test_a_regression_booster_is_refused(package):
    regression = _booster(len(FEATURES) + len(DRUGS), objective="reg:squarederror")
    _refused(_zip(_members(package) | {"model.ubj": bytes(regression.save_raw("ubj"))}), "booster_structure",
             "reg:squarederror")


def test_a_manifest_for_a_package_build_is_checked_before_anything_is_written(booster):
    manifest = copy.deepcopy(_manifest())
    manifest["features"][0] = "shoe_size"
    with pytest.raises(PackageError) as caught:
        package_build(manifest=manifest, booster=booster)
    assert caught.value.check == "features" and "shoe_size" in caught.value.message


@pytest.mark.parametrize("raw, mentions", [
    (b'"intended_use": "tests\\u0000"', "NUL"),
    (b'"intended_use": "tests\\ud800"', "surrogate"),
    (b'"x_big": ' + b"9" * 5000, "will not read"),
    (b'"x_deep": ' + b"[" * 100_000 + b"]" * 100_000, "100,001 levels deep"),
])
def test_a_manifest_postgresql_could_not_store_is_refused_by_name(package, raw, mentions):
    members = _members(package)
    manifest = members["manifest.json"].rstrip()
    assert manifest.endswith(b"}")
    data = _zip(members | {"manifest.json": manifest[:-1] + b", " + raw + b"}"})
    _refused(data, "manifest_json", mentions)


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "see [here](https://evil.example)",
                                  "<img src=x onerror=alert(1)>", "javascript:alert(1)", "bell\x07"])
def test_manifest_text_with_markup_is_refused_because_cards_and_fhir_show_it(package, text):
    _refused(_with_manifest(package, lambda m: m.update(outcome=text)), "manifest_schema", "manifest.outcome",
             "plain text")


def test_comparisons_in_manifest_text_stay_allowed(package):
    data = _with_manifest(package, lambda m: m.update(outcome="Remission (HBI < 5, DAS28 > 1.2)"))
    assert package_read(data, max_bytes=MAX_BYTES)[0]["outcome"] == "Remission (HBI < 5, DAS28 > 1.2)"
