"""Import jobs: the file, where the import stands (a cursor over its visits) and what it could not store.

The job lives in the database so a worker or a command that dies halfway is resumed from its cursor;
the cursor moves in the same transaction as the visits it counts, so a re-run stores every visit once.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from patients.models import EHRClient, Patient, Site


class ImportFormat(models.TextChoices):
    VISITS = "visits", "Visit JSON, one visit per line"
    FHIR = "fhir", "FHIR R4 resources, one per line (FHIR Bulk Data NDJSON)"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The visits are stored as this client sent them: its identifier system, its idempotency keys.
    client = models.ForeignKey(EHRClient, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=8, choices=ImportFormat.choices)
    data = models.FileField(upload_to="imports/")
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    # Visits (a line of visit JSON, an Encounter with its resources) done, in the file's reading order.
    cursor = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    stored = models.PositiveIntegerField(default=0)
    existing = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Moved with every committed chunk: a running job whose heartbeat stops lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="importjob_status_heartbeat")]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.format}, {self.status}, {self.cursor}/{self.total or '?'})"


class ImportProblem(models.Model):
    """A visit of the file that was not stored, with every reason: one line of the NDJSON report."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="problems")
    unit = models.PositiveIntegerField(help_text="The visit's position in the import's reading order")
    lines = models.JSONField(default=list, help_text="The file's line numbers (from 1) this visit came from")
    visit_id = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=20)
    message = models.TextField()
    errors = models.JSONField(default=list)

    class Meta:
        ordering = ["unit"]
        constraints = [models.UniqueConstraint(fields=["job", "unit"], name="import_problem_once_per_unit")]


class ImportPatient(models.Model):
    """A patient this import wrote to: at the end, each one's latest visit is scored."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="patients")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "patient"], name="import_patient_once")]
