"""Sites, pseudonymous patients, diagnoses, visits and therapy exposures.

No names, addresses or dates of birth are stored: a patient is a random UUID,
a birth year, a sex, and one pseudonymous identifier per source system.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from patients import dictionary
from patients.dictionary import Disease
from patients.drugs import BY_ATC, DRUGS


class Site(models.Model):
    code = models.CharField(max_length=8, unique=True, help_text="Short site code, e.g. LU")
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="sites", blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    sex = models.CharField(max_length=8, choices=Sex.choices)
    birth_year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year__gte=1900) & Q(birth_year__lte=2100), name="patient_birth_year_plausible"
            ),
        ]

    def __str__(self) -> str:
        return f"Patient {str(self.id)[:8]} ({self.site.code if self.site_id else '?'})"

    def get_absolute_url(self) -> str:
        return reverse("patients:detail", args=[self.id])

    def age_on(self, day: dt.date) -> int:
        # Only the birth year is stored; mid-year is the unbiased estimate.
        return max(0, day.year - self.birth_year)

    @property
    def primary_identifier(self) -> str:
        ids = list(self.identifiers.all())
        return ids[0].value if ids else str(self.id)[:8]


class PatientIdentifier(models.Model):
    """A pseudonymous identifier a source system (an EHR, the demo generator) uses for the patient."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="identifiers")
    system = models.CharField(max_length=200, help_text="URI of the issuing system")
    value = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "value"], name="patient_identifier_unique_per_system"),
        ]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"


class Diagnosis(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="diagnoses")
    disease = models.CharField(max_length=32, choices=Disease.choices)
    subtype = models.CharField(max_length=32, blank=True, help_text="e.g. RRMS, Montreal L3, E2")
    icd10 = models.CharField(max_length=8, blank=True)
    diagnosed_on = models.DateField()

    class Meta:
        verbose_name_plural = "diagnoses"
        constraints = [models.UniqueConstraint(fields=["patient", "disease"], name="one_diagnosis_per_disease")]

    def __str__(self) -> str:
        return f"{self.get_disease_display()} since {self.diagnosed_on:%Y-%m}"


class VisitSource(models.TextChoices):
    API = "api", "REST API"
    FHIR = "fhir", "FHIR"
    FORM = "form", "Web form"
    ADMIN = "admin", "Django admin"
    DEMO = "demo", "Demo network"


class Visit(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="visits")
    disease = models.CharField(max_length=32, choices=Disease.choices)
    visit_date = models.DateField()
    # Values keyed by data dictionary name, already validated and in the dictionary's unit.
    measurements = models.JSONField(default=dict, blank=True)
    # Derived scores (DAS28, CDAI, SDAI, HBI, Mayo) computed from the measurements.
    scores = models.JSONField(default=dict, blank=True, editable=False)
    activity_score = models.FloatField(null=True, blank=True, editable=False)
    activity_label = models.CharField(max_length=40, blank=True, editable=False)
    activity_category = models.CharField(max_length=40, blank=True, editable=False)
    source = models.CharField(max_length=8, choices=VisitSource.choices, default=VisitSource.FORM)
    # The source system's own visit id: the idempotency key of the EHR doors.
    source_system = models.CharField(max_length=200, blank=True)
    source_id = models.CharField(max_length=100, null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-visit_date", "-created_at"]
        indexes = [models.Index(fields=["patient", "-visit_date"], name="visit_patient_latest")]
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "source_id"],
                condition=Q(source_id__isnull=False),
                name="visit_unique_source_id",
            ),
        ]

    def __str__(self) -> str:
        return f"Visit {self.visit_date} ({self.get_disease_display()})"

    def get_absolute_url(self) -> str:
        return reverse("patients:detail", args=[self.patient_id])

    def described_measurements(self) -> list[tuple[dictionary.Variable, str]]:
        return [
            (var, var.describe(self.measurements[var.name]))
            for var in dictionary.VARIABLES
            if var.name in self.measurements
        ]


