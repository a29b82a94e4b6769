"""The FHIR door's one service call: a Bundle becomes the JSON door's ehr_visit_ingest, and its answer a Bundle."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from doors.api.errors import Conflict
from doors.api.ingest import Received, ehr_visit_ingest
from doors.fhir.bundle import bundle_read
from doors.fhir.errors import FHIRError, Issue, operation_outcome
from doors.fhir.visit_mapping import MappedVisit, visit_map
from patients.dictionary import DictionaryError, FieldError
from patients.models import EHRClient, Visit, VisitSource
from patients.selectors import patient_for_client


def fhir_bundle_ingest(*, client: EHRClient, raw: Any, actor) -> dict:
    """Store the visit of a transaction or batch Bundle (once per Encounter id) and answer its response Bundle.

    Raises FHIRError (400 structure, 422 dictionary, 409 same visit id with other content); then nothing
    is stored.
    """
    mapped = visit_map(bundle_read(raw), client=client)
    patient = mapped.data["patient"]
    patient_known = bool(
        (patient["id"] and patient_for_client(clients=[client], identifier=(client.identifier_system, patient["id"])))
        or (patient["fhir_id"] and patient_for_client(clients=[client], patient_id=patient["fhir_id"])))
    try:
        with transaction.atomic():
            received = ehr_visit_ingest(client=client, data=mapped.data, actor=actor, source=VisitSource.FHIR)
    except DictionaryError as exc:
        raise FHIRError(422, [_issue_for(mapped, e) for e in exc.errors]) from None
    except Conflict as exc:
        differing = exc.extra.get("differing_fields") or []
        issues = [_issue_for(mapped, FieldError(f, None, "differs from the visit stored for this Encounter"),
                             code="conflict") for f in differing]
        raise FHIRError(409, [Issue("conflict", str(exc.detail), "Bundle.entry")] + issues) from None
    return response_bundle(mapped, received, patient_known=patient_known)


def _issue_for(mapped: MappedVisit, error: FieldError, *, code: str = "value") -> Issue:
    """A visit service error at the entry and element it came from."""
    field = error.field
    while field and field not in mapped.fields:
        field = field.rpartition(".")[0]
    shown = "" if error.value is None else f" ({error.value})"
    if not field:
        return Issue(code, f"{error.field}{shown} {error.message}", "Bundle")
    entry, element = mapped.fields[field]
    return entry.issue(element, f"{error.field}{shown} {error.message}", code=code)


def response_bundle(mapped: MappedVisit, received: Received, *, patient_known: bool) -> dict:
    """The transaction-response (or batch-response): one entry per request entry, in order."""
    visit: Visit = received.key.visit
    status = "201 Created" if received.created else "200 OK"
    entries = []
    by_index = {e.index: e for e in mapped.entries}
    for index in range(mapped.count):
        if index in mapped.rejected:
            issues = mapped.rejected[index]
            unreadable = any(i.code in ("not-supported", "structure", "required", "not-found") for i in issues) \
                and index not in by_index
            entries.append({"response": {"status": "400 Bad Request" if unreadable else "422 Unprocessable Entity",
                                         "outcome": operation_outcome(issues)}})
            continue
        e = by_index[index]
        if index in mapped.notes:
            entries.append({"response": {"status": "200 OK", "outcome": operation_outcome(mapped.notes[index])}})
            continue
        kind, key = mapped.targets.get(e.index, (e.type, ""))
        response: dict = {"status": "200 OK" if kind == "Patient" and patient_known else status}
        location = _location(kind, key, visit)
        if location:
            response["location"] = location
        else:
            # Observations, conditions and therapies become part of the visit and the patient's record: no
            # resource of their own is kept, so no location is given that could not be read.
            what = f"stored in the record of Encounter/{visit.pk}" if key else "recorded as not measured"
            response["outcome"] = operation_outcome([Issue("informational", what, severity="information")])
        entries.append({"response": response})
    return {"resourceType": "Bundle", "type": f"{mapped.kind}-response", "entry": entries}


def _location(kind: str, key: str, visit: Visit) -> str:
    """Where Clinnova keeps what an entry became, when it can be read there (GET [base]/<location>)."""
    if kind == "Patient":
        return f"Patient/{visit.patient_id}"
    if kind == "Encounter":
        return f"Encounter/{visit.pk}"
    return ""
