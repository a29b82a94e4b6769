"""A chunk stored set-based answers each line as the single-visit door would, across chunks too."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from clinnova.models import AuditEvent
from doors.bulk import service
from doors.bulk.models import ImportJob, ImportStatus
from patients.models import Diagnosis, IngestKey, Patient, PatientIdentifier, TherapyExposure, Visit
from recommendations.models import ScoringJob
from tests.bulk.bulk_helpers import ndjson, visit_lines
from tests.patients.api_helpers import TODAY, auth


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _import(path, ehr) -> ImportJob:
    call_command("import_visits", str(path), "--client", ehr.name, stdout=io.StringIO())
    return ImportJob.objects.order_by("-created_at").first()


def test_a_chunk_of_good_bad_and_repeated_lines_stores_the_good_ones_and_reports_each_other_line(
        tmp_path, client, ehr_lu, ra_model):
    ehr, token = ehr_lu
    rows = visit_lines(patients=2, visits=2)
    # The first visit came through the single-visit door before the import.
    assert client.post("/api/v1/visits/", rows[0], content_type="application/json", **auth(token)).status_code == 201
    bad_crp = copy.deepcopy(rows[1])
    bad_crp["visit_id"], bad_crp["measurements"]["crp"] = "V-bad", 9999
    changed = copy.deepcopy(rows[1])
    changed["measurements"]["esr"] = 80
    # Born in 1900: every date passes, but the age at the visit (over 120) is outside the dictionary's range,
    # which the service finds only with the patient's diagnosis in hand; the key it claimed must go again.
    too_old = copy.deepcopy(rows[2])
    too_old["visit_id"], too_old["patient"] = "V-old", {**too_old["patient"], "id": "P-old", "birth_year": 1900}
    stored_changed = copy.deepcopy(rows[0])
    stored_changed["measurements"]["crp"] = 3.0
    lines = [rows[0], rows[1], bad_crp, rows[1], changed, too_old, rows[2], rows[3], b"[]", stored_changed]
    path = tmp_path / "mixed.ndjson"
    path.write_bytes(ndjson(lines))

    job = _import(path, ehr)

    assert (job.status, job.stored, job.existing, job.rejected) == (ImportStatus.DONE, 3, 2, 5)
    assert [(p.lines, p.code) for p in job.problems.all()] == [
        ([3], "invalid"), ([5], "conflict"), ([6], "invalid"), ([9], "invalid"), ([10], "conflict")]
    too_old_problem = job.problems.get(visit_id="V-old")
    assert too_old_problem.errors[0]["field"] == "patient.birth_year" and too_old_problem.errors[0]["value"] == 1900
    assert [e["field"] for e in job.problems.get(lines=[10]).errors] == ["measurements.crp"]
    assert Visit.objects.count() == 4 and Patient.objects.count() == 2
    keys = IngestKey.objects.filter(client=ehr)
    assert sorted(keys.values_list("ehr_visit_id", flat=True)) == sorted(r["visit_id"] for r in rows)
    assert all(k.visit.source_id == k.ehr_visit_id for k in keys.select_related("visit"))
    assert Visit.objects.get(source_id=rows[0]["visit_id"]).measurements["crp"] != 3.0  # the stored one stands
    assert AuditEvent.objects.filter(action="visit_create").count() == 4
    # The two lines answered with a stored visit are reads of that patient, audited as the door audits them.
    assert AuditEvent.objects.filter(action="patient_read", detail__replay=True).count() == 2


def test_one_patients_visits_spread_over_chunks_build_one_record_as_if_posted_one_by_one(
        tmp_path, ehr_lu, ra_model, monkeypatch):
    ehr, _ = ehr_lu
    monkeypatch.setattr(service, "CHUNK", 3)

    def door_not_expected(job, unit, *, actor):
        raise AssertionError(f"unit {unit.index} went through the one-visit door")

    # Every line here is the set-based path's to store: a fallback would show as a rejected line.
    monkeypatch.setattr(service, "_unit_store", door_not_expected)
    rows = visit_lines(patients=2, visits=4)  # chunks: P-0 ×3 | P-0, P-1 ×2 | P-1 ×2
    etanercept = {"drug": "L04AB01", "start": "2023-01-01", "stop": None, "outcome": "ongoing"}
    rows[0]["therapies"].append(etanercept)
    stop = (TODAY - dt.timedelta(days=10)).isoformat()
    rows[3]["therapies"].append({**etanercept, "stop": stop, "outcome": "secondary_loss_of_response"})
    for row in rows[6:]:
        row["patient"]["birth_year"] = 1970  # the sender corrects P-1's birth year in the third chunk
    path = tmp_path / "spread.ndjson"
    path.write_bytes(ndjson(rows))

    job = _import(path, ehr)

    assert (job.status, job.stored, job.existing, job.rejected) == (ImportStatus.DONE, 8, 0, 0)
    assert Patient.objects.count() == 2 and PatientIdentifier.objects.count() == 2
    assert Diagnosis.objects.count() == 2
    p0 = PatientIdentifier.objects.get(value="P-0").patient
    p1 = PatientIdentifier.objects.get(value="P-1").patient
    assert Visit.objects.filter(patient=p0).count() == 4 and Visit.objects.filter(patient=p1).count() == 4
    line = TherapyExposure.objects.get(patient=p0, drug_atc="L04AB01")
    assert (line.stopped_on.isoformat(), line.outcome) == (stop, "secondary_loss_of_response")
    assert TherapyExposure.objects.filter(patient=p0).count() == 2  # the etanercept line and the old adalimumab one
    p1.refresh_from_db()
    assert p1.birth_year == 1970
    amend = AuditEvent.objects.get(action="patient_amend")
    assert amend.patient_id == p1.pk and amend.detail == {"birth_year": {"from": 1968, "to": 1970}}
    latest = {Visit.objects.filter(patient=p).order_by("-visit_date").first().pk for p in (p0, p1)}
    assert {j.visit_id for j in ScoringJob.objects.all()} == latest
    assert AuditEvent.objects.filter(action="visit_create").count() == 8
    # The same file again: every line found under its key, nothing new.
    path.write_bytes(ndjson(rows) + b"\n")
    job = _import(path, ehr)
    assert (job.stored, job.existing, job.rejected) == (0, 8, 0) and Visit.objects.count() == 8
