"""The visit service: the one way every door (API, FHIR, web form, admin, demo) stores a visit."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from clinnova.audit import Actor, audit_event, audit_record
from clinnova.models import AuditEvent
from patients import dictionary, scores
from patients.dates import EARLIEST_YEAR, date_check
from patients.dictionary import DictionaryError, Disease, FieldError
from patients.history import disease_years
from patients.models import (
    Diagnosis,
    Patient,
    PatientIdentifier,
    PatientReference,
    RecordEntry,
    Sex,
    Site,
    TherapyExposure,
    Visit,
    VisitRevision,
    VisitSource,
)
from patients.therapies import TherapyInput, therapies_check, therapy_line_apply, therapy_lines_record
from patients.variables import Persistence

__all__ = ["PatientInput", "TherapyInput", "VisitDraft", "visit_amend", "visit_ingest", "visit_stored",
           "visits_ingest"]

# Sent inside the transaction that stores or amends a visit, with `visit`. The record knows nothing of what
# is built on it; the scoring app above connects its scoring job here (in its AppConfig.ready).
visit_stored = Signal()

# The score that stands for "disease activity" on lists and charts, per disease.
ACTIVITY_SCORES: dict[str, tuple[str, ...]] = {
    Disease.RHEUMATOID_ARTHRITIS: ("das28_esr", "das28_crp", "cdai"),
    Disease.CROHNS_DISEASE: ("hbi",),
    Disease.ULCERATIVE_COLITIS: ("partial_mayo", "full_mayo"),
    Disease.MULTIPLE_SCLEROSIS: ("edss",),
}


@dataclass(frozen=True)
class PatientInput:
    system: str  # with value: the identifier that names the patient; both empty when only references do
    value: str
    sex: str
    birth_year: int
    diagnosed_on: dt.date | None = None
    subtype: str = ""
    # How the sending EHR client names the patient besides (FHIR Patient.id, its other identifiers): each
    # (PatientReference.Kind, system, value), kept for that client and resolved by patients.selectors.
    client_id: int | None = None
    references: tuple[tuple[str, str, str], ...] = ()


def activity_of(disease: str, measurements: dict[str, Any], derived: dict[str, scores.Score]) -> dict | None:
    """The disease's headline activity score: {"name", "label", "value", "category_label"} or None."""
    for name in ACTIVITY_SCORES[disease]:
        if name == "edss" and measurements.get("edss") is not None:
            edss = float(measurements["edss"])
            # Walking-range bands of the EDSS (Kurtzke 1983): 4.0 limited walking, 6.0 needs an aid.
            band = "No or mild disability" if edss < 4 else "Walking limited" if edss < 6 else "Needs walking aid"
            return {"name": "edss", "label": "EDSS", "value": edss, "category_label": band}
        if name in derived:
            s = derived[name]
            return {"name": name, "label": s.label, "value": s.value, "category_label": s.category_label}
    return None


def visit_content_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _check_patient(p: PatientInput, visit_date: dt.date, errors: list[FieldError]) -> None:
    if p.sex not in Sex.values:
        errors.append(FieldError("patient.sex", p.sex, "must be one of " + ", ".join(Sex.values)))
    this_year = timezone.localdate().year
    if not isinstance(p.birth_year, int) or isinstance(p.birth_year, bool) or not EARLIEST_YEAR <= p.birth_year <= this_year:
        errors.append(FieldError("patient.birth_year", p.birth_year, f"must be a year from {EARLIEST_YEAR} to {this_year}"))


def _check_dates(*, visit_date: dt.date, birth_year: int | None, diagnosed_on: dt.date | None,
                 errors: list[FieldError]) -> None:
    date_check("date", visit_date, birth_year=birth_year, errors=errors)
    date_check("patient.diagnosed_on", diagnosed_on, birth_year=birth_year, errors=errors, not_after=visit_date,
               not_after_what="the visit date")


def _check_derived(*, birth_year: int, diagnosed_on: dt.date | None, visit_date: dt.date,
                   errors: list[FieldError]) -> None:
    """Age and disease duration at the visit must fit their dictionary ranges before anything is scored."""
    for name, field, value in (("age", "patient.birth_year", visit_date.year - birth_year),
                               ("disease_duration", "patient.diagnosed_on", disease_years(diagnosed_on, visit_date))):
        var = dictionary.BY_NAME[name]
        if value is not None and not var.minimum <= value <= var.maximum:
            shown = birth_year if name == "age" else diagnosed_on.isoformat()
            errors.append(FieldError(field, shown, f"gives {var.describe(value)} at the visit, outside its range "
                                     f"({var.allowed()})"))


