"""The bulk import: store a file's visits through the same door as one-by-one posts, resumably.

Each visit goes through ehr_visit_ingest (the JSON door) or the FHIR door's mapping then ehr_visit_ingest,
so it gets the same checks, the same IngestKey per client and visit id, and its own audit event. Visits
are committed in chunks, together with the job's cursor, the problems met and the patients touched: a
process that dies loses at most its uncommitted chunk, and the re-run starts at the cursor. Visits are
stored as history (no scoring job each); when the file is done, each touched patient's latest visit is
scored, in the transaction that marks the job done.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Iterator
from itertools import islice
from typing import IO

from django.core.files.base import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from doors.api.errors import Conflict, serializer_errors
from doors.api.ingest import Received, ehr_visit_ingest
from doors.api.serializers import VisitIn
from doors.bulk.chunk import Outcome, Refused, chunk_store, refusal
from doors.bulk.models import ImportFormat, ImportJob, ImportPatient, ImportProblem, ImportStatus
from doors.bulk.reading import Unit, fhir_units, visit_units
from doors.fhir.bundle import bundle_read
from doors.fhir.errors import FHIRError
from doors.fhir.visit_mapping import visit_map
from patients.dictionary import DictionaryError
from patients.models import EHRClient, VisitSource
from recommendations.jobs import latest_visits_score, scoring_held

log = logging.getLogger(__name__)

CHUNK = 200
# A running job whose heartbeat is older than this lost its process; the sweep or a re-run takes it over.
STALE = dt.timedelta(seconds=120)


def import_create(*, client: EHRClient, format: str, stream: IO[bytes], actor: Actor) -> ImportJob:
    """Store the file and record a pending job (the caller runs it, or sends it to a worker on commit)."""
    digest = hashlib.sha256()
    job = ImportJob(client=client, site=client.site, format=format, created_by=str(actor))
    # Hash while the storage copies: read once, whatever the size.
    hashing = _Hashing(stream, digest)
    try:
        job.data.save(f"{job.pk}.ndjson", File(hashing), save=False)
        job.sha256 = digest.hexdigest()
        with transaction.atomic():
            job.save()
            audit_record(actor=actor, action="import_create", obj=job, site_code=client.site.code,
                         detail={"format": format, "sha256": job.sha256, "bytes": hashing.size})
    except BaseException:
        if job.data.name:  # a refused or interrupted upload leaves no file behind
            job.data.storage.delete(job.data.name)
        raise
    return job


class _Hashing:
    def __init__(self, stream: IO[bytes], digest) -> None:
        self.stream, self.digest, self.size = stream, digest, 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.stream.read(n if n and n > 0 else 1 << 20)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def import_claim(job_id, *, now: dt.datetime | None = None) -> ImportJob | None:
    """Move a pending job, or a running one whose process stopped, to running; None if someone else has it."""
    now = now or timezone.now()
    claimed = ImportJob.objects.filter(
        Q(status=ImportStatus.PENDING) | Q(status=ImportStatus.RUNNING, heartbeat_at__lt=now - STALE), pk=job_id,
    ).update(status=ImportStatus.RUNNING, heartbeat_at=now)
    return ImportJob.objects.select_related("client__site").get(pk=job_id) if claimed == 1 else None


def import_run(job: ImportJob, *, actor: Actor, budget_seconds: float | None = None) -> ImportJob:
    """Store the claimed job's visits from its cursor on; stop after budget_seconds (the job goes back to
    pending, to be continued) or at the end (latest visits scored, job done)."""
    started = time.monotonic()
    if job.total is None:
        with job.data.storage.open(job.data.name, "rb") as stream:
            job.total = sum(1 for _ in _units(job, stream))
        job.save(update_fields=["total"])
    with job.data.storage.open(job.data.name, "rb") as stream:
        units = _units(job, stream)
        for chunk in _chunks(islice(units, job.cursor, None)):
            _chunk_store(job, chunk, actor=actor)
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.PENDING)
                job.status = ImportStatus.PENDING
                return job
    with transaction.atomic():
        patient_ids = list(job.patients.values_list("patient_id", flat=True))
        scored = latest_visits_score(patient_ids)
        job.status, job.finished_at, job.scored = ImportStatus.DONE, timezone.now(), F("scored") + len(scored)
        job.save(update_fields=["status", "finished_at", "scored"])
        audit_record(actor=actor, action="import_done", obj=job, site_code=job.site.code,
                     detail={"stored": job.stored, "existing": job.existing, "rejected": job.rejected})
    job.refresh_from_db()
    return job


def _units(job: ImportJob, stream) -> Iterator[Unit]:
    return (visit_units if job.format == ImportFormat.VISITS else fhir_units)(stream)


def _chunks(units: Iterator[Unit]) -> Iterator[list[Unit]]:
    while chunk := list(islice(units, CHUNK)):
        yield chunk


def _chunk_store(job: ImportJob, chunk: list[Unit], *, actor: Actor) -> None:
    """The chunk's visits, problems, touched patients and the cursor past them: all committed, or none."""
    counts = {"stored": 0, "existing": 0, "rejected": 0}
    problems, patients = [], set()
    with transaction.atomic(), scoring_held():
        for outcome in _chunk_outcomes(job, chunk, actor=actor):
            if outcome.code:
                counts["rejected"] += 1
                unit = outcome.unit
                problems.append(ImportProblem(job=job, unit=unit.index, lines=unit.lines, visit_id=unit.visit_id[:100],
                                              code=outcome.code, message=outcome.message, errors=outcome.errors))
                continue
            counts["stored" if outcome.created else "existing"] += 1
            patients.add(outcome.patient_id)
        ImportProblem.objects.bulk_create(problems, ignore_conflicts=True)
        ImportPatient.objects.bulk_create([ImportPatient(job=job, patient_id=p) for p in patients],
                                          ignore_conflicts=True)
        job.cursor = chunk[-1].index + 1
        job.heartbeat_at = timezone.now()
        for name, n in counts.items():
            setattr(job, name, getattr(job, name) + n)
        job.save(update_fields=["cursor", "heartbeat_at", *counts])


