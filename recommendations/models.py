"""Model versions, scoring jobs and recommendations.

A model version is immutable once validated; activating one is a pointer move
guarded by a partial unique index (at most one active version per disease).
Scoring jobs live here, not only in the broker, so none is lost with it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from patients.dictionary import Disease
from patients.drugs import BY_ATC
from patients.models import Visit
from recommendations.features import DRUG_PREFIX, OTHER_DRUGS


class ModelStatus(models.TextChoices):
    VALIDATING = "validating", "Validating"
    VALIDATED = "validated", "Validated"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"
    REJECTED = "rejected", "Rejected"


class ModelVersion(models.Model):
    # Blank only for a rejected upload whose manifest could not be read.
    disease = models.CharField(max_length=32, choices=Disease.choices, blank=True)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=ModelStatus.choices)
    rejection_reason = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64)
    filename = models.CharField(max_length=200, blank=True)
    package = models.BinaryField(editable=False)
    manifest = models.JSONField(default=dict, blank=True)
    validation_report = models.JSONField(default=list, blank=True)
    # Set when a worker claims the validation job (see registry.model_version_validate).
    validation_started_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["disease", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["disease", "version"], name="model_version_number_unique"),
            models.UniqueConstraint(fields=["disease"], condition=Q(status="active"),
                                    name="one_active_model_per_disease"),
            # The same bytes twice would be two names for one model: refused, even when two uploads race.
            models.UniqueConstraint(fields=["sha256"], condition=~Q(status="rejected"),
                                    name="model_package_registered_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_disease_display()} v{self.version} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("models:detail", args=[self.pk])

    @property
    def test_metrics(self) -> dict:
        return (self.manifest.get("metrics") or {}).get("test") or {}


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ScoringJob(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="scoring_jobs")
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField(blank=True, help_text="Why the job failed, or what it was for")
    # The re-scoring run that created it, when it was not a new visit.
    rescore = models.ForeignKey("RescoreRun", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="jobs")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="scoringjob_status_age")]

    def __str__(self) -> str:
        return f"Job {self.pk} {self.status} (visit {self.visit_id})"


class RescoreRun(models.Model):
    """Re-scoring the latest visit of every patient of a disease after an activation or rollback."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="rescores")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    total = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Re-scoring for {self.model_version}"

    def progress(self) -> dict:
        counts = dict(self.jobs.values_list("status").annotate(n=models.Count("id")))
        done = counts.get(JobStatus.DONE, 0)
        failed = counts.get(JobStatus.FAILED, 0)
        return {"total": self.total, "done": done, "failed": failed,
                "remaining": self.total - done - failed}


class RecommendationStatus(models.TextChoices):
    READY = "ready", "Ready"
    NO_ACTIVE_MODEL = "no_active_model", "No active model"


class Recommendation(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="recommendations")
    job = models.ForeignKey(ScoringJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=RecommendationStatus.choices)
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="recommendations")
    # Exactly the inputs the model saw, by dictionary name, so any recommendation can be reproduced.
    features = models.JSONField(default=dict)
    missing = models.JSONField(default=list, help_text="Model inputs that were not recorded")
    base_value = models.FloatField(null=True, blank=True, help_text="SHAP base value (log-odds)")
    # False when an input of the disease's minimum data set (patients.diseases.MINIMUM_DATA_SET) is missing: the
    # ranking is shown greyed, "not enough data to rank", and names no top suggestion.
    rankable = models.BooleanField(default=True)
    missing_for_ranking = models.JSONField(default=list, blank=True,
                                           help_text="Inputs of the minimum data set that were not recorded")
    created_at = models.DateTimeField(default=timezone.now)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["visit"], condition=Q(superseded_at__isnull=True),
                                    name="one_current_recommendation_per_visit"),
        ]

    def __str__(self) -> str:
        return f"Recommendation for {self.visit} ({self.status})"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


class FlagSet(models.Model):
    """One distinct list of safety, licence and "check before starting" flags, stored once for every item that
    carries it (recommendations.flag_sets). Ten items per visit used to store ~5.5 kB of them each, and most
    patients share the same few lists. Never changed once written: items of many visits point at it."""

    # sha256 of the list's canonical JSON (flag_sets.flags_digest): equal lists, one row, even when two workers
    # insert it at once (INSERT … ON CONFLICT DO NOTHING on this key).
    digest = models.CharField(max_length=64, unique=True)
    flags = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"Flag set {self.digest[:12]}"


