"""Reads of recommendations for pages and the API, with the synthetic-data notice attached."""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch

from patients import dictionary
from patients.drugs import BY_ATC
from patients.models import Visit
from recommendations import safety
from recommendations.features import DRUG_PREFIX, DRUG_RELATIVE, FAILED_CLASSES_KEY, column_label, drug_relative_value
from recommendations.models import JobStatus, Recommendation, RecommendationItem, RecommendationStatus, ScoringJob

PENDING, READY, FAILED, NO_ACTIVE_MODEL = "pending", "ready", "failed", "no_active_model"
UNCERTAIN_NOTE = "Some inputs the model uses were not recorded; the ranking is less certain."


def current_recommendation(visit: Visit) -> Recommendation | None:
    return (
        Recommendation.objects.filter(visit=visit, superseded_at__isnull=True)
        .select_related("model_version")
        .defer("model_version__package")  # the pages need the manifest, not the booster
        .prefetch_related(Prefetch("items", queryset=RecommendationItem.objects.order_by("rank")))
        .first()
    )


_UNREAD = object()


def recommendation_status(visit: Visit, current: Recommendation | None = _UNREAD) -> str:
    """pending, ready, failed or no_active_model, as an integrator or clinician reads it.

    `current` is the visit's current recommendation when the caller already read it (None: there was none);
    it is never read again here, so a payload's status and its drugs come from the same read.
    """
    current = current_recommendation(visit) if current is _UNREAD else current
    job = ScoringJob.objects.filter(visit=visit).order_by("-created_at").only("status").first()
    if job is not None and job.status in (JobStatus.PENDING, JobStatus.RUNNING):
        return PENDING
    if current is not None:
        return READY if current.status == RecommendationStatus.READY else NO_ACTIVE_MODEL
    if job is not None and job.status == JobStatus.FAILED:
        return FAILED
    return PENDING


def explanation(item: RecommendationItem, features: dict, feature_names: list[str]) -> list[dict]:
    """SHAP contributions of one drug, largest effect first, each with its value in plain words."""
    rows = []
    for column, value in item.shap_by_column(feature_names).items():
        if column.startswith(DRUG_PREFIX):
            text = column_label(column)
            raw = None
        else:
            var = dictionary.BY_NAME.get(column)
            if column in DRUG_RELATIVE:
                raw = drug_relative_value(column, item.drug_atc, features.get(FAILED_CLASSES_KEY))
            else:
                raw = features.get(column)
            text = var.describe(raw) if var else column
        rows.append({"feature": column, "label": column_label(column), "value": raw, "text": text, "shap": value})
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
    payload.update(
        id=current.pk,
        created_at=current.created_at.isoformat(),
        model_version={"id": mv.pk, "disease": mv.disease, "version": mv.version,
                       "outcome": mv.manifest.get("outcome", ""), "trained_on": "synthetic data"},
        base_value=current.base_value,
        missing=[{"name": m, "label": dictionary.label(m)} for m in current.missing],
        drugs=[_item_payload(it, current.features, mv.manifest["features"]) for it in current.items.all()],
    )
    if current.missing:
        payload["note"] = UNCERTAIN_NOTE
    return payload


def licensed_of(flags: list[dict]) -> bool | None:
    """False outside the licence, None when the licence could not be confirmed (a check names what is missing)."""
    if any(f["severity"] == safety.NOT_LICENSED for f in flags):
        return False
    if any(f["rule"] == "licence" for f in flags):
        return None
    return True


def _item_payload(item: RecommendationItem, features: dict, feature_names: list[str]) -> dict:
    drug = BY_ATC[item.drug_atc]
    return {
        "rank": item.rank,
        "atc": drug.atc,
        "name": drug.name,
        "class": drug.class_label,
        "probability": round(item.probability, 4),
        "contraindicated": item.contraindicated,
        # Already taken on the visit date: "continue" rather than "start", and never the top suggestion.
        "current": item.current,
        # start (licensed, no contraindication), not_licensed, contraindicated, or current: the ranking's groups.
        "tier": "current" if item.current else safety.tier_of(item.flags),
        # A current drug's licence was settled when it started: not read again.
        "licensed": None if item.current else licensed_of(item.flags),
        "check_before_starting": any(f["severity"] == safety.CHECK for f in item.flags),
        "flags": item.flags,
        "margin": item.margin,
        "shap": explanation(item, features, feature_names),
    }