class VisitRevision(models.Model):
    """The content a visit had before an amendment: amendments never overwrite history."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    visit_date = models.DateField()
    measurements = models.JSONField(default=dict)
    scores = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64, blank=True)
    replaced_at = models.DateTimeField(default=timezone.now)
    replaced_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["visit", "version"]
        constraints = [models.UniqueConstraint(fields=["visit", "version"], name="visit_revision_unique_version")]

    def __str__(self) -> str:
        return f"{self.visit} v{self.version}"


class Outcome(models.TextChoices):
    """Why a therapy line stopped; `ongoing` while it is active."""

    ONGOING = "ongoing", "Ongoing"
    PRIMARY_NON_RESPONSE = "primary_non_response", "Primary non-response"
    SECONDARY_LOSS_OF_RESPONSE = "secondary_loss_of_response", "Secondary loss of response"
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    PATIENT_CHOICE = "patient_choice", "Patient's choice"
    REMISSION = "remission", "Remission (stopped as planned)"
    OTHER = "other", "Stopped for another reason"
    # A stop date without a reason: the reason is unknown, not "other".
    NOT_RECORDED = "not_recorded", "Stopped, reason not recorded"


FAILURE_OUTCOMES = (Outcome.PRIMARY_NON_RESPONSE, Outcome.SECONDARY_LOSS_OF_RESPONSE)

DRUG_CHOICES = [(d.atc, f"{d.name} ({d.atc})") for d in DRUGS]


class EntrySource(models.TextChoices):
    API = "api", "REST API"
    FHIR = "fhir", "FHIR"
    FORM = "form", "Web form"
    ADMIN = "admin", "Django admin"
    DEMO = "demo", "Demo network"
    MIGRATION = "migration", "Built from stored visits"


class TherapyExposure(models.Model):
    """A therapy line: one drug from its start until it stops. Active while `stopped_on` is empty."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="therapies")
    drug_atc = models.CharField("drug", max_length=8, choices=DRUG_CHOICES)
    started_on = models.DateField()
    stopped_on = models.DateField(null=True, blank=True)
    outcome = models.CharField("stop reason", max_length=32, choices=Outcome.choices, default=Outcome.ONGOING)
    # The adverse event (or other reason) in words or as a code, e.g. "infusion reaction" or "SNOMED 59282003".
    stop_detail = models.CharField(max_length=300, blank=True)
    dose = models.CharField(max_length=100, blank=True, help_text="e.g. 40 mg every 2 weeks")
    # Response assessed at follow-up (the disease's outcome definition), when known: what models learn from.
    response_at_followup = models.BooleanField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=EntrySource.choices)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["started_on"]
        verbose_name = "therapy line"
        constraints = [
            models.UniqueConstraint(fields=["patient", "drug_atc", "started_on"], name="therapy_unique_start"),
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True) | Q(stopped_on__gte=models.F("started_on")),
                name="therapy_stops_after_start",
            ),
            # Active lines are "ongoing"; a stopped line says why, or that the reason is not recorded.
            models.CheckConstraint(
                condition=(Q(stopped_on__isnull=True, outcome="ongoing")
                           | (Q(stopped_on__isnull=False) & ~Q(outcome="ongoing"))),
                name="therapy_stop_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.drug.name} from {self.started_on}"

    @property
    def drug(self):
        return BY_ATC[self.drug_atc]

    @property
    def failed(self) -> bool:
        return self.outcome in FAILURE_OUTCOMES

    def active_on(self, day: dt.date) -> bool:
        """Taken on that day: started by then and not stopped before it."""
        return self.started_on <= day and (self.stopped_on is None or self.stopped_on > day)

    def stopped_by(self, day: dt.date) -> bool:
        return self.stopped_on is not None and self.stopped_on <= day


class RecordEntry(models.Model):
    """One dated value of a patient fact or condition (a dictionary variable that persists beyond its visit).

    Entries are never overwritten: a change is a new entry, and patients.state picks the one in force on a
    date. An entry recorded with a visit goes with it (an amendment rewrites that visit's entries).
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="entries")
    variable = models.CharField(max_length=40, help_text="Data dictionary name")
    value = models.JSONField(help_text="In the dictionary's unit or code")
    effective_on = models.DateField(help_text="When it was true: the visit or observation date")
    source = models.CharField(max_length=10, choices=EntrySource.choices)
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.CASCADE, related_name="entries")
    source_ref = models.CharField(max_length=200, blank=True, help_text="The sender's id, e.g. its visit id")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["patient", "variable", "-effective_on", "-recorded_at"]
        verbose_name_plural = "record entries"
        indexes = [models.Index(fields=["patient", "variable", "-effective_on"], name="entry_patient_latest")]

    def __str__(self) -> str:
        return f"{self.variable}={self.value!r} on {self.effective_on}"


class EHRClient(models.Model):
    """An EHR system of one site that may call the JSON API with its token.

    Only the SHA-256 of the token is stored; the token itself is shown once,
    when `create_ehr_client` issues it.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="ehr_clients")
    name = models.CharField(max_length=60, help_text="Short name of the EHR system, e.g. epic-main")
    # The first characters of the token find the row; the hash is what proves it.
    token_prefix = models.CharField(max_length=8, db_index=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    identifier_system = models.CharField(
        max_length=200, unique=True, blank=True,
        help_text="System URI of this client's patient and visit ids (default urn:clinnova:<site>:ehr:<name>)",
    )
    # CDS Hooks calls come from the same EHR under its JWT issuer: they name patients as this client does.
    cds_issuer = models.CharField(
        "CDS Hooks issuer", max_length=255, blank=True, db_index=True,
        help_text="The `iss` of this EHR's CDS Hooks JWTs: its patient-view calls resolve the patients this client "
                  "sent (by FHIR Patient.id or its identifiers)",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "EHR client"
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="ehr_client_unique_name_per_site")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.site.code}"

    def save(self, *args, **kwargs):
        if not self.identifier_system:
            self.identifier_system = f"urn:clinnova:{self.site.code}:ehr:{self.name}"
        super().save(*args, **kwargs)

    @staticmethod
    def token_digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def token_issue(self) -> str:
        """Set a new random token (the old one stops working) and return it; the caller saves."""
        token = secrets.token_urlsafe(32)
        self.token_prefix = token[:8]
        self.token_hash = self.token_digest(token)
        self.revoked_at = None
        return token

    def token_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.token_hash, self.token_digest(token))

    @property
    def actor_name(self) -> str:
        """How the audit trail names this client."""
        return f"ehr:{self.site.code}:{self.name}"

    def touch(self, *, every: dt.timedelta = dt.timedelta(minutes=1)) -> None:
        """Record use, at most once per `every`, so a busy client does not write on every request."""
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < every:
            return
        # Guarded update: of several concurrent requests only one writes.
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - every)
        EHRClient.objects.filter(stale, pk=self.pk).update(last_used_at=now)
        self.last_used_at = now


