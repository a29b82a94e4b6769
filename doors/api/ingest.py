"""The EHR JSON door: a validated request becomes one visit_ingest call, exactly once per EHR visit id.

Each EHR visit id claims an IngestKey row first (INSERT ... ON CONFLICT DO
NOTHING), in the same transaction as the visit. Of a dozen identical posts
arriving at once, one inserts the key and stores the visit; the others wait
on the unique index, find the key and compare content. A failed request
rolls back its key with everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction

from clinnova.audit import audit_record
from doors.api.errors import Conflict
from patients import dictionary, drugs
from patients.dictionary import DictionaryError, FieldError
from patients.models import EHRClient, IngestKey, PatientReference, Visit, VisitSource
from patients.services import PatientInput, TherapyInput, VisitDraft, visit_amend, visit_content_hash, visit_ingest
from recommendations.selectors import PENDING, recommendation_status


@dataclass(frozen=True)
class Received:
    key: IngestKey
    created: bool


def ehr_visit_ingest(*, client: EHRClient, data: dict, actor, source: str = VisitSource.API) -> Received:
    """Store the visit of a validated VisitIn payload, or find the one stored for the same visit id.

    Raises DictionaryError (nothing stored) or Conflict when the visit id was
    already used for different content.
    """
    payload = normalised(data)
    digest = visit_content_hash(payload)
    draft = visit_draft(client=client, data=data, payload=payload)
    # The key names the visit it will have (the foreign key is checked at commit), as the bulk import's keys
    # do: no UPDATE of the key once the visit is stored, and no read of it back.
    key = IngestKey(client=client, ehr_visit_id=data["visit_id"], content_hash=digest, payload=payload,
                    visit_id=draft.id)
    try:
        with transaction.atomic():
            claimed = keys_claim([key])
            if claimed:
                key.pk = claimed[0][0]
                key.visit = visit_ingest(
                    site=client.site, disease=draft.disease, visit_date=draft.visit_date,
                    measurements=draft.measurements, actor=actor, source=source, patient_input=draft.patient_input,
                    therapies=draft.therapies, source_system=draft.source_system, source_id=draft.source_id,
                    visit_id=draft.id,
                )
                return Received(key, created=True)
    except IntegrityError:
        # Two different visit ids of one new patient raced to create the patient: the other won.
        raise Conflict("Another request for the same patient was stored at the same moment; send this one again.",
                       code="concurrent_write") from None
    key = IngestKey.objects.select_related("visit").get(client=client, ehr_visit_id=data["visit_id"])
    same_content_check(key, payload, digest)
    # A replay is answered with the stored visit and its patient: a read, audited like one.
    audit_record(actor=actor, action="patient_read", obj=key.visit, patient_id=key.visit.patient_id,
                 site_code=client.site.code, detail={"via": source, "replay": True})
    return Received(key, created=False)


def ehr_visit_amend(*, client: EHRClient, visit_id: str, data: dict, actor) -> IngestKey | None:
    """Replace the date and measurements of a visit this client sent (the old content stays as a revision).

    None when the client never sent that visit id. Sending the current content again changes nothing.
    """
    with transaction.atomic():
        key = (IngestKey.objects.select_for_update(of=("self",)).select_related("visit")
               .filter(client=client, ehr_visit_id=visit_id).first())
        if key is None:
            return None
        payload = {**key.payload, **normalised({**data, "disease": key.visit.disease}, amend=True)}
        digest = visit_content_hash(payload)
        if digest != key.content_hash:
            key.visit = visit_amend(visit=key.visit, visit_date=data["date"], measurements=_merged(payload),
                                    actor=actor)
            key.content_hash, key.payload = digest, payload
            key.save(update_fields=["content_hash", "payload"])
    return key


def normalised(data: dict, *, amend: bool = False) -> dict[str, Any]:
    """The request's content as stored: units converted, drugs resolved, dates as ISO strings.

    Two requests with the same normalised content are the same visit ("2.4 mg/dL" is "24 mg/L").
    """
    errors: list[FieldError] = []
    measurements = _cleaned(data["disease"], data["measurements"], "measurements", errors)
    comorbidities = _cleaned(data["disease"], data["comorbidities"], "comorbidities", errors)
    for name in comorbidities:
        var = dictionary.BY_NAME[name]
        if var.group != "safety":
            errors.append(FieldError(f"comorbidities.{name}", data["comorbidities"][name],
                                     "is not a comorbidity (a dictionary variable of group 'safety'); "
                                     "send it in measurements"))
        elif name in measurements:
            errors.append(FieldError(f"comorbidities.{name}", data["comorbidities"][name],
                                     "is also given in measurements; send it once"))
    content: dict[str, Any] = {"date": data["date"].isoformat(), "measurements": measurements,
                               "comorbidities": comorbidities}
    if not amend:
        content.update(disease=data["disease"], patient=_patient_content(data["patient"]),
                       therapies=[_therapy_content(i, t, errors) for i, t in enumerate(data["therapies"])])
    if errors:
        raise DictionaryError(errors)
    return content


def _cleaned(disease: str, raw: dict, prefix: str, errors: list[FieldError]) -> dict[str, Any]:
    try:
        clean = dictionary.clean_measurements(disease, raw, prefix=prefix)
    except DictionaryError as exc:
        errors.extend(exc.errors)
        return {}
    # 24 and 24.0 mg/L are one content, but not one hash: quantities are floats.
    return {name: float(value) if dictionary.BY_NAME[name].kind == dictionary.Kind.QUANTITY else value
            for name, value in clean.items()}


def _patient_content(p: dict) -> dict[str, Any]:
    diagnosed_on = p.get("diagnosed_on")
    content = {"id": p["id"], "sex": p["sex"], "birth_year": p["birth_year"],
               "diagnosed_on": diagnosed_on.isoformat() if diagnosed_on else None}
    if p.get("fhir_id"):
        # Only the FHIR door sends it; left out otherwise so stored JSON-door hashes stay what they were.
        content["fhir_id"] = p["fhir_id"]
    return content


def _therapy_content(i: int, t: dict, errors: list[FieldError]) -> dict[str, Any]:
    try:
        atc = drugs.resolve(t["drug"]).atc
    except drugs.UnknownDrug:
        errors.append(FieldError(f"therapies[{i}].drug", t["drug"],
                                 "is not an ATC code or name in the drug catalogue (see /api/v1/dictionary/)"))
        atc = t["drug"]
    return {"drug": atc, "start": t["start"].isoformat(), "stop": t["stop"].isoformat() if t["stop"] else None,
            "outcome": t["outcome"], "stop_detail": t["stop_detail"], "dose": t["dose"],
            "response_at_followup": t["response_at_followup"]}


def _merged(payload: dict) -> dict[str, Any]:
    return {**payload["measurements"], **payload["comorbidities"]}


def _patient_input(client: EHRClient, p: dict) -> PatientInput:
    """The patient as the visit service takes it: named by the client's own id and, from the FHIR door, by the
    EHR's Patient.id and its other identifiers too (each kept for this client, see patients.selectors)."""
    references = [(PatientReference.Kind.FHIR_ID, "", p["fhir_id"])] if p.get("fhir_id") else []
    references += [(PatientReference.Kind.IDENTIFIER, system, value) for system, value in p.get("identifiers", ())]
    return PatientInput(system=client.identifier_system if p["id"] else "", value=p["id"] or "", sex=p["sex"],
                        birth_year=p["birth_year"], diagnosed_on=p.get("diagnosed_on"), subtype=p.get("subtype", ""),
                        client_id=client.pk, references=tuple(references))


