"""python manage.py validation_report [--disease X] [--dir DIR]: the ranking and calibration report of every
registered model version (or of the packages in DIR), as the model card shows it."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from patients.dictionary import Disease
from recommendations.models import ModelVersion
from recommendations.package import PackageError, package_read
from recommendations.validation import DRUG_HEADER, REPORT_HEADER, drug_rows, report_row, table


class Command(BaseCommand):
    help = ("Print the validation report per model version: gain captured over one drug for all, mean regret, "
            "top-suggestion agreement across retrainings and per-drug calibration (slope, intercept, O/E with 95 % "
            "intervals). Reads the registered versions, or the package files in --dir.")

    def add_arguments(self, parser):
        parser.add_argument("--disease", choices=Disease.values, action="append", help="Only this disease.")
        parser.add_argument("--dir", help="Read the *.zip packages in this directory instead of the registry.")
        parser.add_argument("--drugs", action="store_true", help="Also print the per-drug calibration table.")

    def handle(self, *args, disease=None, dir=None, drugs=False, **options):
        manifests = self._from_dir(Path(dir)) if dir else self._from_registry()
        manifests = [(name, m) for name, m in manifests if not disease or m.get("disease") in disease]
        if not manifests:
            raise CommandError("no model versions to report on")
        self.stdout.write(table(REPORT_HEADER, [report_row(name, m) for name, m in manifests]))
        if drugs:
            self.stdout.write("")
            self.stdout.write(table(DRUG_HEADER, [row for name, m in manifests for row in drug_rows(name, m)]))

    def _from_registry(self):
        versions = ModelVersion.objects.exclude(disease="").defer("package").order_by("disease", "version")
        return [(f"{v.disease} v{v.version} ({v.status})", v.manifest or {}) for v in versions]

    def _from_dir(self, path: Path):
        found = []
        for file in sorted(path.glob("*.zip")):
            try:
                manifest, _, _ = package_read(file.read_bytes(), max_bytes=settings.MODEL_UPLOAD_MAX_BYTES)
            except PackageError as e:
                raise CommandError(f"{file.name}: {e}") from None
            found.append((file.stem, manifest))
        return found
