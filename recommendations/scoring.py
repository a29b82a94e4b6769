"""Scoring: visits × candidate drugs → probability, rank, SHAP values and safety flags.

One vectorised XGBoost call per disease scores a whole batch of visits for all
their candidates; `pred_contribs` gives the TreeSHAP values (the algorithm of
shap.TreeExplainer, checked equal by a test) whose sum is the model margin.
A second call scores the same rows with the package's bootstrap ensemble, joined
into one booster (recommendations.ensemble): its members give each probability a
90 % interval and group the drugs into tiers (recommendations.tiers).
A package's per-drug recalibration (recommendations.recalibration) is applied to
the booster's margin and its SHAP values, and each member's own block to that
member's margin.
Results are written with bulk inserts.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np
import xgboost as xgb
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from patients.dictionary import minimum_data_set
from patients.drugs import BY_ATC
from patients.history import failed_classes
from patients.models import Diagnosis, RecordEntry, TherapyExposure, Visit
from patients.state import PatientState, patient_state
from recommendations import safety
from recommendations.canary import reference_rows
from recommendations.conditions import Facts
from recommendations.ensemble import Ensemble, ensemble_join
from recommendations.features import DRUG_RELATIVE, FAILED_CLASSES_KEY, column_names, feature_matrix
from recommendations.flag_sets import flag_sets_resolve
from recommendations.models import (
    ModelStatus,
    ModelVersion,
    Recommendation,
    RecommendationItem,
    RecommendationStatus,
    ScoringJob,
)
from recommendations.package import package_load_members
from recommendations.recalibration import (
    contributions_recalibrate,
    margins_recalibrate,
    members_coefficients,
    members_recalibrate,
)
from recommendations.tiers import interval, tiers_and_top


@dataclass(frozen=True)
class LoadedModel:
    version_id: int
    disease: str
    features: list[str]
    drugs: list[str]
    columns: list[str]
    booster: xgb.Booster
    # Precomputed once per model: the rules that can fire for each drug.
    rules: dict
    # The bootstrap ensemble, joined into one booster; None for a package without members (no intervals).
    ensemble: Ensemble | None = None
    # The manifest's per-drug recalibration block, or None (recommendations.recalibration).
    recalibration: dict | None = None
    # Each member's recalibration as (intercept, slope) arrays of (n_drugs, n_members); None without an ensemble.
    member_coefficients: tuple[np.ndarray, np.ndarray] | None = None

    def shap_of(self, block: np.ndarray, d: int) -> list[float]:
        """SHAP values of one drug's row of a (rounded) block, stored compactly: the features in manifest
        order, the drug's own indicator, then the other drugs' indicators summed (see
        RecommendationItem.shap_by_column).

        The other drugs' indicators are 0 in this row, yet the trees split on them, so they carry small
        contributions. They say nothing about the patient, but without them the stored values would not add
        up to the margin: base value + every stored value = margin.
        """
        return self.shap_rows(block)[d]

    def shap_rows(self, block: np.ndarray) -> list[list[float]]:
        """shap_of for every drug row of the block, in a few array operations instead of a few per row (each
        row's indicator sum is the same per-row summation)."""
        n_f, n_d = len(self.features), len(self.drugs)
        indicators = block[:, n_f:n_f + n_d]
        own = np.diagonal(indicators)
        others = (indicators.sum(axis=1) - own).tolist()
        rows = block[:, :n_f].tolist()
        for row, mine, rest in zip(rows, own.tolist(), others):
            row.append(mine)
            row.append(round(rest, SHAP_DIGITS))
        return rows

    def drug_positions(self, n_rows: int) -> np.ndarray:
        """The manifest position of each row's drug in stacked candidate blocks (n_drugs rows per visit)."""
        return np.tile(np.arange(len(self.drugs)), n_rows // len(self.drugs))

    def drug_keys(self, n_rows: int) -> np.ndarray:
        """The drug of each row of stacked candidate blocks (n_drugs rows per visit, in manifest order)."""
        return np.asarray(self.drugs)[self.drug_positions(n_rows)]

    def members_of(self, matrix: xgb.DMatrix) -> np.ndarray | None:
        """(n_rows, n_members) recalibrated ensemble probabilities of the rows, or None without an ensemble."""
        if self.ensemble is None:
            return None
        coefficients = self.member_coefficients or members_coefficients(self.recalibration, None, self.drugs,
                                                                        self.ensemble.size)
        margins = members_recalibrate(self.ensemble.margins(matrix), self.drug_positions(matrix.num_row()),
                                      coefficients)
        return 1.0 / (1.0 + np.exp(-margins))

    def contributions_of(self, matrix: xgb.DMatrix) -> np.ndarray:
        """TreeSHAP contributions of the rows (features and drug indicators, base value last), recalibrated.

        Recalibration gives each drug its own base value (intercept + slope · base); the stored recommendation
        keeps one base value for all its drugs (the booster's), so the difference is added to the row's own drug
        indicator — "the drug itself", this drug's average response — and base + Σ values = margin' still holds.
        """
        contribs = self.booster.predict(matrix, pred_contribs=True)
        if not self.recalibration:
            return contribs
        base = float(contribs[0, -1])
        out = contributions_recalibrate(contribs, self.drug_keys(len(contribs)), self.recalibration)
        own = len(self.features) + self.drug_positions(len(out))
        out[np.arange(len(out)), own] += out[:, -1] - base
        out[:, -1] = base
        return out

    def probabilities_of(self, matrix: xgb.DMatrix) -> np.ndarray:
        """The booster's recalibrated probabilities of the rows (no SHAP values)."""
        margins = self.booster.predict(matrix, output_margin=True)
        return 1.0 / (1.0 + np.exp(-margins_recalibrate(margins, self.drug_keys(len(margins)), self.recalibration)))


# Rows per INSERT statement: 13 parameters each stays under SQLite's 32,766-parameter limit.
ITEM_INSERT_CHUNK = 1000
# Stored SHAP values keep 6 decimals: ~25 values then add up to the margin within ~1e-5 (the API promises 1e-4).
SHAP_DIGITS = 6

# Model versions are immutable, so a process keeps each one it has loaded.
# Keyed by id and file hash: a database restored or re-created under the same ids (tests do) cannot make
# a process answer with another version's booster.
_loaded: dict[tuple[int, str], LoadedModel] = {}
# Parsing a package (booster and ten members) and joining the members takes ~0.5-1 s and depends on the
# package bytes only, so the parsed model is kept by their hash: the same package registered again (another
# database, a re-created version) is not parsed twice.
_parsed: dict[str, LoadedModel] = {}
_lock = threading.Lock()


def model_load(version: ModelVersion) -> LoadedModel:
    with _lock:
        key = (version.pk, version.sha256)
        cached = _loaded.get(key)
        if cached is not None:
            return cached
        parsed = _parsed.get(version.sha256)
        if parsed is None:
            parsed = _parsed[version.sha256] = _model_parse(
                bytes(ModelVersion.objects.values_list("package", flat=True).get(pk=version.pk)))
        loaded = _loaded[key] = replace(parsed, version_id=version.pk)
        return loaded


def _model_parse(data: bytes) -> LoadedModel:
    manifest, booster, members = package_load_members(data, max_bytes=len(data) + 1)
    booster.set_param({"nthread": 1})
    features, drugs = manifest["features"], manifest["drugs"]
    ensemble = ensemble_join(members, reference=reference_rows(features, drugs)) if members else None
    coefficients = (members_coefficients(manifest.get("recalibration"), manifest["ensemble"].get("recalibration"),
                                         drugs, len(members)) if members else None)
    return LoadedModel(0, manifest["disease"], features, drugs, column_names(features, drugs), booster,
                       rules={atc: safety.rules_for(BY_ATC[atc]) for atc in drugs}, ensemble=ensemble,
                       recalibration=manifest.get("recalibration"), member_coefficients=coefficients)


def active_versions() -> dict[str, ModelVersion]:
    return {mv.disease: mv for mv in ModelVersion.objects.filter(status=ModelStatus.ACTIVE).defer("package")}


def visit_state(visit: Visit) -> PatientState:
    """The patient's state as the visit saw it: what features and rules read (see patients.state)."""
    return patient_state(visit.patient, on=visit.visit_date, visit=visit, disease=visit.disease)


def patient_values(visit: Visit) -> dict:
    """The current values of the visit's patient state, as the model and the safety rules see them."""
    return visit_state(visit).known()


def state_prefetches(prefix: str = "") -> list[Prefetch]:
    """What patient_state reads of a patient, as prefetches (the stored scores and other JSON are not decoded)."""
    history = Visit.objects.only("id", "patient_id", "visit_date", "created_at", "measurements", "source",
                                 "source_id", "disease")
    return [Prefetch(f"{prefix}therapies", queryset=TherapyExposure.objects.order_by("started_on")),
            Prefetch(f"{prefix}diagnoses", queryset=Diagnosis.objects.all()),
            Prefetch(f"{prefix}entries", queryset=RecordEntry.objects.all()),
            Prefetch(f"{prefix}visits", queryset=history)]


def visits_for_scoring(visit_ids) -> list[Visit]:
    """The visits with everything their patients' states read, in five queries however many there are."""
    return list(
        Visit.objects.filter(pk__in=visit_ids).select_related("patient")
        .only("id", "disease", "visit_date", "created_at", "measurements", "patient__id", "patient__birth_year",
              "patient__sex")
        .prefetch_related(*state_prefetches("patient__"))
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# The order of the ranking, in one place: drugs to start (licensed, not contraindicated), then drugs outside their
# licence, then contraindicated drugs, each by probability; the patient's current drugs come last, marked as current.
TIERS = (safety.START, safety.OUTSIDE_LICENCE, safety.CONTRAINDICATED_TIER)


def _rank(items: list[dict], members: np.ndarray | None = None, *, rankable: bool = True) -> None:
    """Order the items (see TIERS) and, with ensemble members ((n_drugs, n_members) in item order of
    model.drugs, i.e. item["_column"]), give the drugs to start and those outside their licence their tiers,
    and the top suggestion when one drug to start beats all the others (recommendations.tiers).

    Without members (a model version without an ensemble) or without the minimum data set there are no tiers
    and no top suggestion: nothing supports an order beyond the point estimates.
    """
    # Each item's place in TIERS, read once from its flags (the sorts below would read them for every comparison).
    group_of = {id(it): TIERS.index(safety.tier_of(it["flags"])) for it in items}
    items.sort(key=lambda it: (it["current"], group_of[id(it)], -it["probability"], it["drug_atc"]))
    for item in items:
        item.setdefault("tier", None)
        item.setdefault("top_suggestion", False)
    if members is not None and rankable:
        number = 0
        for group in (TIERS.index(safety.START), TIERS.index(safety.OUTSIDE_LICENCE)):
            grouped = [it for it in items if not it["current"] and group_of[id(it)] == group]
            if not grouped:
                continue
            tiers, top = tiers_and_top(members[[it["_column"] for it in grouped]].T)
            for tier in tiers:
                for j in tier.indices:
                    grouped[j]["tier"] = number + tier.number
            number += len({it["tier"] for it in grouped})
            if group == TIERS.index(safety.START) and top is not None:
                grouped[top]["top_suggestion"] = True
        # Inside each group, tier by tier (inside a tier the page says "similar"; the order is the point estimate).
        items.sort(key=lambda it: (it["current"], group_of[id(it)], it["tier"] or 0, -it["probability"],
                                   it["drug_atc"]))
    for rank, item in enumerate(items, start=1):
        item["rank"] = rank


def ranking_missing(values: dict, disease: str) -> list[str]:
    """The inputs of the disease's minimum data set that are unknown in these values (empty: rankable)."""
    return [name for name in minimum_data_set(disease) if values.get(name) is None]


def rows_score(model: LoadedModel, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(TreeSHAP contributions, ensemble member probabilities or None) of stacked feature rows, recalibrated."""
    matrix = xgb.DMatrix(rows, missing=np.nan, nthread=1)
    return model.contributions_of(matrix), model.members_of(matrix)


def recommendations_compute(jobs: list[ScoringJob]) -> list[Recommendation]:
    """Score the visits of these jobs and store one current recommendation per visit."""
    recs, items = recommendations_build(jobs)
    _store(recs, items)
    return recs


def recommendations_build(jobs: list[ScoringJob]) -> tuple[list[Recommendation], list[list[dict]]]:
    """The recommendations of these jobs' visits and their ranked items, unsaved: reads and arithmetic only, so
    a pipeline can write one batch (recommendations_store) while it builds the next."""
    visits = {v.pk: v for v in visits_for_scoring([j.visit_id for j in jobs])}
    active = active_versions()
    by_disease: dict[str, list[ScoringJob]] = defaultdict(list)
    for job in jobs:
        if job.visit_id in visits:
            by_disease[visits[job.visit_id].disease].append(job)

    recs: list[Recommendation] = []
    items: list[list[dict]] = []
    for disease, disease_jobs in by_disease.items():
        version = active.get(disease)
        if version is None:
            for job in disease_jobs:
                recs.append(Recommendation(visit_id=job.visit_id, job=job, status=RecommendationStatus.NO_ACTIVE_MODEL))
                items.append([])
            continue
        model = model_load(version)
        states = [visit_state(visits[j.visit_id]) for j in disease_jobs]
        values = [state.known() for state in states]
        failed = [sorted(failed_classes(visits[j.visit_id].patient.therapies.all(), visits[j.visit_id].visit_date))
                  for j in disease_jobs]
        matrices = [feature_matrix(v, model.features, model.drugs, failed_classes=f) for v, f in zip(values, failed)]
        contribs, members = rows_score(model, np.vstack(matrices))
        n_drugs = len(model.drugs)
        # Every row's interval in one percentile call instead of one per visit (the same per-column arithmetic).
        bounds = None if members is None else interval(members.T)
        for i, (job, state, vals, classes) in enumerate(zip(disease_jobs, states, values, failed)):
            block = contribs[i * n_drugs:(i + 1) * n_drugs]
            visit = visits[job.visit_id]
            missing = [f for f in model.features if f not in DRUG_RELATIVE and vals.get(f) is None]
            for_ranking = ranking_missing(vals, disease)
            recs.append(Recommendation(
                visit_id=visit.pk, job=job, status=RecommendationStatus.READY, model_version=version,
                # With the drug classes that failed before, the drug-relative feature of every row is known too.
                features={**{f: vals.get(f) for f in model.features if f not in DRUG_RELATIVE},
                          FAILED_CLASSES_KEY: classes}, missing=missing,
                base_value=float(block[0, -1]), rankable=not for_ranking, missing_for_ranking=for_ranking,
            ))
            items.append(items_ranked(model, block, facts=Facts.of(state, disease=disease),
                                      current=state.current_drugs, rankable=not for_ranking,
                                      members=None if members is None else members[i * n_drugs:(i + 1) * n_drugs],
                                      bounds=None if bounds is None else (bounds[0][i * n_drugs:(i + 1) * n_drugs],
                                                                          bounds[1][i * n_drugs:(i + 1) * n_drugs])))
    return recs, items


def items_ranked(model: LoadedModel, block: np.ndarray, *, facts: Facts, current: set[str] = frozenset(),
                 members: np.ndarray | None = None, rankable: bool = True,
                 bounds: tuple[np.ndarray, np.ndarray] | None = None) -> list[dict]:
    """One row per candidate drug, ranked, with probability, its interval over the ensemble `members`
    ((n_drugs, n_members) probabilities, None without an ensemble), tier and top suggestion, safety and licence
    flags (read from the patient's state, `facts`) and SHAP values (plain dicts: thousands per batch, written
    by _store; the CDS service ranks unsaved visits with it too). `bounds`: the members' interval (low, high per
    drug) when the caller computed it for a whole batch at once."""
    margins = block.sum(axis=1, dtype=np.float64)
    rounded = np.round(block.astype(np.float64), SHAP_DIGITS)  # once per visit, not per value
    probs = _sigmoid(margins)
    if not np.all(np.isfinite(probs)):
        raise ValueError(f"model version {model.version_id} produced a non-finite probability")
    out = _flagged(model, probs, facts=facts, current=current)
    if members is not None and bounds is None:
        bounds = interval(members.T)
    low, high = ([None] * len(out),) * 2 if bounds is None else (bounds[0].tolist(), bounds[1].tolist())
    for d, (item, margin, shap) in enumerate(zip(out, margins.tolist(), model.shap_rows(rounded))):
        item.update(margin=margin, shap=shap,
                    probability_low=None if low[d] is None else round(low[d], 6),
                    probability_high=None if high[d] is None else round(high[d], 6))
    _rank(out, members, rankable=rankable)
    return out


def ranked_by_probability(model: LoadedModel, probs: np.ndarray, *, facts: Facts,
                          current: set[str] = frozenset(), members: np.ndarray | None = None,
                          rankable: bool = True) -> list[dict]:
    """The candidates ranked as items_ranked ranks them, from probabilities and the ensemble `members` (as there:
    tiers first, then the point estimate) without SHAP values: what the activation preview needs to count the
    patients whose top suggestion a candidate model would change."""
    out = _flagged(model, probs, facts=facts, current=current)
    _rank(out, members, rankable=rankable)
    return out


def _flagged(model: LoadedModel, probs: np.ndarray, *, facts: Facts, current: set[str]) -> list[dict]:
    out = []
    for d, atc in enumerate(model.drugs):
        flags, encoded = safety.drug_flags_encoded(BY_ATC[atc], facts, model.rules[atc], current=atc in current)
        # "_flags_json": the flags as _store stores them, encoded once for every patient who shares them.
        # "_column": the drug's place in model.drugs, where its ensemble members are (_rank's tiers read them).
        out.append({"drug_atc": atc, "_column": d, "rank": 0, "probability": round(float(probs[d]), 6),
                    "flags": flags, "contraindicated": any(f["severity"] == safety.CONTRAINDICATED for f in flags),
                    "current": atc in current, "_flags_json": encoded})
    return out


def _json_floats(values: list[float]) -> str:
    """A JSON array of finite floats; what json.dumps gives, at a fraction of its cost for thousands of rows."""
    return "[" + ",".join(map(repr, values)) + "]"


def recommendations_store(recs: list[Recommendation], items: list[list[dict]]) -> None:
    """Write what recommendations_build returned (in the caller's transaction, or one of its own)."""
    _store(recs, items)


def _store(recs: list[Recommendation], items: list[list[dict]]) -> None:
    """Supersede the visits' current recommendations and write the new ones with bulk inserts."""
    if not recs:
        return
    now = timezone.now()
    with transaction.atomic():
        Recommendation.objects.filter(visit_id__in=[r.visit_id for r in recs], superseded_at__isnull=True).update(
            superseded_at=now)
        for r in recs:
            r.created_at = now
        Recommendation.objects.bulk_create(recs)
        encoded = [[it.get("_flags_json") or json.dumps(it["flags"]) for it in rec_items] for rec_items in items]
        # Each distinct list once (recommendations.flag_sets), in this transaction: a failed batch leaves none.
        flag_set_ids = flag_sets_resolve([text for texts in encoded for text in texts])
        # Thousands of rows per batch: multi-row INSERTs with JSON encoded here beat the ORM's per-field work
        # (and psycopg2's executemany, which makes one round trip per row).
        rows = [(rec.pk, it["drug_atc"], it["rank"], it["probability"], it["margin"], _json_floats(it["shap"]),
                 flag_set_ids[text], it["contraindicated"], it["current"],
                 it.get("probability_low"), it.get("probability_high"), it.get("tier"), it.get("top_suggestion", False))
                for rec, rec_items, texts in zip(recs, items, encoded) for it, text in zip(rec_items, texts)]
        table = RecommendationItem._meta.db_table
        with connection.cursor() as cursor:
            for start in range(0, len(rows), ITEM_INSERT_CHUNK):
                chunk = rows[start:start + ITEM_INSERT_CHUNK]
                values = ", ".join(["(" + ", ".join(["%s"] * 13) + ")"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} (recommendation_id, drug_atc, rank, probability, margin, shap, flag_set_id, "
                    f"contraindicated, current, probability_low, probability_high, tier, top_suggestion) "
                    f"VALUES {values}", [v for row in chunk for v in row])
