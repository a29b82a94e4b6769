"""The privacy officer's view of the audit trail: search by patient, user and period; export as CSV.

Reading the trail is itself recorded (audit_read, audit_export).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import uuid
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinnova.access import PRIVACY_OFFICER, has_role
from clinnova.audit import AUDIT_EXPORT, AUDIT_READ, SIGN_IN_FAILED, SIGN_IN_LOCKED_OUT, Actor, audit_record
from clinnova.models import AuditEvent

PAGE_SIZE = 50
CSV_COLUMNS = ("at", "actor", "action", "object_type", "object_id", "patient_id", "site_code", "address",
               "user_agent", "request_id", "detail")


@dataclass(frozen=True)
class AuditQuery:
    """What the privacy officer asked for; every part optional."""

    patient_id: uuid.UUID | None = None
    username: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def as_detail(self) -> dict:
        return {"patient": str(self.patient_id or ""), "user": self.username,
                "from": self.since.isoformat() if self.since else "",
                "to": self.until.isoformat() if self.until else ""}


AUDIT_FIRST_DAY = dt.date(2000, 1, 1)
AUDIT_LAST_DAY = dt.date(2999, 12, 31)


def audit_query_parse(params) -> tuple[AuditQuery, list[str]]:
    """The query from GET parameters patient, user, from and to, with a sentence for each one that is wrong."""
    errors = []
    patient_id = None
    if raw := params.get("patient", "").strip():
        try:
            patient_id = uuid.UUID(raw)
        except ValueError:
            errors.append("The patient id must be a Clinnova patient id, e.g. 1b4e28ba-2fa1-41d2-883f-0016d3cca427.")
    dates = {}
    for name, label in (("from", "From"), ("to", "To")):
        raw = params.get(name, "").strip()
        try:
            dates[name] = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            dates[name] = None
            errors.append(f"“{label}” must be a date such as 2026-11-28.")
            continue
        # The trail starts with the system; the bounds keep "the day after" and time zones computable.
        if dates[name] and not AUDIT_FIRST_DAY <= dates[name] <= AUDIT_LAST_DAY:
            errors.append(f"“{label}” is {raw}; use a date from {AUDIT_FIRST_DAY.isoformat()} to "
                          f"{AUDIT_LAST_DAY.isoformat()}.")
            dates[name] = None
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        errors.append("“From” is after “To”: swap them to search that period.")
    query = AuditQuery(patient_id=patient_id, username=params.get("user", "").strip()[:150],
                       since=dates["from"], until=dates["to"])
    return query, errors


def audit_events_filter(query: AuditQuery) -> QuerySet[AuditEvent]:
    """Events matching the query, newest first. A user matches as the actor, as an API client,
    or as the name typed at a failed sign-in."""
    events = AuditEvent.objects.select_related("actor_user")
    if query.patient_id:
        events = events.filter(patient_id=query.patient_id)
    if query.username:
        events = events.filter(
            Q(actor_user__username=query.username)
            | Q(actor_client=query.username)
            | Q(action__in=[SIGN_IN_FAILED, SIGN_IN_LOCKED_OUT], detail__username=query.username)
        )
    if query.since:
        events = events.filter(at__gte=_start_of(query.since))
    if query.until:
        events = events.filter(at__lt=_start_of(query.until + dt.timedelta(days=1)))
    return events.order_by("-at", "-id")


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _require_privacy_officer(user) -> None:
    if not has_role(user, PRIVACY_OFFICER):
        raise PermissionDenied("Only privacy officers read the audit trail.")


def detail_text(detail: dict) -> str:
    return ", ".join(f"{key}: {value}" for key, value in detail.items() if value not in ("", None))


@login_required
@require_GET
def audit_search(request):
    _require_privacy_officer(request.user)
    query, errors = audit_query_parse(request.GET)
    page = None
    if not errors:
        page = Paginator(audit_events_filter(query), PAGE_SIZE).get_page(request.GET.get("page"))
        for event in page:
            event.detail_text = detail_text(event.detail)
    audit_record(actor=Actor.from_request(request), action=AUDIT_READ, patient_id=query.patient_id,
                 detail={**query.as_detail(), "page": page.number if page else None})
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "audit/search.html", {
        "page": page, "errors": errors, "q": request.GET, "querystring": params.urlencode(),
    }, status=400 if errors else 200)


@login_required
@require_GET
def audit_export(request):
    _require_privacy_officer(request.user)
    query, errors = audit_query_parse(request.GET)
    if errors:
        return render(request, "audit/search.html", {"page": None, "errors": errors, "q": request.GET}, status=400)
    audit_record(actor=Actor.from_request(request), action=AUDIT_EXPORT, patient_id=query.patient_id,
                 detail=query.as_detail())
    writer = csv.writer(_Echo())
    rows = itertools.chain([CSV_COLUMNS], (_csv_row(e) for e in audit_events_filter(query).iterator(chunk_size=2000)))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="clinnova-audit-{stamp}.csv"',
                 "Cache-Control": "no-store"},
    )


class _Echo:
    """csv.writer writes a row into this and gets the line back, so rows can be streamed."""

    def write(self, value: str) -> str:
        return value


def _csv_row(event: AuditEvent) -> list[str]:
    values = [
        timezone.localtime(event.at).isoformat(), event.actor_name, event.action, event.object_type, event.object_id,
        str(event.patient_id or ""), event.site_code, event.address or "", event.user_agent, str(event.request_id),
        json.dumps(event.detail, ensure_ascii=False, sort_keys=True) if event.detail else "",
    ]
    return [_cell(v) for v in values]


def _cell(value: str) -> str:
    # A name typed at a failed sign-in or a user agent is chosen by whoever sent it: a leading
    # =, +, - or @ would make a spreadsheet run it as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


app_name = "audit"
urlpatterns = [
    path("", audit_search, name="search"),
    path("export.csv", audit_export, name="export"),
]
