"""Each distinct list of flags is stored once (FlagSet) and items point at it: visits that share a list share its
row, workers inserting the same list at once store one, a failed batch leaves none, and every reader sees the
flags the items carried before."""

import datetime as dt
import importlib
import json
import threading
import time

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from patients.drugs import BY_ATC
from recommendations import jobs, safety, scoring
from recommendations.conditions import Facts
from recommendations.flag_sets import flag_sets_resolve, flags_digest
from recommendations.models import FlagSet, JobStatus, Recommendation, RecommendationItem, ScoringJob
from recommendations.scoring import visit_state
from recommendations.selectors import recommendation_payload
from tests.conftest import services_missing
from tests.recommendations.test_scoring import store_ra_visit
from tests.recommendations.test_scoring_pipeline import pending_visits

CHECK = {"severity": "check_before_starting", "rule": "tuberculosis_screening", "message": "Screen for TB.",
         "source": "SmPC 4.4", "verified": "Y", "evidence": [{"variable": "tuberculosis_status", "value": None}]}
CAUTION = {"severity": "caution", "rule": "smoking", "message": "Smoker.", "source": "SmPC 4.4", "verified": "P",
           "evidence": [{"variable": "smoking_pack_years", "value": 25}]}


def items_of(visit) -> dict[str, RecommendationItem]:
    rec = Recommendation.objects.get(visit=visit, superseded_at__isnull=True)
    return {it.drug_atc: it for it in rec.items.select_related("flag_set")}


def test_two_visits_with_the_same_record_share_their_flag_sets(site_lu, ra_model, django_capture_on_commit_callbacks):
    first = items_of(store_ra_visit(site_lu, value="RA-1", on_commit=django_capture_on_commit_callbacks))
    second = items_of(store_ra_visit(site_lu, value="RA-2", on_commit=django_capture_on_commit_callbacks))
    assert {atc: it.flag_set_id for atc, it in first.items()} == {atc: it.flag_set_id for atc, it in second.items()}
    assert FlagSet.objects.count() == len({it.flag_set_id for it in first.values()})


def test_a_list_stored_again_or_with_its_keys_in_another_order_is_the_same_set(db):
    lists = [json.dumps([CHECK]), json.dumps([CHECK, CAUTION]), json.dumps([])]
    ids = flag_sets_resolve(lists)
    assert flag_sets_resolve(lists) == ids
    reordered = json.dumps([{key: CHECK[key] for key in reversed(CHECK)}])
    assert flag_sets_resolve([reordered]) == {reordered: ids[lists[0]]}
    assert FlagSet.objects.count() == 3
    assert [FlagSet.objects.get(pk=ids[text]).flags for text in lists] == [[CHECK], [CHECK, CAUTION], []]


def test_one_and_one_point_zero_are_different_lists(db):
    """The pages show the evidence as recorded: 25 and 25.0 must not be stored as one of them."""
    as_float = json.dumps([{**CAUTION, "evidence": [{"variable": "smoking_pack_years", "value": 25.0}]}])
    ids = flag_sets_resolve([json.dumps([CAUTION]), as_float])
    assert len(set(ids.values())) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_inserting_the_same_new_lists_at_once_store_each_once():
    if connection.vendor == "sqlite":
        services_missing("concurrent writers need PostgreSQL (SQLite answers 'database is locked')")
    lists = [json.dumps([{**CHECK, "message": f"Screen for TB ({i})."}]) for i in range(20)]
    inserted, results = threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                results["first"] = flag_sets_resolve(lists)
                inserted.set()
                time.sleep(0.3)  # the second worker inserts the same rows meanwhile, and waits for this commit
        finally:
            connection.close()

    def second():
        try:
            inserted.wait(5)
            with transaction.atomic():
                results["second"] = flag_sets_resolve(list(reversed(lists)))
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["first"] == results["second"]
    assert FlagSet.objects.count() == 20


def test_a_batch_that_fails_while_writing_leaves_no_flag_set(site_lu, ra_model, monkeypatch):
    ids = pending_visits(site_lu, 3)
    store = scoring._store

    def items_clash(recs, items):
        items[0].append(dict(items[0][0]))  # the same drug twice: the items' unique constraint refuses it
        store(recs, items)

    monkeypatch.setattr(scoring, "_store", items_clash)
    jobs.jobs_run(ids)
    assert set(ScoringJob.objects.filter(pk__in=ids).values_list("status", flat=True)) == {JobStatus.FAILED}
    assert "IntegrityError" in ScoringJob.objects.get(pk=ids[0]).reason
    assert not Recommendation.objects.exists()
    assert not FlagSet.objects.exists()


def test_the_recommendation_shows_the_flags_the_rules_give(site_lu, ra_model, django_capture_on_commit_callbacks,
                                                          django_assert_max_num_queries):
    visit = store_ra_visit(site_lu, on_commit=django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(6):  # one query for the items and their sets, not one per item
        payload = recommendation_payload(visit)
    state = visit_state(visit)
    facts = Facts.of(state, disease="rheumatoid_arthritis")
    for drug in payload["drugs"]:
        fresh = safety.drug_flags(BY_ATC[drug["atc"]], facts, current=drug["atc"] in state.current_drugs)
        assert drug["flags"] == json.loads(json.dumps(fresh))


def test_the_migration_digest_is_the_pipelines():
    migration = importlib.import_module("recommendations.migrations.0014_item_flags_into_sets")
    for flags in ([], [CHECK], [CHECK, CAUTION], [{"value": 1.0, "when": None, "ok": True, "é": "µg/g"}]):
        assert migration.flags_digest(flags) == flags_digest(flags)


BEFORE = [("recommendations", "0012_item_json_lz4")]
AFTER = [("recommendations", "0015_item_flags_column_removed")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_stored_items_flags_into_shared_sets_and_back(site_lu):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    patient = old.get_model("patients", "Patient").objects.create(site_id=site_lu.pk, sex="female", birth_year=1970)
    Visit = old.get_model("patients", "Visit")
    Recommendation_ = old.get_model("recommendations", "Recommendation")
    Item = old.get_model("recommendations", "RecommendationItem")
    stored = {}
    for n, lists in enumerate([[[CHECK], [], [CHECK, CAUTION]], [[CHECK], [CAUTION], []]]):
        visit = Visit.objects.create(patient=patient, site_id=site_lu.pk, disease="rheumatoid_arthritis",
                                     visit_date=dt.date(2025, 1, 1 + n), source="api", source_id=f"V-{n}")
        rec = Recommendation_.objects.create(visit=visit, status="ready")
        for rank, flags in enumerate(lists, start=1):
            item = Item.objects.create(recommendation=rec, drug_atc=f"L04AB0{rank}", rank=rank, probability=0.5,
                                       margin=0.0, flags=flags)
            stored[item.pk] = flags

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    items = new.get_model("recommendations", "RecommendationItem").objects.select_related("flag_set")
    assert {it.pk: it.flag_set.flags for it in items} == stored
    assert new.get_model("recommendations", "FlagSet").objects.count() == 4  # [CHECK], [], both, [CAUTION]
    # The pipeline finds the migrated sets by their digest: nothing new for a list stored before.
    assert flag_sets_resolve([json.dumps([CHECK])]) == {json.dumps([CHECK]): items.get(pk=min(stored)).flag_set_id}

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    back = executor.loader.project_state(BEFORE).apps
    assert dict(back.get_model("recommendations", "RecommendationItem").objects.values_list("pk", "flags")) == stored
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
