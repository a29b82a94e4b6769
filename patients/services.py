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
from patients import dictionary, drugs, scores
from patients.dictionary import DictionaryError, Disease, FieldError
from patients.models import (
    Diagnosis,
    Outcome,
    Patient,
    PatientIdentifier,
    Sex,
    Site,
    TherapyExposure,
    Visit,
    VisitRevision,
    VisitSource,
)

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
class TherapyInput:
    drug: str  # ATC code (current or pre-2024) or INN name
    started_on: dt.date
    stopped_on: dt.date | None = None
    outcome: str = Outcome.ONGOING
    response_at_followup: bool | None = None


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
    if not isinstance(p.birth_year, int) or not 1900 <= p.birth_year <= timezone.localdate().year:
        errors.append(FieldError("patient.birth_year", p.birth_year,
                                 f"must be a year from 1900 to {timezone.localdate().year}"))
    elif visit_date.year < p.birth_year:
        errors.append(FieldError("date", visit_date.isoformat(), f"is before the patient's birth year {p.birth_year}"))
    if p.diagnosed_on and p.diagnosed_on > visit_date:
        errors.append(FieldError("patient.diagnosed_on", p.diagnosed_on.isoformat(), "must not be after the visit date"))


def _check_therapies(therapies: list[TherapyInput], visit_date: dt.date, errors: list[FieldError]) -> list[tuple]:
    resolved = []
    for i, t in enumerate(therapies):
        where = f"therapies[{i}]"
        try:
            drug = drugs.resolve(t.drug)
        except drugs.UnknownDrug:
            errors.append(FieldError(f"{where}.drug", t.drug, "is not an ATC code or name in the drug catalogue "
                                     "(see /api/v1/dictionary/)"))
            continue
        if t.outcome not in Outcome.values:
            errors.append(FieldError(f"{where}.outcome", t.outcome, "must be one of " + ", ".join(Outcome.values)))
        if t.started_on > visit_date:
            errors.append(FieldError(f"{where}.start", t.started_on.isoformat(), "must not be after the visit date"))
        if t.stopped_on is not None and t.stopped_on < t.started_on:
            errors.append(FieldError(f"{where}.stop", t.stopped_on.isoformat(), "must not be before the start"))
        if t.stopped_on is None and t.outcome != Outcome.ONGOING:
            errors.append(FieldError(f"{where}.stop", None, f"is required when the outcome is {t.outcome}"))
        resolved.append((drug, t))
    return resolved


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
    if visit_date > timezone.localdate():
        errors.append(FieldError("date", visit_date.isoformat(), "must not be in the future"))
    try:
        clean = dictionary.clean_measurements(disease, measurements)
    except DictionaryError as exc:
        errors.extend(exc.errors)
        clean = {}
    if patient_input is not None:
        _check_patient(patient_input, visit_date, errors)
    elif patient is not None and visit_date.year < patient.birth_year:
        errors.append(FieldError("date", visit_date.isoformat(), f"is before the patient's birth year {patient.birth_year}"))
    resolved = _check_therapies(list(therapies), visit_date, errors)
    if errors:
        raise DictionaryError(errors)

    derived = scores.derived_scores(clean)
    activity = activity_of(disease, clean, derived)
    with transaction.atomic():
        if patient is None:
            patient = _patient_for(site, patient_input)
        if patient.site_id != site.id:
            raise DictionaryError([FieldError("patient", str(patient.pk), f"belongs to another site than {site.code}")])
        _diagnosis_ensure(patient, disease, visit_date, patient_input)
        for drug, t in resolved:
            TherapyExposure.objects.update_or_create(
                patient=patient, drug_atc=drug.atc, started_on=t.started_on,
                defaults={"stopped_on": t.stopped_on, "outcome": t.outcome,
                          "response_at_followup": t.response_at_followup},
            )
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
        audit_record(actor=actor, action="visit_create", obj=visit, patient_id=patient.pk, site_code=site.code,
                     detail={"source": source})
        _after_visit_stored(visit)
    return visit


def visit_amend(*, visit: Visit, visit_date: dt.date, measurements: dict[str, Any], actor: Actor) -> Visit:
    """Replace a visit's content, keeping the previous content as a revision, and re-score it."""
    errors: list[FieldError] = []
    if visit_date > timezone.localdate():
        errors.append(FieldError("date", visit_date.isoformat(), "must not be in the future"))
    try:
        clean = dictionary.clean_measurements(visit.disease, measurements)
    except DictionaryError as exc:
        errors.extend(exc.errors)
        clean = {}
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
        audit_record(actor=actor, action="visit_amend", obj=visit, patient_id=visit.patient_id,
                     site_code=visit.site.code, detail={"version": visit.version})
        _after_visit_stored(visit)
    return visit


def _patient_for(site: Site, p: PatientInput | None) -> Patient:
    if p is None:
        raise DictionaryError([FieldError("patient", None, "is required")])
    ident = PatientIdentifier.objects.select_related("patient").filter(system=p.system, value=p.value).first()
    if ident is not None:
        return ident.patient
    patient = Patient.objects.create(site=site, sex=p.sex, birth_year=p.birth_year)
    PatientIdentifier.objects.create(patient=patient, system=p.system, value=p.value)
    return patient


def _diagnosis_ensure(patient: Patient, disease: str, visit_date: dt.date, p: PatientInput | None) -> None:
    defaults = {"diagnosed_on": (p.diagnosed_on if p and p.diagnosed_on else visit_date),
                "subtype": p.subtype if p else ""}
    Diagnosis.objects.get_or_create(patient=patient, disease=disease, defaults=defaults)


def _after_visit_stored(visit: Visit) -> None:
    """Tell the layers above, inside the visit's transaction, that it is stored (the scoring app records
    its job here, so the visit and its job commit together or not at all)."""
    visit_stored.send(sender=Visit, visit=visit)
