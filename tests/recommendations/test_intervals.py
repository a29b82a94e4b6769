"""Intervals, tiers, the top suggestion and the minimum data set, from the package to the stored ranking."""

import numpy as np
import pytest
import xgboost as xgb

from patients.dictionary import BY_NAME, features_for
from patients.diseases import MINIMUM_DATA_SET
from recommendations.canary import reference_rows
from recommendations.ensemble import ensemble_join
from recommendations.features import feature_matrix
from recommendations.models import ModelVersion, Recommendation
from recommendations.package import PackageError, package_build, package_load_members, package_read
from recommendations.scoring import model_load, patient_values
from recommendations.selectors import recommendation_payload
from recommendations.tiers import top_suggestion_index
from tests.conftest import RA_VISIT, package_copy, pretrained_bytes
from tests.recommendations.test_scoring import store_ra_visit

RA = "rheumatoid_arthritis"


def assert_joins_exactly(members, manifest):
    """The joined booster gives each member's own probabilities on the canary's reference rows."""
    X = reference_rows(manifest["features"], manifest["drugs"])
    rows = xgb.DMatrix(X, missing=np.nan)
    own = np.column_stack([m.predict(rows) for m in members])
    assert np.max(np.abs(ensemble_join(members, reference=X).probabilities(rows) - own)) < 1e-5


def test_every_shipped_package_carries_a_bootstrap_ensemble_that_joins_into_one_booster_exactly():
    data = pretrained_bytes(RA)
    manifest, _booster, members = package_load_members(data, max_bytes=len(data) + 1)
    assert manifest["ensemble"]["members"] == len(members) >= 10
    assert_joins_exactly(members, manifest)


