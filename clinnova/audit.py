"""Writing audit events. Services call audit_record inside their transaction."""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from clinnova.models import AuditEvent

# Actions written by the platform itself (services add their own: patient_view, visit_create, ...).
SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
SIGN_IN_LOCKED_OUT = "sign_in_locked_out"
SIGN_OUT = "sign_out"
SESSION_EXPIRED = "session_expired"
OTP_ENROL = "otp_enrol"
OTP_VERIFY = "otp_verify"
OTP_FAILED = "otp_failed"
OTP_RECOVERY_USED = "otp_recovery_used"
ACCESS_REFUSED = "access_refused"
PASSWORD_CHANGE = "password_change"
PASSWORD_CHANGE_FAILED = "password_change_failed"
AUDIT_READ = "audit_read"
AUDIT_EXPORT = "audit_export"


def from_trusted_proxy(request) -> bool:
    """Whether the peer is a proxy we were told about: only then are its forwarding headers believed."""
    if settings.TRUSTED_PROXY_COUNT <= 0:
        return False
    if not settings.TRUSTED_PROXY_NETWORKS:
        return True
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXY_NETWORKS)


def client_address(request) -> str | None:
    """The address of the person at the other end, for lockouts and the audit trail.

    Only with TRUSTED_PROXY_COUNT set explicitly (and the peer within TRUSTED_PROXY_NETWORKS when given) is
    X-Forwarded-For read: REMOTE_ADDR is then the nearest proxy, and the client is the entry that many places
    from the right (entries further left were written by the client and can be forged).
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.TRUSTED_PROXY_COUNT
    if not from_trusted_proxy(request):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where: a signed-in user, an API client, or the system itself."""

    user: Any = None
    client: str = ""
    address: str | None = None
    user_agent: str = ""
    request_id: str | None = None

    @classmethod
    def from_request(cls, request, *, client: str = "", user: Any = None) -> "Actor":
        if user is None:
            user = getattr(request, "user", None)
        return cls(
            user=user if user is not None and user.is_authenticated else None,
            client=client,
            address=client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            request_id=getattr(request, "request_id", None),
        )

    def __str__(self) -> str:
        return str(self.user or self.client or "system")


SYSTEM = Actor(client="system")


def audit_record(
    *, actor: Actor, action: str, obj: Any = None, patient_id=None, site_code: str = "", detail: dict | None = None
) -> AuditEvent:
    event = audit_event(actor=actor, action=action, obj=obj, patient_id=patient_id, site_code=site_code, detail=detail)
    event.save(force_insert=True)
    return event


def audit_event(
    *, actor: Actor, action: str, obj: Any = None, patient_id=None, site_code: str = "", detail: dict | None = None
) -> AuditEvent:
    """The event audit_record writes, unsaved: a set-based service writes many with one bulk_create."""
    return AuditEvent(
        actor_user=actor.user,
        actor_client=actor.client,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "pk", "")) if obj is not None else "",
        patient_id=patient_id,
        site_code=site_code,
        address=actor.address,
        user_agent=actor.user_agent,
        detail=detail or {},
        # The id in the X-Request-ID header and in the logs, so one request can be followed across both.
        request_id=actor.request_id or uuid.uuid4(),
    )


def audit_record_patients(*, actor: Actor, action: str, patients, detail: dict | None = None) -> None:
    """One event per patient shown (a list or search page), written in one statement."""
    request_id = actor.request_id or uuid.uuid4()
    AuditEvent.objects.bulk_create([
        AuditEvent(actor_user=actor.user, actor_client=actor.client, action=action, object_type="Patient",
                   object_id=str(p.pk), patient_id=p.pk, site_code=p.site.code, address=actor.address,
                   user_agent=actor.user_agent, detail=detail or {}, request_id=request_id)
        for p in patients
    ])