def visit_ingest(
    *,
    site: Site,
    disease: str,
    visit_date: dt.date,
    measurements: dict[str, Any],
    actor: Actor,
    source: str = VisitSource.FORM,
    patient: Patient | None = None,
    patient_input: PatientInput | None = None,
    therapies: list[TherapyInput] = (),
    source_system: str = "",
    source_id: str | None = None,
    visit_id: uuid.UUID | None = None,
) -> Visit:
    """Validate, convert and store one visit with its derived scores, in one transaction.

    Either an existing patient or a PatientInput (found or created by its
    identifier at the site) names whose visit it is. Raises DictionaryError
    listing every problem; then nothing is stored.
    """
    birth_year = patient_input.birth_year if patient_input is not None else patient.birth_year if patient else None
    checked = _visit_check(disease=disease, visit_date=visit_date, measurements=measurements,
                           patient_input=patient_input, birth_year=birth_year, therapies=therapies)
    errors: list[FieldError] = []
    with transaction.atomic():
        if patient is None:
            patient = _patient_for(site, patient_input, actor=actor)
        if patient.site_id != site.id:
            raise DictionaryError([FieldError("patient", str(patient.pk), f"belongs to another site than {site.code}")])
        diagnosis = _diagnosis_ensure(patient, disease, visit_date, patient_input)
        _check_derived(birth_year=patient.birth_year, diagnosed_on=diagnosis.diagnosed_on, visit_date=visit_date,
                       errors=errors)
        if errors:
            raise DictionaryError(errors)
        therapy_lines_record(patient, checked.resolved, source=source)
        visit = _visit_row(checked, patient=patient, site=site, disease=disease, visit_date=visit_date,
                           source=source, source_system=source_system, source_id=source_id,
                           **({"id": visit_id} if visit_id else {}))
        visit.save(force_insert=True)
        RecordEntry.objects.bulk_create(_entries_of(visit, phenotype=_phenotype_from_subtype(disease, patient_input,
                                                                                           checked.clean)))
        audit_record(actor=actor, action="visit_create", obj=visit, patient_id=patient.pk, site_code=site.code,
                     detail={"source": source})
        _after_visit_stored(visit)
    return visit