def test_members_stopped_at_different_rounds_join_exactly():
    data = pretrained_bytes(RA)
    manifest, _booster, members = package_load_members(data, max_bytes=len(data) + 1)
    short = [m[: max(1, m.num_boosted_rounds() // (k + 2))] for k, m in enumerate(members[:3])]
    assert len({m.num_boosted_rounds() for m in short}) == 3
    assert_joins_exactly(short, manifest)


def test_a_package_whose_members_do_not_match_its_manifest_is_refused():
    data = pretrained_bytes(RA)
    manifest, booster, members = package_load_members(data, max_bytes=len(data) + 1)
    with pytest.raises(PackageError) as caught:
        package_build(manifest=manifest, booster=booster, members=members[:3])
    assert caught.value.check == "members"
    lying = package_copy(package_copy(data, members=False), ensemble=manifest["ensemble"])
    with pytest.raises(PackageError) as caught:
        package_read(lying, max_bytes=len(lying) + 1)
    assert caught.value.check == "members" and f"{len(members)} members" in caught.value.message


def test_a_stored_ranking_carries_intervals_tiers_and_at_most_one_confident_top_suggestion(
        site_lu, ra_model, django_capture_on_commit_callbacks):
    visit = store_ra_visit(site_lu, on_commit=django_capture_on_commit_callbacks)
    payload = recommendation_payload(visit)
    assert payload["rankable"] is True and payload["missing_for_ranking"] == []
    drugs = payload["drugs"]
    for d in drugs:
        assert d["interval"]["level"] == 0.9 and 0 <= d["interval"]["low"] <= d["interval"]["high"] <= 1
    start = [d for d in drugs if d["group"] == "start"]
    assert all(isinstance(d["tier"], int) and d["tier"] >= 1 for d in start)
    assert [d["tier"] for d in start] == sorted(d["tier"] for d in start)
    assert all(d["tier"] is None for d in drugs if d["group"] in ("contraindicated", "current"))
    tops = [d for d in drugs if d["top_suggestion"]]
    assert len(tops) <= 1
    if tops:  # a top suggestion is alone in the first tier
        assert tops[0]["tier"] == 1 and [d["tier"] for d in start].count(1) == 1


def test_the_top_suggestion_follows_the_members_not_the_point_estimate(site_lu, ra_model,
                                                                       django_capture_on_commit_callbacks):
    """Checked against the members themselves: the stored top suggestion is top_suggestion_index's answer."""
    visit = store_ra_visit(site_lu, on_commit=django_capture_on_commit_callbacks)
    rec = Recommendation.objects.get(visit=visit)
    model = model_load(ra_model)
    X = feature_matrix(patient_values(visit), model.features, model.drugs)
    members = model.members_of(xgb.DMatrix(X, missing=np.nan))
    start = [it for it in rec.items.all() if not it.contraindicated and not it.current
             and not any(f["severity"] == "not_licensed" for f in it.flags)]
    columns = [model.drugs.index(it.drug_atc) for it in start]
    top = top_suggestion_index(members[columns].T)
    assert [it.top_suggestion for it in start] == [i == top for i in range(len(start))]


def test_a_visit_without_the_minimum_data_set_is_greyed_with_no_top_suggestion_at_every_door(
        site_lu, ra_model, django_capture_on_commit_callbacks, client, ehr_lu):
    measurements = {k: v for k, v in RA_VISIT.items() if k not in ("tender_joint_count_28", "anti_ccp_positive")}
    visit = store_ra_visit(site_lu, measurements=measurements, on_commit=django_capture_on_commit_callbacks)
    payload = recommendation_payload(visit)
    assert payload["rankable"] is False
    assert payload["missing_for_ranking"] == ["tender_joint_count_28", "anti_ccp_positive"]
    assert payload["ranking_note"].startswith("Not enough data to rank — missing: ")
    assert not any(d["top_suggestion"] for d in payload["drugs"]) and all(d["tier"] is None for d in payload["drugs"])
    assert all(d["interval"] is not None for d in payload["drugs"])  # the estimates keep their intervals


def test_every_minimum_data_set_input_is_a_model_feature_of_its_disease_with_a_reason():
    for disease, inputs in MINIMUM_DATA_SET.items():
        for name, reason in inputs:
            assert name in features_for(disease) and BY_NAME[name].used_for(disease), (disease, name)
            assert len(reason) > 20


def test_a_model_version_without_an_ensemble_still_scores_and_says_it_has_no_interval(
        site_lu, db, django_capture_on_commit_callbacks):
    from recommendations.package import package_sha256
    data = package_copy(pretrained_bytes(RA), members=False, x_copy="single")
    manifest, _, _ = package_read(data, max_bytes=len(data) + 1)
    ModelVersion.objects.create(disease=RA, version=1, status="active", sha256=package_sha256(data), package=data,
                                manifest=manifest, filename="old.zip",
                                validation_report=[{"name": "shipped", "passed": True, "message": ""}])
    visit = store_ra_visit(site_lu, on_commit=django_capture_on_commit_callbacks)
    payload = recommendation_payload(visit)
    assert payload["status"] == "ready" and payload["interval_note"].startswith("No interval for this model version")
    assert all(d["interval"] is None and d["tier"] is None and not d["top_suggestion"] for d in payload["drugs"])


def test_the_api_shap_values_add_up_to_the_margin_for_every_drug(site_lu, ra_model,
                                                                 django_capture_on_commit_callbacks):
    visit = store_ra_visit(site_lu, on_commit=django_capture_on_commit_callbacks)
    payload = recommendation_payload(visit)
    assert len(payload["drugs"]) == len(ra_model.manifest["drugs"])
    for d in payload["drugs"]:
        assert payload["base_value"] + sum(r["shap"] for r in d["shap"]) == pytest.approx(d["margin"], abs=1e-4), \
            d["atc"]


def test_effects_in_percentage_points_add_up_to_the_probability_minus_the_average_patients(
        site_lu, ra_model, django_capture_on_commit_callbacks):
    visit = store_ra_visit(site_lu, on_commit=django_capture_on_commit_callbacks)
    payload = recommendation_payload(visit)
    base = 1 / (1 + np.exp(-payload["base_value"]))
    for d in payload["drugs"]:
        total = sum(r["pp"] for r in d["shap"])
        assert total == pytest.approx((1 / (1 + np.exp(-d["margin"])) - base) * 100, abs=0.01), d["atc"]
        for r in d["shap"]:
            assert np.sign(r["pp"]) == np.sign(r["shap"]) or r["shap"] == 0
            if r["reason"]:
                assert r["value"] is not None and abs(r["pp"]) >= 0.5
        own = next(r for r in d["shap"] if r["feature"] == f"drug:{d['atc']}")
        assert own["text"].endswith("this drug's average response in patients like the cohort")


def test_values_say_their_unit_and_whether_they_are_high_or_low_for_the_patient(
        site_lu, ra_model, django_capture_on_commit_callbacks):
    visit = store_ra_visit(site_lu, measurements={**RA_VISIT, "haemoglobin": 105, "crp": 14.0},
                           on_commit=django_capture_on_commit_callbacks)
    rows = {r["feature"]: r for r in recommendation_payload(visit)["drugs"][0]["shap"]}
    assert rows["crp"]["unit"] == "mg/L" and rows["crp"]["reference"]["position"] == "high"
    assert rows["crp"]["text"] == "CRP 14 mg/L (high; reference ≤ 5)"
    # A woman (the fixture's patient): anaemia below 120 g/L (WHO 2011).
    assert rows["haemoglobin"]["reference"]["position"] == "low"
    assert rows["albumin"]["reference"]["position"] == "within" and "reference" not in rows["albumin"]["text"]


def test_a_malformed_ensemble_member_is_refused_before_xgboost_reads_it():
    import io
    import zipfile

    from recommendations.package import package_checks

    source = zipfile.ZipFile(io.BytesIO(pretrained_bytes(RA)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, b"{not a model" if name == "members/02.ubj" else source.read(name))
    data = out.getvalue()
    report, _, booster = package_checks(data, max_bytes=len(data) + 1)
    failed = next(c for c in report if not c.passed)
    assert booster is None and failed.name == "booster_load" and "members/02.ubj" in failed.message
