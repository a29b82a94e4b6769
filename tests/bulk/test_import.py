"""The bulk import: every visit once, history not scored, resumable, with a report of what was refused."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from clinnova.models import AuditEvent
from doors.bulk import chunk, service
from doors.bulk.models import ImportJob, ImportStatus
from patients.models import IngestKey, Patient, Visit
from patients.selectors import patient_for_client
from recommendations.models import Recommendation, ScoringJob
from tests.bulk.bulk_helpers import fhir_resources, ndjson, visit_lines
from tests.patients.api_helpers import auth


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _import(path, ehr, *extra) -> str:
    out = io.StringIO()
    call_command("import_visits", str(path), "--client", ehr.name, *extra, stdout=out)
    return out.getvalue()


def _latest_visit_ids() -> set:
    return {Visit.objects.filter(patient=p).order_by("-visit_date").first().pk for p in Patient.objects.all()}


def test_a_file_of_visits_stores_each_once_and_scores_only_each_patients_latest_visit(
        tmp_path, ehr_lu, ra_model, django_capture_on_commit_callbacks):
    ehr, _ = ehr_lu
    path = tmp_path / "history.ndjson"
    path.write_bytes(ndjson(visit_lines(patients=3, visits=4)))
    with django_capture_on_commit_callbacks(execute=True):
        output = _import(path, ehr)
    assert "12 visits stored" in output
    assert Visit.objects.count() == 12 and IngestKey.objects.filter(client=ehr).count() == 12
    assert AuditEvent.objects.filter(action="visit_create").count() == 12
    assert {j.visit_id for j in ScoringJob.objects.all()} == _latest_visit_ids()
    assert set(Recommendation.objects.values_list("visit_id", flat=True)) == _latest_visit_ids()
    assert ImportJob.objects.get().status == ImportStatus.DONE


def test_importing_the_same_visits_again_stores_nothing_new(tmp_path, ehr_lu, ra_model, client):
    ehr, token = ehr_lu
    rows = visit_lines(patients=2, visits=3)
    # One visit came through the single-visit door first: the import finds it under the same key.
    assert client.post("/api/v1/visits/", rows[0], content_type="application/json", **auth(token)).status_code == 201
    path = tmp_path / "history.ndjson"
    path.write_bytes(ndjson(rows))
    assert "5 visits stored, 1 already stored" in _import(path, ehr)
    path.write_bytes(ndjson(rows) + b"\n")  # another file (another hash): a new job, the same keys
    assert "0 visits stored, 6 already stored" in _import(path, ehr)
    assert Visit.objects.count() == 6 and AuditEvent.objects.filter(action="visit_create").count() == 6
    assert ScoringJob.objects.count() == 2 + 1  # the posted visit was scored as it came, then the two latest


class Crash(BaseException):
    """The process dies (kill -9, out of memory): nothing after this point runs."""


def test_a_crash_halfway_then_a_rerun_stores_every_visit_exactly_once(tmp_path, ehr_lu, ra_model, monkeypatch):
    ehr, _ = ehr_lu
    monkeypatch.setattr(service, "CHUNK", 4)
    path = tmp_path / "history.ndjson"
    path.write_bytes(ndjson(visit_lines(patients=3, visits=4)))
    read = chunk._unit_read

    def dies_at_the_tenth(job, unit):
        if unit.index == 9:
            raise Crash
        return read(job, unit)

    monkeypatch.setattr(chunk, "_unit_read", dies_at_the_tenth)
    with pytest.raises(Crash):
        _import(path, ehr)
    job = ImportJob.objects.get()
    # Two chunks committed with their cursor; the third (visits 9-12) rolled back with the process.
    assert (job.status, job.cursor, job.stored) == (ImportStatus.RUNNING, 8, 8)
    assert Visit.objects.count() == 8 and not ScoringJob.objects.exists()

    monkeypatch.setattr(chunk, "_unit_read", read)
    with pytest.raises(Exception, match="running in another process"):
        _import(path, ehr)  # too soon: the dead process's heartbeat is still fresh
    ImportJob.objects.update(heartbeat_at=job.heartbeat_at - service.STALE * 2)
    assert "resuming at visit 8 of 12" in _import(path, ehr)
    job.refresh_from_db()
    assert (job.status, job.stored, job.existing) == (ImportStatus.DONE, 12, 0)
    assert Visit.objects.count() == 12 and IngestKey.objects.count() == 12
    assert AuditEvent.objects.filter(action="visit_create").count() == 12
    assert {j.visit_id for j in ScoringJob.objects.all()} == _latest_visit_ids()


def test_the_report_names_each_line_not_stored_and_why(client, ehr_lu, ra_model,
                                                      django_capture_on_commit_callbacks):
    ehr, token = ehr_lu
    rows = visit_lines(patients=1, visits=2)
    bad_crp = json.loads(json.dumps(rows[0]))
    bad_crp.update(visit_id="V-bad")
    bad_crp["measurements"]["crp"] = 9999
    changed = json.loads(json.dumps(rows[1]))
    changed["measurements"]["esr"] = 80
    body = ndjson([rows[0], b"{not json", bad_crp, rows[1], changed, [1, 2]])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", body, content_type="application/x-ndjson", **auth(token))
    assert response.status_code == 202, response.content
    status_url = response["Content-Location"]
    answer = client.get(status_url, **auth(token))
    assert answer.status_code == 200  # no broker in tests: the job ran when the upload committed
    assert answer.json()["visits"] == {"stored": 2, "already_stored": 0, "rejected": 4, "scored_latest": 1}
    report = client.get(answer.json()["report_url"], **auth(token))
    assert report["Content-Type"] == "application/x-ndjson"
    problems = [json.loads(line) for line in b"".join(report.streaming_content).decode().splitlines()]
    assert [(p["line"], p["code"]) for p in problems] == [(2, "invalid"), (3, "invalid"), (5, "conflict"),
                                                         (6, "invalid")]
    assert "not JSON" in problems[0]["message"]
    assert problems[1]["visit_id"] == "V-bad"
    assert problems[1]["errors"][0]["field"] == "measurements.crp" and problems[1]["errors"][0]["value"] == 9999
    assert [e["field"] for e in problems[2]["errors"]] == ["measurements.esr"]
    assert Visit.objects.count() == 2


def test_a_fhir_bulk_export_becomes_one_visit_per_encounter(tmp_path, ehr_lu, ra_model):
    ehr, _ = ehr_lu
    resources = fhir_resources(ehr.identifier_system, encounters=3)
    orphan = dict(next(r for r in resources if r["resourceType"] == "Observation"), id="obs-x",
                  encounter={"reference": "Encounter/enc-nowhere"})
    path = tmp_path / "export.ndjson"
    path.write_bytes(ndjson([*resources, orphan]))
    assert "3 visits stored, 0 already stored, 1 rejected" in _import(path, ehr)
    visits = Visit.objects.order_by("visit_date")
    assert [v.source_id for v in visits] == ["enc-2", "enc-1", "enc-0"]
    assert {v.source for v in visits} == {"fhir"} and visits[0].measurements["crp"] == 24.0
    assert Patient.objects.get().identifiers.get(system=ehr.identifier_system).value == "P-100"
    # The export's Patient.id is kept for this client, as the FHIR door keeps it: CDS Hooks calls by it.
    assert patient_for_client(clients=[ehr], patient_id="pat-1") == Patient.objects.get()
    assert [j.visit_id for j in ScoringJob.objects.all()] == [visits.last().pk]
    problem = ImportJob.objects.get().problems.get()
    assert problem.lines == [len(resources) + 1] and "Encounter/enc-nowhere" in problem.message
    assert "0 visits stored, 3 already stored, 1 rejected" in _import(path, ehr)  # the same file again
    assert Visit.objects.count() == 3


def test_an_import_stays_at_the_clients_site(client, ehr_lu, ehr_fr, ra_model, django_capture_on_commit_callbacks):
    lu, lu_token = ehr_lu
    _, fr_token = ehr_fr
    with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/v1/imports/", ndjson(visit_lines(patients=1, visits=2)),
                               content_type="application/x-ndjson", **auth(lu_token))
    url = response["Content-Location"]
    assert {p.site.code for p in Patient.objects.all()} == {"LU"}
    assert client.get(url, **auth(fr_token)).status_code == 404
    assert client.get(url + "report/", **auth(fr_token)).status_code == 404
    assert client.get(url, **auth(lu_token)).status_code == 200


def test_an_import_needs_a_token_and_an_ndjson_body(client, ehr_lu):
    _, token = ehr_lu
    assert client.post("/api/v1/imports/", b"{}\n", content_type="application/x-ndjson").status_code == 401
    refused = client.post("/api/v1/imports/", b"{}", content_type="application/json", **auth(token))
    assert refused.status_code == 415 and "application/fhir+ndjson" in refused.json()["message"]
    assert not ImportJob.objects.exists()