@dataclass(frozen=True)
class VisitDraft:
    """One visit of a batch for visits_ingest: what visit_ingest takes, and the id the visit will have."""
    disease: str
    visit_date: dt.date
    measurements: dict[str, Any]
    patient_input: PatientInput
    therapies: list[TherapyInput] = field(default_factory=list)
    source_system: str = ""
    source_id: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def visits_ingest(*, site: Site, drafts: list[VisitDraft], actor: Actor,
                  source: str = VisitSource.API) -> list[Visit | DictionaryError]:
    """The set-based sibling of visit_ingest, for a bulk import: the stored Visit or the DictionaryError of
    each draft, in order.

    Each draft passes visit_ingest's checks as if the drafts were stored one after another: a patient
    created by one draft is found by the next, a sender's correction of sex or birth year is applied and
    audited, a diagnosis takes its defaults from the first valid draft, therapy lines are created or
    updated in order. Then the valid drafts are written with one statement per table (patients,
    identifiers, diagnoses, therapy lines, visits, record entries, audit events: one visit_create each).
    Runs in the caller's transaction; a database error (say a patient created meanwhile by another
    request) raises, and the caller rolls the batch back and stores it one visit at a time.
    """
    results: list[Visit | DictionaryError | None] = [None] * len(drafts)
    checked: dict[int, _Checked] = {}
    # A patient named by the sender's references (a FHIR Patient.id, its identifiers) is found or created the way
    # visit_ingest does it, after the set-based writes: those lookups are per client and system.
    by_reference = [i for i, d in enumerate(drafts) if d.patient_input.references]
    for i, d in enumerate(drafts):
        if i in by_reference:
            continue
        try:
            checked[i] = _visit_check(disease=d.disease, visit_date=d.visit_date, measurements=d.measurements,
                                      patient_input=d.patient_input, birth_year=d.patient_input.birth_year,
                                      therapies=d.therapies)
        except DictionaryError as exc:
            results[i] = exc
    patients = _patients_by_identifier({(drafts[i].patient_input.system, drafts[i].patient_input.value)
                                        for i in checked})
    known = [p.pk for p in patients.values()]
    diagnoses = {(dx.patient_id, dx.disease): dx for dx in Diagnosis.objects.filter(patient_id__in=known)}
    # Locked as therapy_lines_record locks them: a visit posted meanwhile waits instead of being overwritten.
    lines = {(t.patient_id, t.drug_atc, t.started_on): t
             for t in TherapyExposure.objects.select_for_update().filter(patient_id__in=known)}
    new_patients, identifiers, amended, new_diagnoses, touched = [], [], {}, [], {}
    visits, entries, events = [], [], []
    for i, c in checked.items():
        d, p = drafts[i], drafts[i].patient_input
        patient = patients.get((p.system, p.value))
        if patient is not None and patient.site_id != site.id:
            results[i] = DictionaryError([FieldError("patient", str(patient.pk),
                                                     f"belongs to another site than {site.code}")])
            continue
        new = patient is None
        if new:
            patient = Patient(site=site, sex=p.sex, birth_year=p.birth_year)
        diagnosis = diagnoses.get((patient.pk, d.disease)) or Diagnosis(
            patient=patient, disease=d.disease, **_diagnosis_defaults(d.visit_date, p))
        errors: list[FieldError] = []
        _check_derived(birth_year=p.birth_year, diagnosed_on=diagnosis.diagnosed_on, visit_date=d.visit_date,
                       errors=errors)
        if errors:
            results[i] = DictionaryError(errors)
            continue
        if new:
            patients[(p.system, p.value)] = patient
            new_patients.append(patient)
            identifiers.append(PatientIdentifier(patient=patient, system=p.system, value=p.value))
        elif changed := _patient_changes(patient, p):
            for name, (_, value) in changed.items():
                setattr(patient, name, value)
            amended[patient.pk] = patient
            events.append(audit_event(actor=actor, action="patient_amend", obj=patient, patient_id=patient.pk,
                                      site_code=site.code,
                                      detail={name: {"from": old, "to": new} for name, (old, new) in changed.items()}))
        if (patient.pk, d.disease) not in diagnoses:
            diagnoses[(patient.pk, d.disease)] = diagnosis
            new_diagnoses.append(diagnosis)
        for drug, t in c.resolved:
            key = (patient.pk, drug.atc, t.started_on)
            line = lines.setdefault(key, TherapyExposure(patient=patient, drug_atc=drug.atc, started_on=t.started_on,
                                                         source=source))
            therapy_line_apply(line, t)
            touched[key] = line
        visit = _visit_row(c, patient=patient, site=site, disease=d.disease, visit_date=d.visit_date, source=source,
                           source_system=d.source_system, source_id=d.source_id, id=d.id)
        visits.append(visit)
        entries += _entries_of(visit, phenotype=_phenotype_from_subtype(d.disease, p, c.clean))
        events.append(audit_event(actor=actor, action="visit_create", obj=visit, patient_id=patient.pk,
                                  site_code=site.code, detail={"source": source}))
        results[i] = visit
    Patient.objects.bulk_create(new_patients)
    PatientIdentifier.objects.bulk_create(identifiers)
    Patient.objects.bulk_update(amended.values(), ["sex", "birth_year"])
    Diagnosis.objects.bulk_create(new_diagnoses)
    TherapyExposure.objects.bulk_create([t for t in touched.values() if t.pk is None])
    TherapyExposure.objects.bulk_update([t for t in touched.values() if t.pk is not None],
                                        ["stopped_on", "outcome", "stop_detail", "dose", "response_at_followup"])
    Visit.objects.bulk_create(visits)
    RecordEntry.objects.bulk_create(entries)
    AuditEvent.objects.bulk_create(events)
    for visit in visits:
        _after_visit_stored(visit)
    for i in by_reference:
        d = drafts[i]
        try:
            results[i] = visit_ingest(site=site, disease=d.disease, visit_date=d.visit_date,
                                      measurements=d.measurements, actor=actor, source=source,
                                      patient_input=d.patient_input, therapies=d.therapies,
                                      source_system=d.source_system, source_id=d.source_id, visit_id=d.id)
        except DictionaryError as exc:
            results[i] = exc
    return results


def _patients_by_identifier(keys: set[tuple[str, str]]) -> dict[tuple[str, str], Patient]:
    by_system: dict[str, list[str]] = {}
    for system, value in keys:
        by_system.setdefault(system, []).append(value)
    return {(i.system, i.value): i.patient for system, values in by_system.items()
            for i in PatientIdentifier.objects.select_related("patient").filter(system=system, value__in=values)}

@dataclass(frozen=True)
class _Checked:
    """A visit's content after the checks that need no database: cleaned, scored, its drugs resolved."""
    clean: dict[str, Any]
    derived: dict[str, scores.Score]
    activity: dict | None
    resolved: list


