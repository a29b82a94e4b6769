"""One-time enrolment links for a second factor, and recovery codes.

A privileged account (model admin, privacy officer, staff) binds its authenticator app only through a link an
administrator issued for it, opened after signing in with the password: the password alone, or the link alone,
is not enough. Issuing and using a link are audited. At enrolment the account gets ten single-use recovery codes
(django-otp's static device) for the day the phone is lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from clinnova.audit import Actor, audit_record
from clinnova.models import EnrolmentLink

LINK_LIFETIME = dt.timedelta(hours=72)
RECOVERY_CODES = 10
RECOVERY_DEVICE = "Recovery codes"
SESSION_LINK = "clinnova_enrolment_link"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def enrolment_link_issue(*, user, actor: Actor) -> str:
    """A new one-time link path for user (earlier unused links stop working); the token is never stored."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        EnrolmentLink.objects.filter(user=user, used_at__isnull=True).update(expires_at=timezone.now())
        link = EnrolmentLink.objects.create(user=user, token_sha256=_digest(token), issued_by=actor.user,
                                            expires_at=timezone.now() + LINK_LIFETIME)
        audit_record(actor=actor, action="otp_enrolment_link_issue", obj=link,
                     detail={"for": user.get_username(), "expires": link.expires_at.isoformat()})
    return reverse("otp:enrol_link", args=[token])


def enrolment_link_find(*, user, token: str) -> EnrolmentLink | None:
    """The unused, unexpired link of this token for this user, or None."""
    if len(token) > 100:
        return None
    return EnrolmentLink.objects.filter(user=user, token_sha256=_digest(token), used_at__isnull=True,
                                        expires_at__gt=timezone.now()).first()


def enrolment_link_use(*, link_id: int) -> bool:
    """Spend the link (a guarded update: of two tabs, one wins)."""
    return EnrolmentLink.objects.filter(pk=link_id, used_at__isnull=True, expires_at__gt=timezone.now()) \
        .update(used_at=timezone.now()) == 1


def recovery_codes_issue(*, user, actor: Actor) -> list[str]:
    """Ten new single-use recovery codes (the previous ones stop working); shown once, stored by django-otp."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE, defaults={"confirmed": True})
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
        audit_record(actor=actor, action="otp_recovery_codes_issue", obj=device, detail={"count": len(codes)})
    return codes


def recovery_code_use(*, user, token: str) -> StaticDevice | None:
    """The recovery device if token is one of the user's unused codes (and spends it), else None."""
    token = token.strip().lower().replace(" ", "")
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(token):
            return device
    return None
