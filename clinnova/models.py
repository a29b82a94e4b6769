"""The audit trail: one append-only row per access or change of patient data.

Services write events explicitly, inside the transaction of the change they
record. On PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002), so
not even a bug in the application can rewrite history.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_client = models.CharField(max_length=100, blank=True, help_text="EHR or CDS client, when not a user")
    action = models.CharField(max_length=40, db_index=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.UUIDField(null=True, blank=True, db_index=True)
    site_code = models.CharField(max_length=8, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    request_id = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["-at"]
        indexes = [
            # The privacy officer's searches: one person's or one patient's events, newest first.
            models.Index(fields=["actor_user", "-at"], name="audit_user_at"),
            models.Index(fields=["patient_id", "-at"], name="audit_patient_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_type} {self.object_id}"

    @property
    def actor_name(self) -> str:
        """The user's name, the client's name ("system" for the platform itself), or "anonymous"."""
        if self.actor_user_id is not None:
            return self.actor_user.get_username()
        return self.actor_client or "anonymous"


class EnrolmentLink(models.Model):
    """A one-time link, issued by an administrator, that lets one account bind its second factor.

    Without it, whoever first learnt a model admin's password could bind their own phone. The token itself is
    shown once to the issuer; only its SHA-256 is kept.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_sha256 = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Enrolment link for {self.user} ({'used' if self.used_at else 'unused'})"
