"""python manage.py import_visits FILE --client NAME: a site's history, resumable, as the API would store it."""

from __future__ import annotations

import hashlib

from django.core.management.base import BaseCommand, CommandError

from clinnova.audit import Actor
from doors.bulk.models import ImportFormat, ImportJob, ImportStatus
from doors.bulk.service import import_claim, import_create, import_run
from patients.models import EHRClient


class Command(BaseCommand):
    help = ("Import NDJSON of visit JSON or of FHIR R4 resources for one EHR client (its site, its visit ids). "
            "Running it again on the same file resumes an unfinished import; every visit is stored once.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--client", required=True, help="The EHR client's name (see the admin)")
        parser.add_argument("--site", help="The client's site code, when two sites have clients of that name")
        parser.add_argument("--format", choices=ImportFormat.values,
                            help="visits or fhir (default: fhir if the first line is a FHIR resource)")

    def handle(self, *args, **options):
        client = self._client(options["client"], options["site"])
        try:
            with open(options["file"], "rb") as f:
                fmt = options["format"] or _format_of(f.readline())
                f.seek(0)
                sha = _sha256(f)
                f.seek(0)
                job = (ImportJob.objects.filter(client=client, sha256=sha, format=fmt)
                       .exclude(status__in=[ImportStatus.DONE, ImportStatus.FAILED]).order_by("created_at").first())
                actor = Actor(client=f"command:{client.actor_name}")
                if job is None:
                    job = import_create(client=client, format=fmt, stream=f, actor=actor)
                    self.stdout.write(f"import {job.pk}: {fmt}, stored; reading")
                else:
                    self.stdout.write(f"import {job.pk}: resuming at visit {job.cursor} of {job.total or '?'}")
        except OSError as exc:
            raise CommandError(f"{options['file']}: {exc.strerror}") from None
        claimed = import_claim(job.pk)
        if claimed is None:
            raise CommandError(f"import {job.pk} is running in another process (its last progress was at "
                               f"{job.heartbeat_at:%H:%M:%S}); run this again once it stopped for 2 minutes.")
        job = import_run(claimed, actor=actor)
        self.stdout.write(f"import {job.pk}: {job.status}; {job.stored} visits stored, {job.existing} already "
                          f"stored, {job.rejected} rejected, {job.scored} latest visits sent for scoring")
        if job.rejected:
            for problem in job.problems.order_by("unit")[:20]:
                self.stdout.write(f"  line {problem.lines[0]}: {problem.message} "
                                  + "; ".join(f"{e['field']}: {e['message']}" for e in problem.errors[:3]))
            self.stdout.write(f"  the full report: GET /api/v1/imports/{job.pk}/report/")

    @staticmethod
    def _client(name: str, site: str | None) -> EHRClient:
        clients = EHRClient.objects.select_related("site").filter(name=name, revoked_at__isnull=True)
        if site:
            clients = clients.filter(site__code=site)
        found = list(clients[:2])
        if len(found) != 1:
            raise CommandError(f"--client {name!r}" + (f" --site {site!r}" if site else "")
                               + (" names no active EHR client" if not found else
                                  " names clients at several sites; add --site"))
        return found[0]


def _format_of(first_line: bytes) -> str:
    return ImportFormat.FHIR if b'"resourceType"' in first_line else ImportFormat.VISITS


def _sha256(f) -> str:
    digest = hashlib.sha256()
    while chunk := f.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()
