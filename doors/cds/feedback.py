"""CDS Hooks feedback: what clinicians did with Clinnova's cards, stored against the card with the override reason.

Feedback names a card by the uuid we issued (CdsCard). A uuid we never issued, or issued to another client,
is refused (400 naming the item): feedback that cannot be tied to what was shown says nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions

from clinnova.audit import Actor, audit_record
from recommendations.models import CdsCard, CdsClient, CdsFeedback, CdsFeedbackOutcome

MAX_ITEMS = 100
FEEDBACK_MAX_AGE = dt.timedelta(days=365)
FEEDBACK_CLOCK_SKEW = dt.timedelta(minutes=5)


def feedback_store(*, client: CdsClient, service_id: str, body: Any, actor: Actor) -> list[CdsFeedback]:
    """Store every feedback item of the request, or none: ValidationError (400) names each item at fault."""
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 0 < len(items) <= MAX_ITEMS:
        raise exceptions.ValidationError({"feedback": [f"must be a list of 1 to {MAX_ITEMS} feedback items"]})
    rows, errors = [], {}
    for i, item in enumerate(items):
        try:
            rows.append((i, _row(client, service_id, item)))
        except ValueError as exc:
            errors[f"feedback[{i}].{exc.args[0]}"] = [exc.args[1]]
    # One query for every card named; only this client's cards of this service count as issued.
    issued = {c.uuid: c for c in CdsCard.objects.filter(uuid__in={r.card for _, r in rows}, client=client,
                                                        service_id=service_id)}
    for i, row in rows:
        row.issued_card = issued.get(row.card)
        if row.issued_card is None:
            errors.setdefault(f"feedback[{i}].card", [f"{row.card} is not a card this service issued to this client"])
        elif row.outcome_at < row.issued_card.issued_at - FEEDBACK_CLOCK_SKEW:
            errors.setdefault(f"feedback[{i}].outcomeTimestamp", [
                f"is {row.outcome_at.isoformat()}, before the card was issued "
                f"({row.issued_card.issued_at:%Y-%m-%dT%H:%M:%SZ})"])
    if errors:
        raise exceptions.ValidationError(errors)
    rows = [row for _, row in rows]
    with transaction.atomic():
        stored = CdsFeedback.objects.bulk_create(rows)
        audit_record(actor=actor, action="cds_feedback", site_code=client.site.code,
                     detail={"service": service_id, "cards": [str(r.card) for r in rows][:MAX_ITEMS],
                             "outcomes": [r.outcome for r in rows]})
    return stored


def _row(client: CdsClient, service_id: str, item: Any) -> CdsFeedback:
    if not isinstance(item, dict):
        raise ValueError("card", "each feedback item is an object")
    try:
        card = uuid.UUID(str(item.get("card")))
    except ValueError:
        raise ValueError("card", "must be the uuid of a card Clinnova returned") from None
    outcome = item.get("outcome")
    if outcome not in CdsFeedbackOutcome.values:
        raise ValueError("outcome", f"must be one of {', '.join(CdsFeedbackOutcome.values)}")
    when = item.get("outcomeTimestamp")
    outcome_at = parse_datetime(when) if isinstance(when, str) else None
    if outcome_at is None or outcome_at.tzinfo is None:
        raise ValueError("outcomeTimestamp", "must be an ISO 8601 date-time with a time zone")
    # Feedback follows a card Clinnova served: not from the future, not from before any card could be kept.
    now = timezone.now()
    if not (now - FEEDBACK_MAX_AGE <= outcome_at <= now + FEEDBACK_CLOCK_SKEW):
        raise ValueError("outcomeTimestamp", f"is {when}; it must lie between {(now - FEEDBACK_MAX_AGE):%Y-%m-%d} "
                                             "and now (feedback is sent after the card was shown)")
    override = item.get("overrideReason") or {}
    reason = (override.get("reason") or {}) if isinstance(override, dict) else None
    if not isinstance(reason, dict):
        raise ValueError("overrideReason", 'must be {"reason": {"code", "system", "display"}, "userComment"}')
    comment = override.get("userComment") or ""
    texts = {"code": reason.get("code") or "", "system": reason.get("system") or "",
             "display": reason.get("display") or "", "userComment": comment}
    if not all(isinstance(v, str) and "\x00" not in v for v in texts.values()):
        raise ValueError("overrideReason", "code, system, display and userComment are strings (without NUL)")
    accepted = item.get("acceptedSuggestions") or []
    if not isinstance(accepted, list) or not all(
            isinstance(a, dict) and isinstance(a.get("id"), str) and "\x00" not in a["id"] for a in accepted):
        raise ValueError("acceptedSuggestions", 'must be a list of {"id": "<suggestion uuid>"}')
    accepted = [{"id": a["id"][:100]} for a in accepted]
    return CdsFeedback(client=client, service_id=service_id, card=card, outcome=outcome, outcome_at=outcome_at,
                       accepted_suggestions=accepted[:20], override_code=texts["code"][:100],
                       override_system=texts["system"][:255], override_display=texts["display"][:255],
                       user_comment=comment[:2000])
