"""POST /api/v1/imports/ (202 and a status URL), the status with progress, and the NDJSON problem report.

The flow is FHIR's asynchronous bulk pattern: the kick-off answers 202 with Content-Location; polling
answers 202 with X-Progress while the job runs and 200 when it is done.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import transaction
from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from doors.api.errors import PayloadTooLarge
from doors.api.responses import ImportOut
from doors.api.serializers import ErrorOut
from doors.api.views import THROTTLED, UNAUTHORIZED, EHRView
from doors.bulk.models import ImportFormat, ImportJob, ImportStatus
from doors.bulk.service import import_create
from doors.bulk.tasks import import_job_run

MEDIA_TYPES = {
    "application/x-ndjson": ImportFormat.VISITS,
    "application/ndjson": ImportFormat.VISITS,
    "application/fhir+ndjson": ImportFormat.FHIR,
}


class _Bounded:
    """The request body, read in pieces, refused once it passes the limit (the declared length may lie)."""

    def __init__(self, request, limit: int) -> None:
        self.request, self.left = request, limit

    def read(self, n: int = -1) -> bytes:
        chunk = self.request.read(1 << 20)
        self.left -= len(chunk)
        if self.left < 0:
            raise PayloadTooLarge(f"The file is over the import limit ({settings.BULK_IMPORT_MAX_BYTES} bytes); "
                                  "split it (by patient) into several imports.")
        return chunk


def import_status(job: ImportJob) -> dict:
    url = reverse("ehr_api:import", args=[job.pk])
    return ImportOut({
        "id": str(job.pk), "status": job.status, "format": job.format,
        "progress": {"done": job.cursor, "total": job.total},
        "visits": {"stored": job.stored, "already_stored": job.existing, "rejected": job.rejected,
                   "scored_latest": job.scored},
        "reason": job.reason,
        "status_url": url,
        "report_url": reverse("ehr_api:import-report", args=[job.pk]),
        "created_at": job.created_at, "finished_at": job.finished_at,
    }).data


NOT_FOUND = OpenApiResponse(ErrorOut, description="No such import at this client's site")


class ImportsView(EHRView):
    parser_classes = []  # the body is streamed to storage, never parsed whole

    def initial(self, request, *args, **kwargs):
        # EHRView's checks are for JSON bodies; an import has its own types and limit.
        super(EHRView, self).initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="import_create",
        summary="Import a site's history: NDJSON of visits (application/x-ndjson, one VisitIn per line) or of "
                "FHIR R4 resources (application/fhir+ndjson: Patient, Encounter, Observation, Condition, "
                "MedicationStatement); idempotent per visit id like POST /visits/; only each patient's latest "
                "visit is scored",
        request={"application/x-ndjson": OpenApiTypes.BINARY, "application/fhir+ndjson": OpenApiTypes.BINARY},
        responses={202: OpenApiResponse(ImportOut, description="Accepted; poll status_url"),
                   401: UNAUTHORIZED, 413: OpenApiResponse(ErrorOut, description="Over BULK_IMPORT_MAX_BYTES"),
                   415: OpenApiResponse(ErrorOut, description="Not one of the NDJSON media types"), 429: THROTTLED},
    )
    def post(self, request):
        media_type = request.content_type.split(";")[0].strip().lower()
        if media_type not in MEDIA_TYPES:
            raise exceptions.UnsupportedMediaType(
                request.content_type or "(none)",
                detail=f"Content-Type {request.content_type or '(none)'!r}: an import is "
                       + " or ".join(MEDIA_TYPES) + ".")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.BULK_IMPORT_MAX_BYTES:
            raise PayloadTooLarge(f"The file is over the import limit ({settings.BULK_IMPORT_MAX_BYTES} bytes).")
        job = import_create(client=request.auth, format=MEDIA_TYPES[media_type],
                            stream=_Bounded(request._request, settings.BULK_IMPORT_MAX_BYTES),
                            actor=self.actor(request))
        transaction.on_commit(lambda: import_job_run.delay(str(job.pk)))
        body = import_status(job)
        return Response(body, status=status.HTTP_202_ACCEPTED,
                        headers={"Content-Location": body["status_url"], "Location": body["status_url"]})


def _job_for_client(request, job_id) -> ImportJob:
    """A job of the caller's site; any other is answered exactly like an unknown id."""
    job = ImportJob.objects.filter(pk=job_id, site=request.auth.site_id).first()
    if job is None:
        raise exceptions.NotFound("No such import at your site.")
    return job


class ImportView(EHRView):
    @extend_schema(operation_id="import_retrieve", summary="An import's progress: 202 with X-Progress while it runs, 200 when done or failed",
                   responses={200: OpenApiResponse(ImportOut, description="Done or failed"),
                              202: OpenApiResponse(ImportOut, description="Still running"), 401: UNAUTHORIZED,
                              404: NOT_FOUND, 429: THROTTLED})
    def get(self, request, job_id):
        job = _job_for_client(request, job_id)
        body = import_status(job)
        if job.status in (ImportStatus.DONE, ImportStatus.FAILED):
            return Response(body)
        progress = f"{job.cursor} of {job.total} visits" if job.total is not None else "reading the file"
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"X-Progress": progress, "Retry-After": "5"})


class ImportReportView(EHRView):
    @extend_schema(operation_id="import_report_retrieve", summary="The visits an import did not store, one JSON object per line (application/x-ndjson)",
                   responses={(200, "application/x-ndjson"): OpenApiResponse(
                                  OpenApiTypes.STR, description="One JSON object per line: line, lines, visit_id, "
                                                                "code, message, errors"),
                              (401, "application/json"): UNAUTHORIZED,
                              (404, "application/json"): NOT_FOUND, (429, "application/json"): THROTTLED})
    def get(self, request, job_id):
        job = _job_for_client(request, job_id)
        rows = job.problems.order_by("unit").values("lines", "visit_id", "code", "message", "errors")

        def lines():
            for row in rows.iterator(chunk_size=1000):
                yield json.dumps({"line": row["lines"][0], "lines": row["lines"], "visit_id": row["visit_id"],
                                  "code": row["code"], "message": row["message"], "errors": row["errors"]},
                                 default=str) + "\n"

        return StreamingHttpResponse(lines(), content_type="application/x-ndjson")
