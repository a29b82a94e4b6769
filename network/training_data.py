"""A site node's training rows for federated training: its own decided visits with their derived outcomes.

One row per known outcome of the disease at this site (recommendations.outcomes decides it from the later
visits, or the EHR recorded it): the patient's state on the decision visit's date as scoring reads it
(recommendations.scoring.visit_state, through the visit service's records), laid out by
recommendations.features for the drug that was started, and the outcome (responded or not) as label.
Columns are the disease's dictionary features and catalogue candidates, the layout of every package.

Nothing here leaves the node: the Flower client hands the matrices to network.training.site_train_round,
which sends back trees. Patients, not rows, are split into training and validation (80/20, seeded), so
one patient's decisions never sit on both sides.
"""

from __future__ import annotations

import hashlib

import numpy as np
from django.conf import settings

from network.training import SiteData, TrainingError, site_data
from patients.dictionary import features_for
from patients.drugs import candidates_for
from patients.history import failed_classes
from recommendations.features import column_names, feature_matrix
from recommendations.models import OutcomeStatus, RecommendationOutcome
from recommendations.outcomes import outcomes_derive
from recommendations.scoring import visit_state, visits_for_scoring

VALIDATION_SHARE = 0.2


def _validation_patient(patient_id, *, seed: int) -> bool:
    # A stable draw per patient and seed (the same patient is on the same side in every round of a run).
    digest = hashlib.sha256(f"{seed}:{patient_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < VALIDATION_SHARE


def node_rows(*, disease: str, site_code: str, seed: int) -> dict:
    """X, y and the validation mask of this node's known outcomes of the disease (never sent anywhere)."""
    outcomes_derive(site_code=site_code or None)
    features = features_for(disease)
    drugs = [d.atc for d in candidates_for(disease)]
    outcomes = (RecommendationOutcome.objects.filter(disease=disease, status=OutcomeStatus.KNOWN,
                                                     drug_atc__in=drugs)
                .select_related("recommendation").order_by("pk"))
    if site_code:
        outcomes = outcomes.filter(recommendation__visit__site__code=site_code)
    outcomes = list(outcomes)
    visits = {v.pk: v for v in visits_for_scoring([o.recommendation.visit_id for o in outcomes])}
    X = np.empty((len(outcomes), len(features) + len(drugs)), dtype=np.float32)
    y = np.empty(len(outcomes), dtype=np.int8)
    validation = np.zeros(len(outcomes), dtype=bool)
    for i, outcome in enumerate(outcomes):
        visit = visits[outcome.recommendation.visit_id]
        values = visit_state(visit).known()
        failed = failed_classes(visit.patient.therapies.all(), visit.visit_date)
        X[i] = feature_matrix(values, features, drugs, failed_classes=failed)[drugs.index(outcome.drug_atc)]
        y[i] = 1 if outcome.responded else 0
        validation[i] = _validation_patient(visit.patient_id, seed=seed)
    return {"X": X, "y": y, "validation": validation, "columns": column_names(features, drugs)}


def node_site_data(*, disease: str, seed: int, site_code: str | None = None) -> SiteData:
    """This node's SiteData for a run (site_code defaults to the node's own CLINNOVA_SITE)."""
    code = settings.CLINNOVA_SITE if site_code is None else site_code
    rows = node_rows(disease=disease, site_code=code, seed=seed)
    if not len(rows["y"]):
        raise TrainingError(f"{code or 'this node'}: no known outcome of {disease} to train on")
    va = rows["validation"]
    return site_data(site=code, X_train=rows["X"][~va], y_train=rows["y"][~va], X_validation=rows["X"][va],
                     y_validation=rows["y"][va], columns=rows["columns"])


def min_site_rows(requested: int) -> int:
    """The floor of training rows for this node: the hub may ask for more, never for fewer than the site's own."""
    return max(int(requested), settings.NETWORK_TRAIN_MIN_ROWS)
