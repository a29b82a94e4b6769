"""Reads of recommendations for pages and the API, with the synthetic-data notice attached."""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch

from patients import dictionary
from patients.drugs import BY_ATC
from patients.models import Visit
from patients.reference import reference_position
from recommendations import safety
from recommendations.explanations import points, points_scale
from recommendations.features import DRUG_PREFIX, DRUG_RELATIVE, FAILED_CLASSES_KEY, column_label, drug_relative_value
from recommendations.models import JobStatus, Recommendation, RecommendationItem, RecommendationStatus, ScoringJob
from recommendations.tiers import INTERVAL_LEVEL

PENDING, READY, FAILED, NO_ACTIVE_MODEL = "pending", "ready", "failed", "no_active_model"
UNCERTAIN_NOTE = "Some inputs the model uses were not recorded; the ranking is less certain."
NO_INTERVAL_NOTE = "No interval for this model version: it has no bootstrap ensemble, so no tiers or top suggestion."


def not_rankable_note(missing: list[str]) -> str:
    """What a greyed ranking says: "Not enough data to rank — missing: CRP, Albumin"."""
    return "Not enough data to rank — missing: " + ", ".join(dictionary.label(m) for m in missing)


def current_recommendation(visit: Visit) -> Recommendation | None:
    return (
        Recommendation.objects.filter(visit=visit, superseded_at__isnull=True)
        .select_related("model_version")
        .defer("model_version__package")  # the pages need the manifest, not the booster
        .prefetch_related(Prefetch("items", queryset=RecommendationItem.objects.select_related("flag_set")
                                   .order_by("rank")))
        .first()
    )


_LOOK_UP = object()


def recommendation_status(visit: Visit, current: Recommendation | None | object = _LOOK_UP) -> str:
    """pending, ready, failed or no_active_model, as an integrator or clinician reads it.

    `current` is the visit's current recommendation when the caller has read it (None: it has none).
    Otherwise only the statuses are read: the job's first, and the recommendation's only when the job is
    no longer open (every POST answers with this, right after its job was recorded).
    """
    job = ScoringJob.objects.filter(visit=visit).order_by("-created_at").values_list("status", flat=True).first()
    if job in (JobStatus.PENDING, JobStatus.RUNNING):
        return PENDING
    if current is _LOOK_UP:
        rec_status = (Recommendation.objects.filter(visit=visit, superseded_at__isnull=True)
                      .values_list("status", flat=True).first())
    else:
        rec_status = current.status if current is not None else None
    if rec_status is not None:
        return READY if rec_status == RecommendationStatus.READY else NO_ACTIVE_MODEL
    if job == JobStatus.FAILED:
        return FAILED
    return PENDING


# An input moving the probability by less than this many percentage points is not offered as a reason.
EFFECT_FLOOR_PP = 0.5


def explanation(item: RecommendationItem, features: dict, feature_names: list[str],
                base_value: float | None = None) -> list[dict]:
    """SHAP contributions of one drug, largest effect first, each with its value in plain words.

    Every row: feature, label, value, text, shap (log-odds), and with the base value: pp (the effect in
    percentage points, recommendations.explanations.points_scale; the rows' pp add up to the probability minus
    the average patient's), unit, reference (high/low for the patient's reference range, or None) and reason
    (true when the input was recorded and moves the probability by at least EFFECT_FLOOR_PP points).
    The rows' shap add up to margin − base value: the other drugs' indicator columns have a row of their own.
    """
    scale = points_scale(base_value, item.margin) if base_value is not None and item.margin is not None else None
    sex, age = features.get("sex"), features.get("age")
    own = f"{DRUG_PREFIX}{item.drug_atc}"
    rows = []
    for column, value in item.shap_by_column(feature_names).items():
        var = None
        if column == own:
            text = f"{BY_ATC[item.drug_atc].name} itself: this drug's average response in patients like the cohort"
            raw = None
        elif column.startswith(DRUG_PREFIX):
            text = column_label(column)
            raw = None
        else:
            var = dictionary.BY_NAME.get(column)
            if column in DRUG_RELATIVE:
                raw = drug_relative_value(column, item.drug_atc, features.get(FAILED_CLASSES_KEY))
            else:
                raw = features.get(column)
            text = var.describe(raw) if var else column
        row = {"feature": column, "label": column_label(column), "value": raw, "text": text, "shap": value}
        if scale is not None:
            pp = points(value, scale)
            reference = reference_position(column, raw, sex=sex, age=age) if var else None
            if reference and reference["position"] != "within":
                row["text"] = f"{text} ({reference['position']}; reference {reference['range']})"
            row.update(pp=round(pp, 4), unit=var.display_unit if var else "", reference=reference,
                       reason=var is not None and raw is not None and abs(pp) >= EFFECT_FLOOR_PP)
        rows.append(row)
    rows.sort(key=lambda r: -abs(r["shap"]))
    return rows


