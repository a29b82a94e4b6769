"""The federated model as a normal package: manifest (with its model card) and booster, registered as an upload.

Metrics are those of recommendations.training, on the pooled held-out test patients of the synthetic cohort
(regenerated at the hub from its seed: synthetic rows, no site's data), whichever rows the sites trained on.
The card names the sites, rounds, bytes exchanged and wall time; the federated evaluation on the sites' real
outcomes is run afterwards as for any version (evaluate_federated).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import xgboost
from django.conf import settings
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from network.flower.records import TRAIN
from network.models import FederatedRun
from network.training_compare import split_make
from recommendations import training
from recommendations.package import OUTCOMES, package_build
from recommendations.recalibration import margins_recalibrate
from recommendations.registry import model_version_upload

# The synthetic cohort size whose held-out patients give a node-trained model its test metrics.
TEST_PATIENTS = 20_000


def _metrics(*, split, booster: xgboost.Booster, rounds: int, recalibration: dict | None) -> dict:
    """The package's figures as scoring will compute its probabilities: after the per-drug recalibration."""
    c = split.cohort
    test = split.test

    def probabilities(matrix, drugs):
        margin = margins_recalibrate(booster.predict(matrix, output_margin=True), drugs, recalibration)
        return 1 / (1 + np.exp(-margin))
    p = probabilities(xgboost.DMatrix(c.X[test], missing=np.nan, feature_names=c.columns, nthread=1),
                      c.drug_atc[test])
    validation = split.pooled.validation
    return {"test": training.heldout_metrics(y=c.y[test], p=p),
            "per_drug": training.per_drug_metrics(cohort=c, rows=test, p=p),
            "validation": training.split_metrics(y=validation.get_label(),
                                                 p=probabilities(validation, split.pooled.validation_drugs)),
            "best_iteration": int(booster.num_boosted_rounds() - 1), "x_rounds": rounds}


def manifest_federated(*, disease: str, seed: int, n_patients: int, booster: xgboost.Booster, how: dict) -> dict:
    """model_train's manifest for this booster, its card saying how it was trained (how: sites, rounds, bytes…)."""
    split = split_make(disease=disease, seed=seed, n_patients=n_patients)
    recalibration = how.get("recalibration")
    metrics = _metrics(split=split, booster=booster, rounds=how["rounds"], recalibration=recalibration)
    sizes = {"train": int(split.pooled.train.num_row()), "validation": int(split.pooled.validation.num_row()),
             "test": len(split.test)}
    created = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    manifest = training.manifest_compose(cohort=split.cohort, metrics=metrics, split=sizes, created_at=created)
    card = manifest["model_card"]
    if how.get("data", "cohort") == "nodes":
        # The rows were the sites' own decided visits and outcomes, not the synthetic cohort.
        n = sum(how["site_rows"].values())
        description = (f"The known outcomes ({OUTCOMES[disease]}) of decided visits recorded at the site nodes "
                       f"{', '.join(sorted(how['site_rows']))}: {n:,} training rows in all (80 % of each site's "
                       "patients; the other 20 % decided early stopping), features read from each patient's state "
                       "on the decision date. The rows never left their sites.")
        manifest["training_data"] = {**manifest["training_data"], "description": description, "n_patients": n,
                                     "n_rows": n, "synthetic": settings.NETWORK_SITES_SYNTHETIC}
        card["training_data"] = description
        card["evaluation_data"] += " None of these synthetic patients was a training row."
    where = ", ".join(f"{code} ({n:,} training patients)" for code, n in sorted(how["site_rows"].items()))
    if how["local"]:
        card["model_details"] += f" Trained at one site only ({where}), for comparison with federated training."
    else:
        card["model_details"] += (
            f" Trained federated with Flower ({how['strategy']}: FedXgb{how['strategy'].capitalize()}) across "
            f"{where}: {how['rounds']} rounds kept of {how['rounds_run']} run (early stopping on the sites' summed "
            f"validation log-loss), {how['bytes'] / 1e6:.1f} MB exchanged, {how['seconds']:.0f} s wall time. "
            f"Only trees crossed the network (gains zeroed, covers rounded); no patient row left a site.")
    if recalibration:
        card["model_details"] += (
            f" Recalibrated per drug (intercept and slope of its log-odds, {len(recalibration['drugs'])} drugs) "
            f"in {how['recalibration_steps']} federated Newton steps on per-drug sums of the sites' validation "
            "rows; the metrics below are of the recalibrated probabilities.")
        manifest["recalibration"] = recalibration
    card["metrics"] += " Measured at the hub on the pooled synthetic test patients, never seen by any site's training."
    manifest["x_federated"] = {k: v for k, v in how.items() if k != "recalibration"}
    manifest["x_params"] = {**manifest["x_params"], "base_score": 0.5}
    return manifest


def federated_register(*, manifest: dict, booster: xgboost.Booster, actor: Actor, filename: str):
    """Build the package and register it through the same checks as an upload (validated before returning)."""
    data = package_build(manifest=manifest, booster=booster)
    return model_version_upload(data=data, filename=filename, actor=actor, validate_now=True)


def training_run_register(run: FederatedRun):
    """Package the booster of a finished training run and register it (validated before returning).

    Called once, by the hub's ServerApp, after the last round; the run's row then names the version.
    """
    from network.training import final_booster  # noqa: PLC0415 (xgboost only here)

    cfg, result = run.config, run.result
    # The replies that carried trees: the sites the model holds trees of. A recalibration reply carries sums, and
    # the count round of weighted bagging and the last validation carry a count but no trees.
    trained = run.messages.exclude(content=None).filter(message_type=TRAIN)
    site_rows = {m.site_code: m.content["n_train"] for m in trained if m.site_code and m.content.get("trees")}
    how = {"local": "", "strategy": cfg["strategy"], "run": run.pk, "site_rows": site_rows,
           "data": cfg.get("data", "nodes"), "weighted": bool(cfg.get("weighted")),
           "rounds": result["rounds"], "rounds_run": result["rounds_run"],
           "recalibration": result.get("recalibration"), "recalibration_steps": result.get("recalibration_steps", 0),
           "bytes": result["bytes_to_sites"] + result["bytes_from_sites"],
           "seconds": round((timezone.now() - run.started_at).total_seconds(), 1)}
    booster = final_booster(bytes(run.booster))
    manifest = manifest_federated(disease=cfg["disease"], seed=int(cfg["seed"]),
                                  n_patients=int(cfg.get("n_patients") or TEST_PATIENTS), booster=booster, how=how)
    actor = Actor(user=run.requested_by) if run.requested_by_id else Actor(client="federated training")
    version = federated_register(manifest=manifest, booster=booster, actor=actor,
                                 filename=f"{cfg['disease']}-federated-run{run.pk}.zip")
    audit_record(actor=actor, action="federated_training_register", obj=run,
                 detail={"model_version": version.pk, "version": version.version, "status": version.status,
                         "sites": sorted(site_rows), "rounds": how["rounds"], "bytes": how["bytes"]})
    return version