def _chunk_outcomes(job: ImportJob, chunk: list[Unit], *, actor: Actor) -> list[Outcome]:
    """The chunk set-based, in one savepoint; if that fails (a patient or key written meanwhile by another
    request, or a bug), the same chunk one visit at a time through the door, each visit in its own."""
    try:
        with transaction.atomic():
            outcomes, deferred = chunk_store(job, chunk, actor=actor)
    except Exception:
        log.warning("import %s: chunk at unit %s stored one visit at a time", job.pk, chunk[0].index, exc_info=True)
        outcomes, deferred = [], chunk
    outcomes += [_unit_outcome(job, unit, actor=actor) for unit in deferred]
    return sorted(outcomes, key=lambda o: o.unit.index)


def _unit_outcome(job: ImportJob, unit: Unit, *, actor: Actor) -> Outcome:
    """One visit through its door; a bug met by it is reported on its line and rolled back alone."""
    if unit.code:
        return Outcome(unit, code=unit.code, message=unit.message, errors=unit.errors)
    try:
        with transaction.atomic():
            received = _unit_store(job, unit, actor=actor)
    except Refused as exc:
        return Outcome(unit, code=exc.code, message=exc.message, errors=exc.errors)
    except Exception as exc:
        log.exception("import %s: unit %s failed", job.pk, unit.index)
        return Outcome(unit, code="internal_error", message=f"Not stored: an error of this service "
                       f"({type(exc).__name__}); it has been logged. Send this visit again later.")
    return Outcome(unit, created=received.created, patient_id=received.key.visit.patient_id)


def _unit_store(job: ImportJob, unit: Unit, *, actor: Actor) -> Received:
    """Store one visit as its door would; Refused (rolled back by the caller) when it cannot be stored."""
    try:
        if job.format == ImportFormat.VISITS:
            incoming = VisitIn(data=unit.data)
            if not incoming.is_valid():
                errors = serializer_errors(incoming.errors, unit.data)
                raise Refused("invalid", f"{len(errors)} invalid field(s)", errors)
            return ehr_visit_ingest(client=job.client, data=incoming.validated_data, actor=actor,
                                    source=VisitSource.API)
        mapped = visit_map(bundle_read(unit.data), client=job.client)
        return ehr_visit_ingest(client=job.client, data=mapped.data, actor=actor, source=VisitSource.FHIR)
    except (DictionaryError, FHIRError, Conflict) as exc:
        raise refusal(exc) from None