def _visit_check(*, disease: str, visit_date: dt.date, measurements: dict[str, Any],
                 patient_input: PatientInput | None, birth_year: int | None, therapies) -> _Checked:
    """Every check of a visit that reads no row; DictionaryError lists every problem."""
    errors: list[FieldError] = []
    if disease not in Disease.values:
        raise DictionaryError([FieldError("disease", disease, "must be one of " + ", ".join(Disease.values))])
    try:
        clean = dictionary.clean_measurements(disease, measurements)
    except DictionaryError as exc:
        errors.extend(exc.errors)
        clean = {}
    if patient_input is not None:
        _check_patient(patient_input, visit_date, errors)
    diagnosed_on = patient_input.diagnosed_on if patient_input is not None else None
    _check_dates(visit_date=visit_date, birth_year=birth_year, diagnosed_on=diagnosed_on, errors=errors)
    resolved = therapies_check(list(therapies), on=visit_date, birth_year=birth_year, errors=errors)
    if errors:
        raise DictionaryError(errors)
    derived = scores.derived_scores(clean)
    return _Checked(clean, derived, activity_of(disease, clean, derived), resolved)


def _visit_row(checked: _Checked, *, patient: Patient, site: Site, disease: str, visit_date: dt.date, source: str,
               source_system: str, source_id: str | None, **fields) -> Visit:
    activity = checked.activity
    return Visit(
        patient=patient, site=site, disease=disease, visit_date=visit_date, measurements=checked.clean,
        scores={name: s.as_dict() for name, s in checked.derived.items()},
        activity_score=activity["value"] if activity else None,
        activity_label=activity["label"] if activity else "",
        activity_category=activity["category_label"] if activity else "",
        source=source, source_system=source_system, source_id=source_id,
        content_hash=visit_content_hash({"disease": disease, "date": visit_date, "measurements": checked.clean}),
        **fields,
    )


def visit_amend(*, visit: Visit, visit_date: dt.date, measurements: dict[str, Any], actor: Actor) -> Visit:
    """Replace a visit's content, keeping the previous content as a revision, and re-score it.

    The amendment passes the same checks as a new visit, and the facts and conditions the visit recorded
    are recorded again from its new content.
    """
    errors: list[FieldError] = []
    try:
        clean = dictionary.clean_measurements(visit.disease, measurements)
    except DictionaryError as exc:
        errors.extend(exc.errors)
        clean = {}
    patient = visit.patient
    diagnosis = patient.diagnoses.filter(disease=visit.disease).first()
    _check_dates(visit_date=visit_date, birth_year=patient.birth_year, diagnosed_on=None, errors=errors)
    if not errors:
        _check_derived(birth_year=patient.birth_year, diagnosed_on=diagnosis.diagnosed_on if diagnosis else None,
                       visit_date=visit_date, errors=errors)
    if errors:
        raise DictionaryError(errors)
    derived = scores.derived_scores(clean)
    activity = activity_of(visit.disease, clean, derived)
    with transaction.atomic():
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        VisitRevision.objects.create(
            visit=visit, version=visit.version, visit_date=visit.visit_date, measurements=visit.measurements,
            scores=visit.scores, content_hash=visit.content_hash, replaced_by=str(actor),
        )
        visit.visit_date = visit_date
        visit.measurements = clean
        visit.scores = {name: s.as_dict() for name, s in derived.items()}
        visit.activity_score = activity["value"] if activity else None
        visit.activity_label = activity["label"] if activity else ""
        visit.activity_category = activity["category_label"] if activity else ""
        visit.content_hash = visit_content_hash({"disease": visit.disease, "date": visit_date, "measurements": clean})
        visit.version += 1
        visit.updated_at = timezone.now()
        visit.save(update_fields=["visit_date", "measurements", "scores", "activity_score", "activity_label",
                                  "activity_category", "content_hash", "version", "updated_at"])
        visit.entries.all().delete()
        _entries_record(visit)
        audit_record(actor=actor, action="visit_amend", obj=visit, patient_id=visit.patient_id,
                     site_code=visit.site.code, detail={"version": visit.version})
        _after_visit_stored(visit)
    return visit


def _entries_record(visit: Visit, *, phenotype: dict[str, Any] | None = None) -> None:
    """The visit's facts and conditions as dated entries of the patient's record (see patients.state)."""
    RecordEntry.objects.bulk_create(_entries_of(visit, phenotype=phenotype))