def _therapy_input(t: dict) -> TherapyInput:
    return TherapyInput(drug=t["drug"], started_on=t["start"], stopped_on=t["stop"], outcome=t["outcome"],
                        response_at_followup=t["response_at_followup"], stop_detail=t["stop_detail"], dose=t["dose"])


def keys_claim(keys: list[IngestKey]) -> list[tuple[int, str]]:
    """Insert the keys whose client has not used their visit id; (id, visit id) of each one inserted.

    Raw SQL because only INSERT ... ON CONFLICT DO NOTHING RETURNING says which rows this request
    inserted (PostgreSQL; SQLite 3.35+), and it waits for a concurrent inserter to finish. A bulk import
    claims a chunk's keys with one statement, each with the id its visit will have.
    """
    if not keys:
        return []
    meta = IngestKey._meta
    fields = [meta.get_field(name) for name in ("client", "ehr_visit_id", "content_hash", "payload", "created_at",
                                                 "visit")]
    qn = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * len(keys))} "
        f"ON CONFLICT ({qn(fields[0].column)}, {qn(fields[1].column)}) DO NOTHING "
        f"RETURNING {qn(meta.pk.column)}, {qn(fields[1].column)}"
    )
    values = [f.get_db_prep_save(getattr(key, f.attname), connection) for key in keys for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return [(pk, visit_id) for pk, visit_id in cursor.fetchall()]


def visit_draft(*, client: EHRClient, data: dict, payload: dict) -> VisitDraft:
    """The visit service's input for a validated request and its normalised content, as visit_ingest gets it."""
    return VisitDraft(disease=data["disease"], visit_date=data["date"], measurements=_merged(payload),
                      patient_input=_patient_input(client, data["patient"]),
                      therapies=[_therapy_input(t) for t in data["therapies"]],
                      source_system=client.identifier_system, source_id=data["visit_id"])


def same_content_check(key: IngestKey, payload: dict, digest: str) -> None:
    if digest == key.content_hash:
        return
    differing = _differing_fields(key.payload, payload)
    raise Conflict(
        f"Visit id {key.ehr_visit_id!r} was already stored with different content ({', '.join(differing)}). "
        f"Use PUT /api/v1/visits/{key.ehr_visit_id} to amend it.",
        differing_fields=differing,
    )


def _differing_fields(old: dict, new: dict) -> list[str]:
    """Top-level fields that differ, and inside patient, measurements and comorbidities the names that do."""
    fields = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if isinstance(before, dict) and isinstance(after, dict):
            names = sorted(before.keys() | after.keys())
            fields += [f"{name}.{sub}" for sub in names if before.get(sub) != after.get(sub)]
        elif before != after:
            fields.append(name)
    return fields


def visit_body(key: IngestKey, *, created: bool = False) -> dict[str, Any]:
    """What POST answers for a visit, the first time and every time after.

    A visit stored by this request has just had its job queued: its recommendation is pending, which needs no
    read (the recommendation's URL says when it is ready). A replay or an amendment reads the status.
    """
    visit: Visit = key.visit
    return {
        "visit_id": key.ehr_visit_id,
        "visit": str(visit.pk),
        "patient": str(visit.patient_id),
        "recommendation": {"url": f"/api/v1/visits/{visit.pk}/recommendation/",
                           "status": PENDING if created else recommendation_status(visit)},
    }
