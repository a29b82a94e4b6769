"""A batch stores what scoring each visit alone stores, and what the plain definitions give.

The pipeline shares work across a batch (one percentile call for the intervals, flags kept by the inputs they
read, SHAP rows of a block at once): none of it may change a stored value. Visits are scored one by one as they
are stored, then again together in one batch; every item must match, and match the definitions read afresh
(tiers by `beats`, the percentile interval of the visit's own members, the SHAP row formula, the rules)."""

import datetime as dt
import json
import random

import numpy as np
import pytest
import xgboost as xgb

from patients.drugs import BY_ATC
from patients.services import TherapyInput
from recommendations import safety
from recommendations.conditions import Facts
from recommendations.features import FAILED_CLASSES_KEY, feature_matrix
from recommendations.jobs import jobs_run
from recommendations.models import Recommendation, ScoringJob
from recommendations.scoring import model_load, patient_values, visit_state
from recommendations.tiers import TOP_SUGGESTION_CONFIDENCE, beats, order_by_mean
from tests.recommendations.test_scoring import store_ra_visit

FIELDS = ("drug_atc", "rank", "probability", "margin", "shap", "flags", "contraindicated", "current",
          "probability_low", "probability_high", "tier", "top_suggestion")


def _items(rec):
    return {it.drug_atc: {f: getattr(it, f) for f in FIELDS} for it in rec.items.all()}


def _close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(a - b) <= 1e-9
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


def _random_visits(site, n, rng):
    visits = []
    for i in range(n):
        m = {"tender_joint_count_28": rng.randint(0, 28), "swollen_joint_count_28": rng.randint(0, 20),
             "esr": rng.randint(2, 90), "crp": round(rng.uniform(0.5, 80), 1),
             "patient_global": rng.randint(0, 100), "evaluator_global": rng.randint(0, 100),
             "rf_positive": rng.random() < 0.7, "anti_ccp_positive": rng.random() < 0.6,
             "smoking_status": rng.choice(["never", "former", "current"]), "albumin": round(rng.uniform(30, 48), 1),
             "haemoglobin": rng.choice([128, 128, 95, 150])}
        if rng.random() < 0.3:
            del m["anti_ccp_positive"]  # not rankable: no tiers
        if rng.random() < 0.3:
            m.update(tuberculosis_status="none", hbsag="negative", anti_hbc="negative")
        therapies = rng.choice([[], [], [TherapyInput(drug="methotrexate", started_on=dt.date(2018, 1, 1))],
                                [TherapyInput(drug="etanercept", started_on=dt.date(2019, 1, 1),
                                              stopped_on=dt.date(2019, 9, 1), outcome="primary_non_response")]])
        visits.append((m, therapies, f"EQ-{i}"))
    return visits


@pytest.mark.slow
def test_a_batch_stores_what_each_visit_alone_stores_and_what_the_definitions_give(
        site_lu, ra_model, django_capture_on_commit_callbacks):
    rng = random.Random(12)
    visits = [store_ra_visit(site_lu, measurements=m, therapies=t, value=value,
                             on_commit=django_capture_on_commit_callbacks)
              for m, t, value in _random_visits(site_lu, 16, rng)]
    alone = {v.pk: _items(Recommendation.objects.get(visit=v, superseded_at__isnull=True)) for v in visits}

    safety._FLAGS_CACHE.clear()
    jobs = ScoringJob.objects.bulk_create([ScoringJob(visit=v) for v in visits])
    assert jobs_run([j.pk for j in jobs]) == len(visits)

    model = model_load(ra_model)
    n_f, n_d = len(model.features), len(model.drugs)
    tiered = tops = 0
    for visit in visits:
        rec = Recommendation.objects.get(visit=visit, superseded_at__isnull=True)
        together = _items(rec)
        for atc, item in together.items():
            assert all(_close(item[f], alone[visit.pk][atc][f]) for f in FIELDS), (visit.pk, atc)

        # The definitions, read afresh for this visit alone.
        state = visit_state(visit)
        X = feature_matrix(patient_values(visit), model.features, model.drugs,
                           failed_classes=rec.features[FAILED_CLASSES_KEY])
        dm = xgb.DMatrix(X, missing=np.nan)
        # The booster's SHAP values with the package's per-drug recalibration (LoadedModel.contributions_of).
        rounded = np.round(model.contributions_of(dm).astype(np.float64), 6)
        members = model.members_of(dm)
        for d, atc in enumerate(model.drugs):
            item = together[atc]
            row = rounded[d, :n_f].tolist() + [rounded[d, n_f + d].item(),
                                               round(float(rounded[d, n_f:n_f + n_d].sum() - rounded[d, n_f + d]), 6)]
            assert _close(item["shap"], row)
            assert _close(item["probability_low"], round(float(np.percentile(members[d], 5)), 6))
            assert _close(item["probability_high"], round(float(np.percentile(members[d], 95)), 6))
            fresh = safety._drug_flags(BY_ATC[atc], Facts.of(state, disease="rheumatoid_arthritis"),
                                       safety.rules_for(BY_ATC[atc]), current=atc in state.current_drugs)
            assert item["flags"] == json.loads(json.dumps(fresh))
        start = [atc for atc, it in together.items() if not it["current"]
                 and safety.tier_of(it["flags"]) == safety.START]
        if not rec.rankable or not start:
            assert all(it["tier"] is None and not it["top_suggestion"] for it in together.values())
            continue
        p = members[[model.drugs.index(atc) for atc in start]].T
        order = order_by_mean(p)
        expected, number = {start[order[0]]: 1}, 1
        for prev, j in zip(order, order[1:]):
            number += beats(p, prev, j) >= 0.8
            expected[start[j]] = number
        assert {atc: together[atc]["tier"] for atc in start} == expected
        leader = order[0]
        wins = np.mean(p[:, leader] > np.delete(p, leader, axis=1).max(axis=1)) if len(start) > 1 else 0
        assert [atc for atc in start if together[atc]["top_suggestion"]] == (
            [start[leader]] if len(start) > 1 and wins >= TOP_SUGGESTION_CONFIDENCE else [])
        tiered += 1
        tops += wins >= TOP_SUGGESTION_CONFIDENCE
    assert tiered >= 3  # the tier checks ran on several visits