def _entries_of(visit: Visit, *, phenotype: dict[str, Any] | None = None) -> list[RecordEntry]:
    values = {**(phenotype or {}), **visit.measurements}
    return [
        RecordEntry(patient_id=visit.patient_id, variable=name, value=value, effective_on=visit.visit_date,
                    source=visit.source, visit=visit, source_ref=visit.source_id or "")
        for name, value in values.items()
        if dictionary.BY_NAME[name].persistence in (Persistence.FACT, Persistence.CONDITION)
    ]


def _phenotype_from_subtype(disease: str, p: PatientInput | None, clean: dict[str, Any]) -> dict[str, Any]:
    """An MS course named by the sender's diagnosis (e.g. a SNOMED CT RRMS code) is the MS course fact too,
    unless the visit's measurements say otherwise: the header and the rules then read the same course."""
    course = dictionary.BY_NAME["ms_course"]
    if disease == Disease.MULTIPLE_SCLEROSIS and p and p.subtype in course.code_values and "ms_course" not in clean:
        return {"ms_course": p.subtype}
    return {}


def _patient_for(site: Site, p: PatientInput | None, *, actor: Actor) -> Patient:
    if p is None or not (p.value or p.references):
        raise DictionaryError([FieldError("patient", None, "is required")])
    patient = None
    if p.value:
        ident = PatientIdentifier.objects.select_related("patient").filter(system=p.system, value=p.value).first()
        patient = ident.patient if ident is not None else None
    known = _references_known(p)
    named = {ref.patient_id for ref in known}
    if patient is not None:
        named.add(patient.pk)
    if len(named) > 1:
        # The sender's names disagree about who this is: storing the visit on either patient could be wrong.
        shown = ", ".join(str(ref) for ref in known)
        raise DictionaryError([FieldError("patient.id", p.value or shown, f"names another patient than {shown} "
                                          "did before: the patient's ids disagree")])
    if patient is None and known:
        patient = known[0].patient
    if patient is None:
        patient = Patient.objects.create(site=site, sex=p.sex, birth_year=p.birth_year)
        if p.value:
            PatientIdentifier.objects.create(patient=patient, system=p.system, value=p.value)
        _references_record(patient, p, known)
        return patient
    _references_record(patient, p, known)
    changed = _patient_changes(patient, p)
    if changed:
        # A correction from the sender is applied, never silently: the audit trail keeps the old value.
        for name, (_, value) in changed.items():
            setattr(patient, name, value)
        patient.save(update_fields=list(changed))
        audit_record(actor=actor, action="patient_amend", obj=patient, patient_id=patient.pk, site_code=site.code,
                     detail={name: {"from": old, "to": new} for name, (old, new) in changed.items()})
    return patient


def _references_known(p: PatientInput) -> list[PatientReference]:
    """The stored references of the sending client that the input repeats."""
    if not p.references or p.client_id is None:
        return []
    match = Q()
    for kind, system, value in p.references:
        match |= Q(kind=kind, system=system, value=value)
    return list(PatientReference.objects.select_related("patient").filter(match, client_id=p.client_id))


def _references_record(patient: Patient, p: PatientInput, known: list[PatientReference]) -> None:
    """Keep the client's new names of the patient (a race with another request raises IntegrityError: the unique
    constraint, not this check, is what guarantees one patient per name)."""
    if p.client_id is None:
        return
    stored = {(ref.kind, ref.system, ref.value) for ref in known}
    PatientReference.objects.bulk_create([
        PatientReference(patient=patient, client_id=p.client_id, kind=kind, system=system, value=value)
        for kind, system, value in dict.fromkeys(p.references) if (kind, system, value) not in stored])


def _patient_changes(patient: Patient, p: PatientInput) -> dict[str, tuple[Any, Any]]:
    """What the sender's patient data corrects: {field: (stored, sent)}."""
    return {name: (getattr(patient, name), value) for name, value in (("sex", p.sex), ("birth_year", p.birth_year))
            if getattr(patient, name) != value}


def _diagnosis_ensure(patient: Patient, disease: str, visit_date: dt.date, p: PatientInput | None) -> Diagnosis:
    return Diagnosis.objects.get_or_create(patient=patient, disease=disease,
                                           defaults=_diagnosis_defaults(visit_date, p))[0]


def _diagnosis_defaults(visit_date: dt.date, p: PatientInput | None) -> dict[str, Any]:
    return {"diagnosed_on": (p.diagnosed_on if p and p.diagnosed_on else visit_date), "subtype": p.subtype if p else ""}


def _after_visit_stored(visit: Visit) -> None:
    """Tell the layers above, inside the visit's transaction, that it is stored (the scoring app records
    its job here, so the visit and its job commit together or not at all)."""
    visit_stored.send(sender=Visit, visit=visit)
