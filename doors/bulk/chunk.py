"""A chunk of an import stored set-based: the same checks and keys as the JSON door, a few statements in all.

Every visit is read and checked first (VisitIn or the FHIR mapping, then the door's normalising); the
chunk's IngestKeys already used are found with one query (same content: already stored; different: a
conflict, as the door answers); the others are claimed with one INSERT ... ON CONFLICT DO NOTHING, each
with the id its visit will get, and the visit service's set-based path, visits_ingest, stores the
visits. A key whose visit fails the service's checks is deleted again, as the door's rollback would.

What this path does not decide, it leaves to the door one visit at a time (`deferred`): a visit id
repeated within the chunk (the second is a replay or a conflict of the first), and a key another
request claimed between the look-up and the claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rest_framework.exceptions import ValidationError

from clinnova.audit import Actor, audit_event
from clinnova.models import AuditEvent
from doors.api.errors import Conflict, serializer_errors
from doors.api.ingest import keys_claim, normalised, same_content_check, visit_draft
from doors.api.serializers import visit_in_validated
from doors.bulk.models import ImportFormat, ImportJob
from doors.bulk.reading import Unit
from doors.fhir.bundle import bundle_read
from doors.fhir.errors import FHIRError
from doors.fhir.visit_mapping import visit_map
from patients.dictionary import DictionaryError
from patients.models import IngestKey, Visit, VisitSource
from patients.services import visit_content_hash, visits_ingest


@dataclass
class Outcome:
    """What became of a unit: stored (created True), found stored (False) or refused (code set)."""
    unit: Unit
    created: bool | None = None
    patient_id: Any = None
    code: str = ""
    message: str = ""
    errors: list[dict] = field(default_factory=list)


class Refused(Exception):
    def __init__(self, code: str, message: str, errors: list[dict]) -> None:
        super().__init__(message)
        self.code, self.message, self.errors = code, message, errors


def refusal(exc: Exception) -> Refused | None:
    """The report's code, message and errors for what a door raises on a visit it does not store."""
    if isinstance(exc, DictionaryError):
        errors = [e.as_dict() for e in exc.errors]
        return Refused("invalid", f"{len(errors)} invalid field(s)", errors)
    if isinstance(exc, FHIRError):
        errors = [{"field": i.expression, "value": None, "message": i.diagnostics, "entry": i.entry}
                  for i in exc.issues]
        return Refused("invalid", f"{len(errors)} problem(s) in the Encounter's resources", errors)
    if isinstance(exc, Conflict):
        return Refused(getattr(exc.detail, "code", "conflict"), str(exc.detail),
                       [{"field": f, "value": None, "message": "differs from the stored visit"}
                        for f in exc.extra.get("differing_fields") or []])
    return None


@dataclass
class _Read:
    unit: Unit
    data: dict
    payload: dict
    digest: str
    source: str


def _unit_read(job: ImportJob, unit: Unit) -> _Read:
    """The unit's request as the door validates and normalises it; Refused when the door would refuse it."""
    if unit.code:
        raise Refused(unit.code, unit.message, unit.errors)
    try:
        if job.format == ImportFormat.VISITS:
            try:
                data, source = visit_in_validated(unit.data), VisitSource.API
            except ValidationError as exc:
                errors = serializer_errors(exc.detail, unit.data)
                raise Refused("invalid", f"{len(errors)} invalid field(s)", errors) from None
        else:
            data, source = visit_map(bundle_read(unit.data), client=job.client).data, VisitSource.FHIR
        payload = normalised(data)
    except (DictionaryError, FHIRError) as exc:
        raise refusal(exc) from None
    return _Read(unit, data, payload, visit_content_hash(payload), source)


def chunk_store(job: ImportJob, chunk: list[Unit], *, actor: Actor) -> tuple[list[Outcome], list[Unit]]:
    """Store the chunk's visits (inside the caller's transaction); the outcomes, and the units left to the
    door one at a time."""
    client = job.client
    outcomes: list[Outcome] = []
    reads: dict[str, _Read] = {}
    deferred: list[Unit] = []
    for unit in chunk:
        try:
            read = _unit_read(job, unit)
        except Refused as exc:
            outcomes.append(Outcome(unit, code=exc.code, message=exc.message, errors=exc.errors))
            continue
        if read.data["visit_id"] in reads:
            deferred.append(unit)
        else:
            reads[read.data["visit_id"]] = read

    events = []
    for key in IngestKey.objects.select_related("visit").filter(client=client, ehr_visit_id__in=list(reads)):
        read = reads.pop(key.ehr_visit_id)
        try:
            same_content_check(key, read.payload, read.digest)
        except Conflict as exc:
            r = refusal(exc)
            outcomes.append(Outcome(read.unit, code=r.code, message=r.message, errors=r.errors))
            continue
        outcomes.append(Outcome(read.unit, created=False, patient_id=key.visit.patient_id))
        # A replay is answered with the stored visit: a read of the patient, audited as the door audits it.
        events.append(audit_event(actor=actor, action="patient_read", obj=key.visit, patient_id=key.visit.patient_id,
                                  site_code=client.site.code, detail={"via": read.source, "replay": True}))
    AuditEvent.objects.bulk_create(events)

    drafts = {visit_id: visit_draft(client=client, data=read.data, payload=read.payload)
              for visit_id, read in reads.items()}
    claimed = {visit_id for _, visit_id in keys_claim([
        IngestKey(client=client, ehr_visit_id=visit_id, content_hash=read.digest, payload=read.payload,
                  visit_id=drafts[visit_id].id) for visit_id, read in reads.items()])}
    deferred += [read.unit for visit_id, read in reads.items() if visit_id not in claimed]
    for source in (VisitSource.API, VisitSource.FHIR):
        ids = [visit_id for visit_id, read in reads.items() if visit_id in claimed and read.source == source]
        refused = []
        for visit_id, result in zip(ids, visits_ingest(site=client.site, drafts=[drafts[v] for v in ids],
                                                       actor=actor, source=source)):
            unit = reads[visit_id].unit
            if isinstance(result, Visit):
                outcomes.append(Outcome(unit, created=True, patient_id=result.patient_id))
            else:
                r = refusal(result)
                outcomes.append(Outcome(unit, code=r.code, message=r.message, errors=r.errors))
                refused.append(visit_id)
        IngestKey.objects.filter(client=client, ehr_visit_id__in=refused).delete()
    outcomes.sort(key=lambda o: o.unit.index)
    return outcomes, deferred