class IngestKey(models.Model):
    """One EHR visit id per client: the idempotency key of POST /api/v1/visits/.

    `payload` is the normalised request (units converted, drugs resolved), so a
    repeated post is compared by content and a conflict can name what differs.
    """

    client = models.ForeignKey(EHRClient, on_delete=models.PROTECT, related_name="ingest_keys")
    ehr_visit_id = models.CharField(max_length=100)
    # Null only inside the transaction that claims the key and then stores the visit.
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, null=True, related_name="ingest_keys")
    content_hash = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "ehr_visit_id"], name="ingest_key_unique_per_client"),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.ehr_visit_id}"


class PatientReference(models.Model):
    """How one EHR client names a patient: its FHIR Patient.id, or an identifier of some system it sent.

    Scoped to the client (and so to its site) and, for identifiers, to the system: two EHRs, or two systems of one
    EHR, may use the same value for different people. Only what the client itself sent resolves for it.
    """

    class Kind(models.TextChoices):
        FHIR_ID = "fhir_id", "FHIR Patient.id"
        IDENTIFIER = "identifier", "Identifier"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="references")
    client = models.ForeignKey(EHRClient, on_delete=models.PROTECT, related_name="patient_references")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    system = models.CharField(max_length=200, blank=True, help_text="The identifier's system; empty for a Patient.id")
    value = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "kind", "system", "value"],
                                    name="patient_reference_unique_per_client_system"),
            models.CheckConstraint(condition=Q(kind="identifier") & ~Q(system="") | Q(kind="fhir_id", system=""),
                                   name="patient_reference_system_iff_identifier"),
        ]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}" if self.system else f"Patient/{self.value}"
