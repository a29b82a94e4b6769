"""python manage.py train_models [--disease X] [--seed N] [--out DIR] [--created-at ISO|now]"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from patients.dictionary import Disease
from patients.drugs import BY_ATC
from recommendations.package import package_checks, package_sha256
from recommendations.training import DEFAULT_MEMBERS, DEFAULT_PATIENTS, DEFAULT_SEED, SHIPPED_CREATED_AT
from recommendations.training_evaluation import (
    DEFAULT_RETRAININGS,
    EVALUATION_PATIENTS,
    EVALUATION_SEED,
    package_train_validated,
)
from recommendations.validation import DRUG_HEADER, REPORT_HEADER, drug_rows, report_row, table


class Command(BaseCommand):
    help = (
        "Train one response model per disease on the synthetic cohort and write <out>/<disease>.zip "
        "(default: recommendations/pretrained/). With the default seed, cohort size and --created-at, "
        f"the files are byte-identical to the shipped ones: created_at is fixed to {SHIPPED_CREATED_AT} "
        "unless --created-at is given ('now' stamps the current time; metrics stay reproducible either way)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--disease", choices=Disease.values, action="append",
                            help="Train only this disease (repeatable). Default: all four.")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help=f"Cohort and XGBoost seed (default {DEFAULT_SEED}).")
        parser.add_argument("--n-patients", type=int, default=DEFAULT_PATIENTS,
                            help=f"Synthetic patients per disease (default {DEFAULT_PATIENTS}).")
        parser.add_argument("--members", type=int, default=DEFAULT_MEMBERS,
                            help=f"Bootstrap ensemble members per package, for intervals (default {DEFAULT_MEMBERS}; "
                                 "0 ships a single booster without intervals).")
        parser.add_argument("--retrainings", type=int, default=DEFAULT_RETRAININGS,
                            help=f"Ensembles trained per disease (seeds seed, seed+1, …; default {DEFAULT_RETRAININGS}): "
                                 "the first is shipped, all are judged for top-suggestion agreement.")
        parser.add_argument("--evaluation-seed", type=int, default=EVALUATION_SEED,
                            help=f"Seed of the fresh cohort the ranking report is measured on (default "
                                 f"{EVALUATION_SEED}); must differ from the training seeds.")
        parser.add_argument("--evaluation-patients", type=int, default=EVALUATION_PATIENTS,
                            help=f"Patients in that cohort (default {EVALUATION_PATIENTS}).")
        parser.add_argument("--out", default=str(settings.PRETRAINED_DIR), help="Directory to write the packages to.")
        parser.add_argument("--created-at", default=SHIPPED_CREATED_AT,
                            help="Manifest created_at: an ISO 8601 date-time with time zone, or 'now'.")

    def handle(self, *args, **options):
        created_at = _created_at(options["created_at"])
        if options["n_patients"] < 1000:
            raise CommandError("--n-patients must be at least 1000: the test split needs patients on every drug")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        rows, per_drug, ranking, calibration = [], [], [], []
        for disease in options["disease"] or Disease.values:
            try:
                data, _ = package_train_validated(
                    disease=disease, seed=options["seed"], n_patients=options["n_patients"], created_at=created_at,
                    members=options["members"], retrainings=options["retrainings"],
                    evaluation_seed=options["evaluation_seed"], evaluation_patients=options["evaluation_patients"])
            except ValueError as e:
                raise CommandError(str(e)) from None
            checks, manifest, _ = package_checks(data, max_bytes=settings.MODEL_UPLOAD_MAX_BYTES)
            failed = [c for c in checks if not c.passed]
            if failed:  # never ship a package the registry would refuse
                raise CommandError(f"{disease}: the new package fails check {failed[0].name}: {failed[0].message}")
            path = out / f"{disease}.zip"
            partial = path.with_suffix(".zip.partial")
            partial.write_bytes(data)
            os.replace(partial, path)  # readers never see half a file
            rows.append(_summary_row(disease, manifest, data))
            per_drug += [[disease, atc, BY_ATC[atc].name, _f(m["auc"]), _f(m["brier"]), str(m["n"])]
                         for atc, m in manifest["metrics"]["per_drug"].items()]
            ranking.append(report_row(disease, manifest))
            calibration += drug_rows(disease, manifest)
        self.stdout.write(table(["disease", "patients", "rounds", "val AUC", "test AUC", "Brier", "cal. slope",
                                 "cal. intercept", "test n", "KB", "sha256"], rows))
        self.stdout.write("")
        self.stdout.write(table(["disease", "ATC", "drug", "test AUC", "Brier", "n"], per_drug))
        self.stdout.write("")
        self.stdout.write("Ranking report (recommendations.validation; targets: gain captured ≥ 60 %, top agreement "
                          "≥ 90 %, per-drug slopes 0.8–1.2):")
        self.stdout.write(table(REPORT_HEADER, ranking))
        self.stdout.write("")
        self.stdout.write(table(DRUG_HEADER, calibration))
        self.stdout.write("")
        self.stdout.write(f"Wrote {len(rows)} package(s) to {out}")


def _created_at(value: str) -> str:
    if value == "now":
        return timezone.now().isoformat(timespec="seconds")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--created-at {value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise CommandError(f"--created-at {value!r} needs a time zone, e.g. 2026-01-01T00:00:00+00:00")
    return value


def _summary_row(disease: str, manifest: dict, data: bytes) -> list[str]:
    test, metrics = manifest["metrics"]["test"], manifest["metrics"]
    return [disease, str(manifest["training_data"]["n_patients"]), str(metrics["best_iteration"] + 1),
            _f(metrics["validation"]["auc"]), _f(test["auc"]), _f(test["brier"]), _f(test["calibration_slope"]),
            _f(test["calibration_intercept"]), str(test["n"]), f"{len(data) / 1024:.0f}", package_sha256(data)[:12]]


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"
