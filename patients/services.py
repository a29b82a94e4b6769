"""The visit service: the one way every door (API, FHIR, web form, admin, demo) stores a visit."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from patients import dictionary, scores
from patients.dates import EARLIEST_YEAR, date_check
from patients.dictionary import DictionaryError, Disease, FieldError
from patients.history import disease_years
from patients.models import (
    Diagnosis,
    Patient,
    PatientIdentifier,
    RecordEntry,
    Sex,
    Site,
    Visit,
    VisitRevision,
    VisitSource,
)
from patients.therapies import TherapyInput, therapies_check, therapy_lines_record
from patients.variables import Persistence

__all__ = ["PatientInput", "TherapyInput", "visit_amend", "visit_ingest", "visit_stored"]

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
    system: str
    value: str
    sex: str
    birth_year: int
    diagnosed_on: dt.date | None = None
    subtype: str = ""


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
) -> Visit:
    """Validate, convert and store one visit with its derived scores, in one transaction.

    Either an existing patient or a PatientInput (found or created by its
    identifier at the site) names whose visit it is. Raises DictionaryError
    listing every problem; then nothing is stored.
    """
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
    birth_year = patient_input.birth_year if patient_input is not None else patient.birth_year if patient else None
    diagnosed_on = patient_input.diagnosed_on if patient_input is not None else None
    _check_dates(visit_date=visit_date, birth_year=birth_year, diagnosed_on=diagnosed_on, errors=errors)
    resolved = therapies_check(list(therapies), on=visit_date, birth_year=birth_year, errors=errors)
    if errors:
        raise DictionaryError(errors)

    derived = scores.derived_scores(clean)
    activity = activity_of(disease, clean, derived)
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
        therapy_lines_record(patient, resolved, source=source)
        visit = Visit.objects.create(
            patient=patient,
            site=site,
            disease=disease,
            visit_date=visit_date,
            measurements=clean,
            scores={name: s.as_dict() for name, s in derived.items()},
            activity_score=activity["value"] if activity else None,
            activity_label=activity["label"] if activity else "",
            activity_category=activity["category_label"] if activity else "",
            source=source,
            source_system=source_system,
            source_id=source_id,
            content_hash=visit_content_hash({"disease": disease, "date": visit_date, "measurements": clean}),
        )
        _entries_record(visit, phenotype=_phenotype_from_subtype(disease, patient_input, clean))
        audit_record(actor=actor, action="visit_create", obj=visit, patient_id=patient.pk, site_code=site.code,
                     detail={"source": source})
        _after_visit_stored(visit)
    return visit


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
    values = {**(phenotype or {}), **visit.measurements}
    RecordEntry.objects.bulk_create([
        RecordEntry(patient_id=visit.patient_id, variable=name, value=value, effective_on=visit.visit_date,
                    source=visit.source, visit=visit, source_ref=visit.source_id or "")
        for name, value in values.items()
        if dictionary.BY_NAME[name].persistence in (Persistence.FACT, Persistence.CONDITION)
    ])


def _phenotype_from_subtype(disease: str, p: PatientInput | None, clean: dict[str, Any]) -> dict[str, Any]:
    """An MS course named by the sender's diagnosis (e.g. a SNOMED CT RRMS code) is the MS course fact too,
    unless the visit's measurements say otherwise: the header and the rules then read the same course."""
    course = dictionary.BY_NAME["ms_course"]
    if disease == Disease.MULTIPLE_SCLEROSIS and p and p.subtype in course.code_values and "ms_course" not in clean:
        return {"ms_course": p.subtype}
    return {}


def _patient_for(site: Site, p: PatientInput | None, *, actor: Actor) -> Patient:
    if p is None:
        raise DictionaryError([FieldError("patient", None, "is required")])
    ident = PatientIdentifier.objects.select_related("patient").filter(system=p.system, value=p.value).first()
    if ident is None:
        patient = Patient.objects.create(site=site, sex=p.sex, birth_year=p.birth_year)
        PatientIdentifier.objects.create(patient=patient, system=p.system, value=p.value)
        return patient
    patient = ident.patient
    changed = {name: (getattr(patient, name), value) for name, value in (("sex", p.sex), ("birth_year", p.birth_year))
               if getattr(patient, name) != value}
    if changed:
        # A correction from the sender is applied, never silently: the audit trail keeps the old value.
        for name, (_, value) in changed.items():
            setattr(patient, name, value)
        patient.save(update_fields=list(changed))
        audit_record(actor=actor, action="patient_amend", obj=patient, patient_id=patient.pk, site_code=site.code,
                     detail={name: {"from": old, "to": new} for name, (old, new) in changed.items()})
    return patient


def _diagnosis_ensure(patient: Patient, disease: str, visit_date: dt.date, p: PatientInput | None) -> Diagnosis:
    defaults = {"diagnosed_on": (p.diagnosed_on if p and p.diagnosed_on else visit_date),
                "subtype": p.subtype if p else ""}
    return Diagnosis.objects.get_or_create(patient=patient, disease=disease, defaults=defaults)[0]


def _after_visit_stored(visit: Visit) -> None:
    """Tell the layers above, inside the visit's transaction, that it is stored (the scoring app records
    its job here, so the visit and its job commit together or not at all)."""
    visit_stored.send(sender=Visit, visit=visit)