class RecommendationItem(models.Model):
    """One candidate drug of a recommendation: probability, rank, SHAP values and safety flags."""

    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="items")
    drug_atc = models.CharField(max_length=8)
    rank = models.PositiveSmallIntegerField()
    probability = models.FloatField()
    # The 90 % interval of the probability over the model's bootstrap ensemble (recommendations.tiers); null for a
    # model version without an ensemble.
    probability_low = models.FloatField(null=True, blank=True)
    probability_high = models.FloatField(null=True, blank=True)
    # 1 = best: drugs in one tier cannot be told apart by the ensemble. Null outside the tiers (contraindicated or
    # current drugs, a ranking without enough data, a model version without an ensemble).
    tier = models.PositiveSmallIntegerField(null=True, blank=True)
    # The one drug that beats every other drug to start in >= 80 % of the ensemble's members, if any.
    top_suggestion = models.BooleanField(default=False)
    margin = models.FloatField(help_text="Model output in log-odds; base value + sum of SHAP values")
    # A list, not a dict: thousands of rows per batch, and the names are in the model's manifest.
    shap = models.JSONField(default=list, help_text="SHAP values (log-odds): the model's features in manifest "
                                                    "order, then this drug's own indicator, then (since intervals) "
                                                    "the sum of the other drugs' indicators")
    # Most severe first; shared with every item that has the same list. Read through `flags` (select_related).
    flag_set = models.ForeignKey(FlagSet, on_delete=models.PROTECT, related_name="+")
    contraindicated = models.BooleanField(default=False)
    # The patient was already taking it on the visit date: shown as current therapy, never as a drug to start.
    current = models.BooleanField(default=False)

    class Meta:
        ordering = ["recommendation", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["recommendation", "drug_atc"], name="one_item_per_drug"),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.drug_atc} p={self.probability:.2f}"

    @property
    def drug(self):
        return BY_ATC[self.drug_atc]

    @property
    def flags(self) -> list[dict]:
        """The item's flags, most severe first (its FlagSet's list)."""
        return self.flag_set.flags

    def shap_by_column(self, features: list[str]) -> dict[str, float]:
        """The SHAP values keyed by column name, given the model version's feature list."""
        # Rows stored before intervals lack the last value; zip stops there.
        return dict(zip([*features, f"{DRUG_PREFIX}{self.drug_atc}", OTHER_DRUGS], self.shap))


class OverrideReason(models.TextChoices):
    """Why a clinician started another drug than the top suggestion (after CDS Hooks' overrideReasons)."""

    PATIENT_PREFERENCE = "patient_preference", "Patient preference"
    CONTRAINDICATION_NOT_CAPTURED = "contraindication_not_captured", "Contraindication Clinnova does not know of"
    COST_OR_REIMBURSEMENT = "cost_or_reimbursement", "Cost or reimbursement"
    CLINICAL_JUDGEMENT = "clinical_judgement", "Clinical judgement"
    ALREADY_TRIED = "already_tried", "Already tried"
    OTHER = "other", "Other"


class DecisionKind(models.TextChoices):
    """What a clinician decided after reading a ranking: the choices of a clinic visit, not only "start"."""

    CONTINUE = "continue", "Continue the current therapy"
    OPTIMISE = "optimise", "Escalate or optimise the dose of the current therapy"
    DEFER = "defer", "Defer the decision"
    START_RANKED = "start_ranked", "Start a ranked drug"
    START_OTHER = "start_other", "Start a drug not in the ranking"