@contextmanager
def one_snapshot():
    """Reads inside see one committed state of the database, not a mix of before and after a commit.

    Scoring commits a recommendation, its items and its job's "done" together; a reader under READ COMMITTED
    could still see the job done but not (yet, at its earlier query) the recommendation. REPEATABLE READ takes
    one snapshot at the transaction's first query (PostgreSQL); SQLite's read transaction does the same. Inside
    a caller's transaction the caller's isolation applies (the level can only be set before the first query).
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def recommendation_payload(visit: Visit) -> dict:
    """The JSON shape of a visit's recommendation (API and pages share it), read from one snapshot: a "ready"
    status always comes with its drugs."""
    with one_snapshot():
        return _payload(visit)


def _payload(visit: Visit) -> dict:
    current = current_recommendation(visit)
    status = recommendation_status(visit, current)
    payload: dict = {"visit": str(visit.pk), "status": status, "notice": settings.SYNTHETIC_NOTICE}
    if status == FAILED:
        job = ScoringJob.objects.filter(visit=visit).order_by("-created_at").first()
        payload["reason"] = job.reason if job else ""
    if current is None or current.status != RecommendationStatus.READY:
        if status == NO_ACTIVE_MODEL:
            payload["message"] = f"No model is active for {visit.get_disease_display()}."
        return payload
    mv = current.model_version
    ensemble = mv.manifest.get("ensemble")
    payload.update(
        id=current.pk,
        created_at=current.created_at.isoformat(),
        model_version={"id": mv.pk, "disease": mv.disease, "version": mv.version,
                       "outcome": mv.manifest.get("outcome", ""), "trained_on": "synthetic data",
                       "ensemble_members": ensemble["members"] if ensemble else 0},
        base_value=current.base_value,
        missing=[{"name": m, "label": dictionary.label(m)} for m in current.missing],
        # False when an input of the disease's minimum data set is missing: no tiers, no top suggestion.
        rankable=current.rankable,
        missing_for_ranking=list(current.missing_for_ranking),
        drugs=[_item_payload(it, current.features, mv.manifest["features"], current.base_value)
               for it in current.items.all()],
    )
    if current.missing:
        payload["note"] = UNCERTAIN_NOTE
    if not current.rankable:
        payload["ranking_note"] = not_rankable_note(current.missing_for_ranking)
    if not ensemble:
        payload["interval_note"] = NO_INTERVAL_NOTE
    return payload


def interval_of(item: RecommendationItem) -> dict | None:
    """{"low", "high", "level"} of an item's probability, or None for a model version without an ensemble."""
    if item.probability_low is None or item.probability_high is None:
        return None
    return {"low": round(item.probability_low, 4), "high": round(item.probability_high, 4), "level": INTERVAL_LEVEL}


def licensed_of(flags: list[dict]) -> bool | None:
    """False outside the licence, None when the licence could not be confirmed (a check names what is missing)."""
    if any(f["severity"] == safety.NOT_LICENSED for f in flags):
        return False
    if any(f["rule"] == "licence" for f in flags):
        return None
    return True


def _item_payload(item: RecommendationItem, features: dict, feature_names: list[str], base_value: float) -> dict:
    drug = BY_ATC[item.drug_atc]
    return {
        "rank": item.rank,
        "atc": drug.atc,
        "name": drug.name,
        "class": drug.class_label,
        "probability": round(item.probability, 4),
        "interval": interval_of(item),
        # 1 = best; drugs of one tier cannot be told apart (recommendations.tiers). None outside the tiers.
        "tier": item.tier,
        "top_suggestion": item.top_suggestion,
        "contraindicated": item.contraindicated,
        # Already taken on the visit date: "continue" rather than "start", and never the top suggestion.
        "current": item.current,
        # start (licensed, no contraindication), not_licensed, contraindicated, or current: the ranking's groups.
        "group": "current" if item.current else safety.tier_of(item.flags),
        # A current drug's licence was settled when it started: not read again.
        "licensed": None if item.current else licensed_of(item.flags),
        "check_before_starting": any(f["severity"] == safety.CHECK for f in item.flags),
        "flags": item.flags,
        "margin": item.margin,
        "shap": explanation(item, features, feature_names, base_value),
    }
