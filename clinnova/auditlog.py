"""The privacy officer's view of the audit trail: search by patient (Clinnova or EHR id), user, action and
period; actions in words, details formatted; export as CSV.

Reading the trail is itself recorded (audit_read, audit_export).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import uuid
from collections.abc import Callable
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
from clinnova.audit_words import ACTION_WORDS, action_words, detail_items
from clinnova.models import AuditEvent

PAGE_SIZE = 50
CSV_COLUMNS = ("at", "actor", "action", "object_type", "object_id", "patient_id", "site_code", "address",
               "user_agent", "request_id", "detail")


# Functions that turn an identifier an EHR uses into Clinnova patient ids. The record (patients app) registers
# its own at start-up: the core cannot import the layer above it.
PATIENT_LOOKUPS: list[Callable[[str], list[uuid.UUID]]] = []


@dataclass(frozen=True)
class AuditQuery:
    """What the privacy officer asked for; every part optional. `patient` is what was typed."""

    patient_ids: tuple[uuid.UUID, ...] = ()
    patient: str = ""
    username: str = ""
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    @property
    def patient_id(self) -> uuid.UUID | None:
        """The one patient searched for, for the audit event of the search itself."""
        return self.patient_ids[0] if len(self.patient_ids) == 1 else None

    def as_detail(self) -> dict:
        return {"patient": self.patient, "user": self.username, "action": self.action,
                "from": self.since.isoformat() if self.since else "",
                "to": self.until.isoformat() if self.until else ""}


AUDIT_FIRST_DAY = dt.date(2000, 1, 1)
AUDIT_LAST_DAY = dt.date(2999, 12, 31)


def audit_query_parse(params) -> tuple[AuditQuery, list[str]]:
    """The query from GET parameters patient, user, from and to, with a sentence for each one that is wrong."""
    errors = []
    patient_ids: tuple[uuid.UUID, ...] = ()
    raw_patient = params.get("patient", "").strip()[:100].replace("\x00", "")
    if raw_patient:
        patient_ids = _patients_named(raw_patient)
        if not patient_ids:
            errors.append(f"No patient has the id “{raw_patient}”: give the EHR's patient identifier "
                          "(e.g. LU-RA-0001) or a Clinnova patient id.")
    action = params.get("action", "").strip()
    if action and action not in ACTION_WORDS:
        errors.append(f"“{action[:40]}” is not an action of the audit trail; choose one from the list.")
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
    query = AuditQuery(patient_ids=patient_ids, patient=raw_patient, action=action if action in ACTION_WORDS else "",
                       username=params.get("user", "").strip()[:150].replace("\x00", ""),
                       since=dates["from"], until=dates["to"])
    return query, errors


def _patients_named(raw: str) -> tuple[uuid.UUID, ...]:
    """Clinnova ids for what was typed: the id itself, or every patient an EHR knows by that identifier."""
    found: list[uuid.UUID] = []
    try:
        found.append(uuid.UUID(raw))
    except ValueError:
        pass
    for lookup in PATIENT_LOOKUPS:
        found.extend(lookup(raw))
    return tuple(dict.fromkeys(found))


def audit_events_filter(query: AuditQuery) -> QuerySet[AuditEvent]:
    """Events matching the query, newest first. A user matches as the actor, as an API client,
    or as the name typed at a failed sign-in."""
    events = AuditEvent.objects.select_related("actor_user")
    if query.patient_ids:
        events = events.filter(patient_id__in=query.patient_ids)
    if query.action:
        events = events.filter(action=query.action)
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




@login_required
@require_GET
def audit_search(request):
    _require_privacy_officer(request.user)
    query, errors = audit_query_parse(request.GET)
    page = None
    if not errors:
        page = Paginator(audit_events_filter(query), PAGE_SIZE).get_page(request.GET.get("page"))
        for event in page:
            event.action_text = action_words(event.action)
            event.detail_items = detail_items(event.detail)
    audit_record(actor=Actor.from_request(request), action=AUDIT_READ, patient_id=query.patient_id,
                 detail={**query.as_detail(), "page": page.number if page else None})
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "audit/search.html", {
        "page": page, "errors": errors, "q": request.GET, "querystring": params.urlencode(),
        "actions": sorted(ACTION_WORDS.items(), key=lambda item: item[1]),
    }, status=400 if errors else 200)


@login_required
@require_GET
def audit_export(request):
    _require_privacy_officer(request.user)
    query, errors = audit_query_parse(request.GET)
    if errors:
        return render(request, "audit/search.html", {"page": None, "errors": errors, "q": request.GET,
                                                     "actions": sorted(ACTION_WORDS.items(), key=lambda i: i[1])},
                      status=400)
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