class Decision(models.Model):
    """What a clinician decided for a patient after reading a recommendation, and why when it departs from it.

    One row per submitted form: the form's idempotency key is unique, so a
    double click or two parallel posts of the same form store one decision.
    """

    # PROTECT: a recorded clinical decision outlives nothing it refers to by accident.
    recommendation = models.ForeignKey(Recommendation, on_delete=models.PROTECT, related_name="decisions")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="decisions")
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="decisions")
    kind = models.CharField(max_length=16, choices=DecisionKind.choices)
    # The drug started, continued or optimised; blank for a deferred decision.
    drug_atc = models.CharField(max_length=8, blank=True)
    was_top = models.BooleanField(help_text="Not an override: the drug started headed the ranking as shown (the top "
                                 "suggestion, or a drug of the first tier when no drug led)")
    review_on = models.DateField(null=True, blank=True, help_text="When a deferred decision is taken up again")
    reason = models.CharField(max_length=40, choices=OverrideReason.choices, blank=True)
    reason_text = models.TextField(blank=True)
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True, editable=False,
                                       help_text="The submitted form's key: one decision per submission")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="start_ranked") | Q(was_top=True) | ~Q(reason=""),
                name="decision_override_has_reason"),
            models.CheckConstraint(condition=~Q(kind="start_other") | (~Q(reason="") & ~Q(drug_atc="")),
                                   name="decision_other_drug_has_reason"),
            models.CheckConstraint(condition=~Q(kind="defer") | Q(review_on__isnull=False),
                                   name="decision_defer_has_date"),
            models.CheckConstraint(condition=Q(kind="defer") | ~Q(drug_atc=""), name="decision_names_a_drug"),
            models.CheckConstraint(condition=~Q(reason="other") | ~Q(reason_text=""),
                                   name="decision_other_reason_has_text"),
            # One decision per clinician, kind and drug on a ranking: the same choice posted twice is one decision
            # (the idempotency key covers one form; this, the same choice from two tabs). Continuing and then
            # optimising the same drug are two decisions.
            models.UniqueConstraint(fields=["recommendation", "decided_by", "kind", "drug_atc"],
                                    name="decision_once_per_clinician_kind_and_drug"),
        ]
        indexes = [models.Index(fields=["visit", "-decided_at"], name="decision_visit_latest")]

    def __str__(self) -> str:
        return f"{self.kind} {self.drug_atc} by {self.decided_by} on {self.decided_at:%Y-%m-%d}"

    @property
    def drug(self):
        return BY_ATC.get(self.drug_atc)

    @property
    def summary(self) -> str:
        """The decision in the words of a clinic letter: "Start abatacept", "Defer until 12 Jan 2027"."""
        name = self.drug.name if self.drug else self.drug_atc
        if self.kind == DecisionKind.DEFER:
            return f"Defer the decision until {self.review_on:%-d %b %Y}"
        if self.kind == DecisionKind.CONTINUE:
            return f"Continue {name}"
        if self.kind == DecisionKind.OPTIMISE:
            return f"Escalate or optimise the dose of {name}"
        if self.kind == DecisionKind.START_OTHER:
            return f"Start {name} (not in the ranking)"
        return f"Start {name}"


class CdsClient(models.Model):
    """A CDS Hooks client (an EHR) of one site, known by its JWT issuer and the public keys it signs with.

    Registered with `manage.py register_cds_client`; only public keys (a JWK Set) are stored.
    """

    iss = models.CharField("issuer", max_length=255, unique=True, help_text="The `iss` claim of the client's JWTs")
    site = models.ForeignKey("patients.Site", on_delete=models.PROTECT, related_name="cds_clients")
    jwks = models.JSONField(help_text="Public JWK Set ({\"keys\": [...]}) whose keys verify the client's JWTs")
    # A browser-based client (the CDS Hooks sandbox, an EHR's web front end) calls from these origins: CORS
    # preflights from them are answered (scheme://host[:port], no path).
    origins = models.JSONField(default=list, blank=True, help_text="Browser origins the client calls from")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "CDS Hooks client"

    def __str__(self) -> str:
        return f"{self.iss} @ {self.site.code}"

    @property
    def actor_name(self) -> str:
        """How the audit trail names this client."""
        return f"cds:{self.site.code}:{self.iss}"[:100]


class UsedJti(models.Model):
    """A JWT id a CDS client has used: the unique constraint refuses a replayed token."""

    client = models.ForeignKey(CdsClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    # After this the token's exp has passed, so the row may be purged: the token is refused anyway.
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "used JWT id"
        constraints = [models.UniqueConstraint(fields=["client", "jti"], name="used_jti_unique_per_client")]

    def __str__(self) -> str:
        return f"{self.jti} ({self.client_id})"


class CdsCardKind(models.TextChoices):
    RANKING = "ranking", "Therapy ranking"
    FLAG = "flag", "Safety flag of a drug"


class CdsCard(models.Model):
    """A card Clinnova returned to a CDS client: what was shown, to whom and from which model, so that
    feedback can be tied to it and a clinician's response read beside the recommendation it answers."""

    uuid = models.UUIDField(unique=True, editable=False)
    client = models.ForeignKey(CdsClient, on_delete=models.PROTECT, related_name="cards")
    service_id = models.CharField(max_length=64)
    hook_instance = models.CharField(max_length=100, blank=True)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="cds_cards")
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="cds_cards")
    # None when the ranking was scored on the fly from newer prefetched observations and not stored.
    recommendation = models.ForeignKey("Recommendation", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="cds_cards")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="cds_cards")
    kind = models.CharField(max_length=8, choices=CdsCardKind.choices)
    indicator = models.CharField(max_length=8)
    # The drug a flag card is about; the ranking card's top drug.
    drug_atc = models.CharField(max_length=8, blank=True)
    summary = models.CharField(max_length=140)
    issued_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = "issued CDS Hooks card"
        indexes = [models.Index(fields=["patient", "-issued_at"], name="cdscard_patient_latest")]

    def __str__(self) -> str:
        return f"card {self.uuid} ({self.kind}) to {self.client_id}"

    @property
    def drug(self):
        return BY_ATC.get(self.drug_atc)


