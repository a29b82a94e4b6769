"""The network's records: a node's participation switch, federated runs, the message log, monitoring and alerts.

At the hub these hold only aggregates; at a site node, the participation switch and the site's own
monitoring snapshots.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from patients.dictionary import Disease


class OfferPolicy(models.TextChoices):
    REVIEW = "review", "A site admin reviews each model the hub offers"
    ACCEPT = "accept", "Accept each offered model that passes this site's validation"
    REFUSE = "refuse", "Refuse every offered model"


class Participation(models.Model):
    """A site node's own switch: whether it answers the network's requests (one row per node)."""

    taking_part = models.BooleanField(default=True)
    reason = models.CharField(max_length=200, blank=True, help_text="Why the site does not take part")
    # What the site does with a model version the hub distributes; it may always refuse one.
    model_offers = models.CharField(max_length=6, choices=OfferPolicy.choices, default=OfferPolicy.REVIEW)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return "taking part" if self.taking_part else f"not taking part ({self.reason})"


class RunKind(models.TextChoices):
    EVALUATION = "evaluation", "Federated evaluation"
    MONITORING = "monitoring", "Network monitoring"
    TRAINING = "training", "Federated training"
    DISTRIBUTION = "distribution", "Distribution of a model version"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# FederatedRun.sites: a site's state when it answered (otherwise, why it did not).
ANSWERED = "answered"


class FederatedRun(models.Model):
    """One request of the hub to the sites (an evaluation of a model version, or a monitoring round)."""

    kind = models.CharField(max_length=12, choices=RunKind.choices)
    model_version = models.ForeignKey("recommendations.ModelVersion", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="federated_runs")
    status = models.CharField(max_length=9, choices=RunStatus.choices, default=RunStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    flower_run_id = models.CharField(max_length=32, blank=True)
    # Which sites answered, and for the others why not ({"LU": "answered", "FR": "refused: …"}).
    sites = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # A training run's settings (disease, strategy, rounds, seed, sites) and its trained booster (XGBoost JSON),
    # which the hub packages and registers only once the run is done.
    config = models.JSONField(default=dict, blank=True)
    booster = models.BinaryField(blank=True, default=b"")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.status})"

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def answered(self) -> list[str]:
        return sorted(code for code, state in self.sites.items() if state == "answered")

    @property
    def missing(self) -> dict[str, str]:
        return {code: state for code, state in sorted(self.sites.items()) if state != "answered"}


class OfferStatus(models.TextChoices):
    OFFERED = "offered", "Awaiting the site's review"
    ACCEPTED = "accepted", "Accepted and active here"
    REFUSED = "refused", "Refused"


class ModelOffer(models.Model):
    """At a site node: a model version the hub distributed, and what the site decided about it."""

    disease = models.CharField(max_length=32, choices=Disease.choices)
    hub_version = models.PositiveIntegerField(help_text="The version's number at the hub, which it keeps here")
    sha256 = models.CharField(max_length=64, unique=True)
    package = models.BinaryField()
    manifest = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=OfferStatus.choices, default=OfferStatus.OFFERED)
    reason = models.TextField(blank=True, help_text="Why the site refused it (sent to the hub)")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    local_version = models.ForeignKey("recommendations.ModelVersion", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.get_disease_display()} v{self.hub_version} from the hub ({self.status})"


class Direction(models.TextChoices):
    TO_SITE = "to_site", "Hub → site"
    FROM_SITE = "from_site", "Site → hub"


class MessageLog(models.Model):
    """Every message of a run that crossed between the hub and a site: its shape and size, and what came back.

    Replies are aggregates by construction; they are kept whole so that anyone can check what left a site.
    """

    run = models.ForeignKey(FederatedRun, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    site_code = models.CharField(max_length=8, blank=True)
    node_id = models.CharField(max_length=32, blank=True)
    message_type = models.CharField(max_length=60)
    shape = models.JSONField(default=dict, help_text="Records and their keys, with lengths of lists and bytes")
    size_bytes = models.PositiveIntegerField()
    content = models.JSONField(null=True, blank=True, help_text="A reply's aggregate content, as received")
    error = models.TextField(blank=True)
    logged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "logged_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.site_code or self.node_id} {self.size_bytes} B"


class MonitoringSnapshot(models.Model):
    """A monitoring summary as computed by the beat job: of this site ("LU") or of the network ("network")."""

    scope = models.CharField(max_length=10)
    computed_at = models.DateTimeField(default=timezone.now)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-computed_at"]
        indexes = [models.Index(fields=["scope", "-computed_at"], name="snapshot_scope_latest")]

    def __str__(self) -> str:
        return f"Monitoring of {self.scope} at {self.computed_at:%Y-%m-%d %H:%M}"


class MonitoringThreshold(models.Model):
    """When a model's monitoring raises an alert; one row per model (disease and version number)."""

    disease = models.CharField(max_length=32, choices=Disease.choices)
    version = models.PositiveIntegerField()
    psi_max = models.FloatField(default=0.25, help_text="Population stability index above which a feature drifts")
    oe_low = models.FloatField(default=0.8, help_text="Observed/expected below this (interval excluding 1) alerts")
    oe_high = models.FloatField(default=1.25, help_text="Observed/expected above this (interval excluding 1) alerts")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["disease", "version"], name="one_threshold_per_model"),
            models.CheckConstraint(condition=Q(oe_low__lt=models.F("oe_high")), name="threshold_oe_band_ordered"),
        ]

    def __str__(self) -> str:
        return f"Thresholds of {self.disease} v{self.version}"


class MonitoringAlert(models.Model):
    scope = models.CharField(max_length=10)
    disease = models.CharField(max_length=32, choices=Disease.choices)
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=[("drift", "Input drift"), ("calibration", "Calibration")])
    month = models.CharField(max_length=7)
    subject = models.CharField(max_length=60, blank=True, help_text="The drifting feature, when drift")
    value = models.FloatField()
    threshold = models.CharField(max_length=60)
    message = models.TextField()
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "disease", "version", "kind", "month", "subject"],
                                    name="one_alert_per_breach"),
        ]

    def __str__(self) -> str:
        return self.message
