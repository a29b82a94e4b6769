"""Writing audit events. Services call audit_record inside their transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clinnova.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where: a signed-in user, an API client, or the system itself."""

    user: Any = None
    client: str = ""
    address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request, *, client: str = "") -> "Actor":
        user = getattr(request, "user", None)
        return cls(
            user=user if user is not None and user.is_authenticated else None,
            client=client,
            address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )

    def __str__(self) -> str:
        return str(self.user or self.client or "system")


SYSTEM = Actor(client="system")


def audit_record(
    *, actor: Actor, action: str, obj: Any = None, patient_id=None, site_code: str = "", detail: dict | None = None
) -> AuditEvent:
    return AuditEvent.objects.create(
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
    )