class CdsFeedbackOutcome(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    OVERRIDDEN = "overridden", "Overridden"


class CdsFeedback(models.Model):
    """What a clinician did with a CDS Hooks card: accepted it, or overrode it and why."""

    client = models.ForeignKey(CdsClient, on_delete=models.PROTECT, related_name="feedback")
    service_id = models.CharField(max_length=64)
    card = models.UUIDField(db_index=True, help_text="The uuid of the card the clinician acted on")
    # Null only for feedback stored before issued cards were kept.
    issued_card = models.ForeignKey(CdsCard, null=True, blank=True, on_delete=models.CASCADE, related_name="feedback")
    outcome = models.CharField(max_length=12, choices=CdsFeedbackOutcome.choices)
    accepted_suggestions = models.JSONField(default=list, blank=True)
    override_system = models.CharField(max_length=255, blank=True)
    override_code = models.CharField(max_length=100, blank=True)
    override_display = models.CharField(max_length=255, blank=True)
    user_comment = models.TextField(blank=True)
    outcome_at = models.DateTimeField(help_text="outcomeTimestamp: when the clinician acted")
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-outcome_at"]
        verbose_name = "CDS Hooks feedback"
        verbose_name_plural = "CDS Hooks feedback"

    def __str__(self) -> str:
        return f"card {self.card} {self.outcome}"


class OutcomeStatus(models.TextChoices):
    """Where a recommendation's outcome stands. Unknown is a value: it is never counted as no response."""

    AWAITING = "awaiting", "Awaiting follow-up"  # the outcome window has not closed yet
    KNOWN = "known", "Known"
    UNKNOWN = "unknown", "Unknown"  # the window closed and nothing decides it


class OutcomeSource(models.TextChoices):
    VISITS = "visits", "Derived from later visits"
    EHR = "ehr", "Recorded by the EHR"


class RecommendationOutcome(models.Model):
    """What happened after a recommendation: the drug started and, at the model's horizon, the outcome.

    Kept per model version (the one that made the prediction), so performance is always that version's.
    """

    recommendation = models.OneToOneField(Recommendation, on_delete=models.PROTECT, related_name="outcome")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="outcomes")
    disease = models.CharField(max_length=32, choices=Disease.choices)
    drug_atc = models.CharField(max_length=8, help_text="The drug started")
    followed = models.BooleanField(help_text="The drug started was the top suggestion")
    # The model's probability of the outcome for the drug started, as shown to the clinician.
    probability = models.FloatField(null=True, blank=True)
    start_date = models.DateField(help_text="The decision visit's date: time zero of the outcome window")
    status = models.CharField(max_length=10, choices=OutcomeStatus.choices, default=OutcomeStatus.AWAITING)
    responded = models.BooleanField(null=True, blank=True)
    source = models.CharField(max_length=8, choices=OutcomeSource.choices, blank=True)
    evidence = models.JSONField(default=dict, blank=True, help_text="The visits and values that decided it")
    recorded_by = models.CharField(max_length=100, blank=True)
    determined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date"]
        indexes = [models.Index(fields=["disease", "status"], name="outcome_disease_status")]
        constraints = [
            models.CheckConstraint(condition=Q(status="known", responded__isnull=False)
                                   | (~Q(status="known") & Q(responded__isnull=True)),
                                   name="outcome_known_iff_responded_set"),
        ]

    def __str__(self) -> str:
        return f"Outcome of {self.recommendation_id}: {self.status}"
