"""A read Bundle → the visit the JSON API would receive (the VisitIn shape), through the data dictionary.

Every code is looked up in the dictionary or the drug catalogue; every value is cleaned by the dictionary
here, one entry at a time, so a problem is reported at its entry and element (HTTP 422) instead of
only as "measurements.crp". The visit service checks everything again when it stores the visit.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from doors.fhir import codes
from doors.fhir.bundle import REFERENCES, Entry, ReadBundle
from doors.fhir.errors import FHIRError, Issue
from doors.fhir.observations import MappingError, date_of, effective_date, observation_read, variable_of
from patients import dictionary, drugs
from patients.dictionary import DISEASE_CODES, DictionaryError, Kind
from patients.diseases import SNOMED_DISEASE, disease_of_icd10
from patients.models import EHRClient, Outcome, Sex

# Observations are stored on their visit; one dated further than this from its encounter describes another visit
# and is refused rather than silently moved onto this one (labs are drawn days to weeks around a visit).
OBSERVATION_WINDOW_DAYS = 30
# A stop without a coded reason says the reason was not recorded: "completed" is not a claim of why.
THERAPY_STATUS = {"active": Outcome.ONGOING, "completed": Outcome.NOT_RECORDED, "stopped": Outcome.NOT_RECORDED,
                  "on-hold": Outcome.NOT_RECORDED}


@dataclass
class MappedVisit:
    kind: str
    data: dict  # the VisitIn shape ehr_visit_ingest takes
    entries: list[Entry]
    # What each used entry became, for its response location: ("Observation", "crp"), ("Patient", "") ...
    targets: dict[int, tuple[str, str]] = field(default_factory=dict)
    # Batch entries that could not be used, with their issues (a transaction never has any).
    rejected: dict[int, list[Issue]] = field(default_factory=dict)
    # Service field paths ("measurements.crp", "therapies[0].start") → entry and element, for late errors.
    fields: dict[str, tuple[Entry, str]] = field(default_factory=dict)
    # Entries accepted but not used, with why (an unknown medication): answered 200 with an informational outcome.
    notes: dict[int, list[Issue]] = field(default_factory=dict)
    count: int = 0  # entries in the request


class _Collector:
    """Issues sorted into those that fail the whole Bundle and those a batch answers per entry."""

    def __init__(self, *, transaction: bool = False) -> None:
        self.transaction = transaction
        self.fatal: list[Issue] = []
        self.per_entry: dict[int, list[Issue]] = {}
        self.notes: dict[int, list[Issue]] = {}

    def entry_noted(self, entry: Entry, message: str) -> None:
        self.notes.setdefault(entry.index, []).append(Issue("informational", message, entry.path(),
                                                            entry.label, severity="information"))

    def entry_fails(self, entry: Entry, issue: Issue) -> None:
        self.per_entry.setdefault(entry.index, []).append(issue)

    def entry_unused(self, entry: Entry, issue: Issue) -> None:
        """Data Clinnova does not use (a code outside the data dictionary, a variable not recorded for this
        disease): acknowledged in a transaction, as a type it keeps no record of is; a batch answers it 422."""
        if self.transaction:
            self.notes.setdefault(entry.index, []).append(Issue("informational", f"not stored: {issue.diagnostics}",
                                                                issue.expression, issue.entry, severity="information"))
        else:
            self.entry_fails(entry, issue)


def visit_map(bundle: ReadBundle, *, client: EHRClient) -> MappedVisit:
    """The visit a Bundle describes, or FHIRError(422) listing every entry and element at fault."""
    out = _Collector(transaction=bundle.kind == "transaction")
    [patient_entry] = bundle.of_type("Patient")
    [encounter_entry] = bundle.of_type("Encounter")
    mapped = MappedVisit(kind=bundle.kind, data={}, entries=bundle.entries)
    patient = _patient_map(patient_entry, client, out)
    visit_id, visit_date = _encounter_map(encounter_entry, out)
    disease, diagnosed_on, comorbidities = _conditions_map(bundle.of_type("Condition"), mapped, out)
    measurements: dict[str, Any] = {}
    _observations_map(bundle.of_type("Observation"), disease, mapped, measurements, comorbidities, out,
                      visit_date=visit_date)
    therapies = _medications_map(bundle.of_type("MedicationStatement") + bundle.of_type("MedicationRequest"),
                                 mapped, out, disease=disease, visit_date=visit_date, measurements=measurements)

    if out.fatal or (bundle.kind == "transaction" and out.per_entry):
        rejected = [i for index in sorted(out.per_entry) for i in out.per_entry[index]]
        # Conditions acknowledged as not used explain a missing disease ("this coding is not one we read").
        unused = [i for e in bundle.of_type("Condition") for i in out.notes.get(e.index, [])]
        raise FHIRError(422, out.fatal + rejected + unused)
    mapped.rejected = {**bundle.rejected, **out.per_entry}
    mapped.count = bundle.count
    mapped.notes = {**bundle.acknowledged, **out.notes}
    for index in out.per_entry:
        mapped.targets.pop(index, None)
    mapped.targets[patient_entry.index] = ("Patient", "")
    mapped.targets[encounter_entry.index] = ("Encounter", "")
    mapped.fields.update({"patient": (patient_entry, ""), "patient.sex": (patient_entry, "gender"),
                          "patient.birth_year": (patient_entry, "birthDate"), "date": (encounter_entry, "period.start"),
                          "visit_id": (encounter_entry, "id")})
    mapped.data = {
        "visit_id": visit_id,
        "patient": {**patient, "diagnosed_on": diagnosed_on,
                    "subtype": _ms_course_of(bundle.of_type("Condition")) if disease == "multiple_sclerosis" else ""},
        "disease": disease,
        "date": visit_date,
        "measurements": measurements,
        "comorbidities": comorbidities,
        "therapies": therapies,
    }
    return mapped


# FHIR R4 id datatype: 1 to 64 of A-Z a-z 0-9 - and . (datatypes.html#id).
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def _patient_map(entry: Entry, client: EHRClient, out: _Collector) -> dict:
    """The patient as the EHR names it: the client's own identifier (if sent), the EHR's Patient.id and every other
    identifier, each kept for this client and system (CDS Hooks' context.patientId is the Patient.id)."""
    r = entry.resource
    ids = [i.get("value") for i in r.get("identifier") or [] if i.get("system") == client.identifier_system]
    ident = next((v for v in ids if v), None)
    fhir_id = _patient_id_of(entry)
    if ident is None and fhir_id is None:
        out.fatal.append(entry.issue("id", "the Patient needs its id (the EHR's Patient.id, as CDS Hooks sends it in "
                                     f"context.patientId) or an identifier with system {client.identifier_system} "
                                     "(this EHR client's identifier system): it names the patient in Clinnova",
                                     code="required"))
    elif ident is not None and (len(ident) > 100 or "\x00" in ident):
        out.fatal.append(entry.issue("identifier", "the identifier value must be at most 100 characters, "
                                     "without NUL"))
    others = []
    for k, i in enumerate(r.get("identifier") or []):
        system, value = i.get("system"), i.get("value")
        if system == client.identifier_system or not isinstance(system, str) or not isinstance(value, str):
            continue  # an identifier without a system names nobody: the same value means another patient elsewhere
        if _personal(i):
            continue  # Clinnova keeps pseudonymous ids only: a social security, passport or licence number is not one
        if not 0 < len(value) <= 100 or len(system) > 200 or "\x00" in system + value:
            out.fatal.append(entry.issue(f"identifier[{k}]", "an identifier's system must be at most 200 and its "
                                         "value 1 to 100 characters, without NUL"))
            continue
        others.append((system, value))
    sex = r.get("gender")
    if sex not in Sex.values:
        out.fatal.append(entry.issue("gender", f"gender {sex!r} must be one of {', '.join(Sex.values)}",
                                     code="required" if sex is None else "value"))
    birth = r.get("birthDate")
    birth_year = int(birth[:4]) if isinstance(birth, str) and birth[:4].isdigit() else None
    if isinstance(birth, dt.date):
        birth_year = birth.year
    if birth_year is None:
        out.fatal.append(entry.issue("birthDate", "the birth year is required (birthDate, a year is enough)",
                                     code="required"))
    return {"id": ident, "fhir_id": fhir_id, "identifiers": list(dict.fromkeys(others)), "sex": sex,
            "birth_year": birth_year}


# Identifiers that name the person outside the hospital (HL7 v2 table 0203 types; the US SSN and German health
# insurance number systems, which senders also use without a type): never stored.
PERSONAL_TYPES = frozenset({"SS", "DL", "PPN", "SB", "NI", "NH", "NNxxx", "TAX", "CZ", "PEN", "MA", "MC", "DR"})
PERSONAL_SYSTEMS = frozenset({"http://hl7.org/fhir/sid/us-ssn", "urn:oid:2.16.840.1.113883.4.1",
                              "http://fhir.de/sid/gkv/kvid-10", "http://fhir.de/sid/pkv/kvid-10",
                              "http://fhir.de/sid/gkv/kvk-versichertennummer"})


def _personal(identifier: dict) -> bool:
    types = ((identifier.get("type") or {}).get("coding") or []) if isinstance(identifier.get("type"), dict) else []
    return identifier.get("system") in PERSONAL_SYSTEMS or any(
        isinstance(c, dict) and c.get("code") in PERSONAL_TYPES for c in types)


def _patient_id_of(entry: Entry) -> str | None:
    """The EHR's Patient.id: the resource's id, else the id at the end of an absolute fullUrl
    ("https://ehr.example/fhir/Patient/123"). A urn:uuid fullUrl is the Bundle's own temporary name, not an id."""
    found = entry.resource.get("id")
    if not isinstance(found, str) and "/Patient/" in entry.full_url and not entry.full_url.startswith("urn:"):
        found = entry.full_url.rstrip("/").rpartition("/Patient/")[2].split("/_history")[0]
    return found if isinstance(found, str) and FHIR_ID.fullmatch(found) else None


def _encounter_map(entry: Entry, out: _Collector) -> tuple[str | None, dt.date | None]:
    r = entry.resource
    if r.get("status") in ("cancelled", "entered-in-error"):
        out.fatal.append(entry.issue("status", f"an encounter with status {r['status']} is not a visit"))
    visit_id = r.get("id")
    if not visit_id:
        visit_id = next((i.get("value") for i in r.get("identifier") or [] if i.get("value")), None)
    if not visit_id and entry.full_url.startswith("urn:uuid:"):
        visit_id = entry.full_url.removeprefix("urn:uuid:")
    if not visit_id:
        out.fatal.append(entry.issue("id", "the Encounter needs an id, an identifier or a urn:uuid fullUrl: "
                                     "it is the visit id that makes a repeated post idempotent", code="required"))
    elif len(visit_id) > 100 or "/" in visit_id or "\x00" in visit_id:
        out.fatal.append(entry.issue("identifier", "the visit id must be at most 100 characters, without '/' "
                                     "or NUL"))
    period = r.get("period") or {}
    visit_date = date_of(period.get("start"))
    if visit_date is None:
        out.fatal.append(entry.issue("period.start", "the visit date is required as a full date (period.start)",
                                     code="required"))
    return visit_id, visit_date


# The ICD-10 codes named in error messages come from the dictionary, like the mapping itself.
ICD10_LIST = ", ".join(code for codes in DISEASE_CODES.values() for code in codes["icd10"])


def _disease_of(concept: dict) -> str | None:
    for coding in concept.get("coding") or []:
        system, code = coding.get("system") or "", coding.get("code")
        if not isinstance(code, str):
            continue
        if system in codes.ICD10_SYSTEMS and (found := disease_of_icd10(code)):
            return str(found)
        if system == codes.SNOMED and code.strip() in SNOMED_DISEASE:
            return str(SNOMED_DISEASE[code.strip()])
    return None


def _ms_course_of(conditions: list[Entry]) -> str:
    """An MS course named by the diagnosis itself (SNOMED CT 426373005 relapsing remitting, ...): the course fact
    the visit service records unless the visit's own ms_course says otherwise."""
    course = dictionary.BY_NAME["ms_course"]
    for e in conditions:
        for coding in (e.resource.get("code") or {}).get("coding") or []:
            if coding.get("system") == codes.SNOMED:
                found = next((c.code for c in course.codes if c.snomed and c.snomed == coding.get("code")), None)
                if found:
                    return found
    return ""


def _comorbidity_of(concept: dict) -> dictionary.Variable | None:
    for coding in concept.get("coding") or []:
        if coding.get("system") == codes.SNOMED:
            var = next((v for v in dictionary.VARIABLES if v.snomed and v.snomed == coding.get("code")), None)
            if var is not None:
                return var
    return None


def _conditions_map(entries: list[Entry], mapped: MappedVisit, out: _Collector):
    disease, disease_entry, diagnosed_on = None, None, None
    comorbidities: dict[str, Any] = {}
    for e in entries:
        r = e.resource
        verification = ((r.get("verificationStatus") or {}).get("coding") or [{}])[0].get("code")
        if verification == "entered-in-error":
            out.entry_fails(e, e.issue("verificationStatus", "a condition entered in error cannot be stored"))
            continue
        found = _disease_of(r.get("code") or {})
        if found is not None:
            if verification == "refuted":
                out.fatal.append(e.issue("verificationStatus", "a refuted diagnosis cannot name the visit's disease"))
            elif disease is not None and found != disease:
                out.fatal.append(e.issue("code", f"a Bundle is one visit for one disease: {found} here, but "
                                         f"{disease} in {disease_entry.label}"))
            else:
                disease, disease_entry = found, e
                onset = date_of(r.get("onsetDateTime")) or date_of((r.get("onsetPeriod") or {}).get("start"))
                if onset is not None:
                    diagnosed_on = min(diagnosed_on, onset) if diagnosed_on else onset
                    mapped.fields["patient.diagnosed_on"] = (e, "onsetDateTime")
                mapped.targets[e.index] = ("Diagnosis", found)
            continue
        if _arterial_event_of(r.get("code") or {}):
            _arterial_event_add(e, r, verification, comorbidities, mapped)
            continue
        var = _comorbidity_of(r.get("code") or {})
        if var is None:
            shown = ", ".join(f"{c.get('system', '?')}|{c.get('code', '?')}" for c in
                              (r.get("code") or {}).get("coding") or []) or "no coding"
            out.entry_unused(e, e.issue("code", f"{shown} is neither a disease Clinnova scores (ICD-10 {ICD10_LIST} "
                                        "or their SNOMED CT codes and sub-types) nor a comorbidity of the data "
                                        "dictionary", code="code-invalid"))
        elif var.kind != Kind.BOOLEAN:
            out.entry_fails(e, e.issue("code", f"{var.label} needs its grade: send an Observation coded "
                                       f"{codes.VARIABLE}|{var.name}", code="code-invalid"))
        else:
            _comorbidity_add(e, var, verification != "refuted", comorbidities, mapped, out)
    if disease is None:
        out.fatal.append(Issue("required", "the Bundle needs a Condition coding the disease: ICD-10 "
                               f"{ICD10_LIST} (or a child code), or its SNOMED CT code", "Bundle.entry"))
    return disease, diagnosed_on, comorbidities


def _arterial_event_of(concept: dict) -> bool:
    return any(c.get("system") == codes.SNOMED and c.get("code") in codes.ARTERIAL_EVENTS
               for c in concept.get("coding") or [])


def _arterial_event_add(e: Entry, r: dict, verification: str | None, comorbidities: dict,
                        mapped: MappedVisit) -> None:
    """A myocardial infarction, unstable angina, stroke or TIA: a history of arterial disease, and its onset the
    date of the last event when it is the latest sent (several may come in one Bundle)."""
    mapped.targets[e.index] = ("Condition", "arterial_event_on")
    if verification == "refuted":
        return
    comorbidities["arterial_disease_history"] = True
    mapped.fields.setdefault("comorbidities.arterial_disease_history", (e, "code"))
    onset = date_of(r.get("onsetDateTime")) or date_of((r.get("onsetPeriod") or {}).get("start"))
    if onset is not None and onset.isoformat() > comorbidities.get("arterial_event_on", ""):
        comorbidities["arterial_event_on"] = onset.isoformat()
        mapped.fields["comorbidities.arterial_event_on"] = (e, "onsetDateTime")


def _comorbidity_add(e: Entry, var, value: Any, comorbidities: dict, mapped: MappedVisit, out: _Collector) -> None:
    if comorbidities.get(var.name) == value:
        # The same finding recorded again (at another encounter of the record): one statement, not a conflict.
        mapped.targets[e.index] = ("Condition" if e.type == "Condition" else "Observation", var.name)
        return
    if var.name in comorbidities:
        first, _ = mapped.fields[f"comorbidities.{var.name}"]
        out.entry_fails(e, e.issue("code", f"{var.label} is also given in {first.label}: send it once"))
        return
    comorbidities[var.name] = value
    mapped.fields[f"comorbidities.{var.name}"] = (e, "code")
    mapped.targets[e.index] = ("Condition" if e.type == "Condition" else "Observation", var.name)


def _observations_map(entries: list[Entry], disease: str | None, mapped: MappedVisit, measurements: dict,
                      comorbidities: dict, out: _Collector, *, visit_date: dt.date | None) -> None:
    for e in entries:
        try:
            variable_of(e.resource.get("code"))
        except MappingError as exc:
            out.entry_unused(e, e.issue(exc.element, str(exc), code=exc.code))
            continue
        try:
            measured = observation_read(e.resource)
        except MappingError as exc:
            out.entry_fails(e, e.issue(exc.element, str(exc), code=exc.code))
            continue
        if not _within_visit(measured.effective, visit_date):
            out.entry_fails(e, e.issue("effective[x]", f"{measured.effective.isoformat()} is more than "
                                       f"{OBSERVATION_WINDOW_DAYS} days from the encounter's date "
                                       f"{visit_date.isoformat()}: an observation is stored with the visit of its "
                                       "date, so send it in a bundle with that visit's Encounter",
                                       code="business-rule"))
            continue
        var = measured.variable
        element = f"{measured.element}.value" if measured.element == "valueQuantity" else measured.element
        if var.origin == dictionary.Origin.DERIVED:
            out.entry_unused(e, e.issue("code", f"{var.label} is derived from the patient's record and cannot be "
                                       "posted", code="business-rule"))
            continue
        if disease is not None and not var.used_for(disease):
            used = ", ".join(sorted(str(d) for d in var.diseases))
            out.entry_unused(e, e.issue("code", f"{var.label} is not recorded for {disease} (only for {used})",
                                       code="business-rule"))
            continue
        if var.name in measurements or var.name in comorbidities:
            where = "comorbidities" if var.name in comorbidities else "measurements"
            first, _ = mapped.fields[f"{where}.{var.name}"]
            out.entry_fails(e, e.issue("code", f"{var.label} is also given in {first.label}: send it once"))
            continue
        if measured.value is not None and disease is not None:
            try:
                dictionary.clean_measurements(disease, {var.name: measured.value})
            except DictionaryError as exc:
                for err in exc.errors:
                    out.entry_fails(e, e.issue(element, f"{var.label} {_shown(err.value)} {err.message}"))
                continue
        where = "comorbidities" if var.group == "safety" else "measurements"
        (comorbidities if where == "comorbidities" else measurements)[var.name] = measured.value
        mapped.fields[f"{where}.{var.name}"] = (e, element)
        mapped.targets[e.index] = ("Observation", var.name if measured.value is not None else "")


def _stop_detail(r: dict) -> str:
    """What stopped a therapy, in the sender's words and SNOMED CT codes (an adverse event: what it was)."""
    reasons = r.get("statusReason") or []
    parts = []
    for reason in reasons if isinstance(reasons, list) else []:
        if not isinstance(reason, dict):
            continue
        parts += [f"SNOMED {c['code']}" + (f" {c['display']}" if c.get("display") else "")
                  for c in reason.get("coding") or [] if c.get("system") == codes.SNOMED and c.get("code")]
        if isinstance(reason.get("text"), str):
            parts.append(reason["text"])
    return "; ".join(parts)[:300]


def _within_visit(effective: dt.date | None, visit_date: dt.date | None) -> bool:
    """An observation without a date, or dated within the window around its encounter, belongs to the visit.

    An implausible encounter date is the error to report, not the observations around it."""
    if effective is None or visit_date is None or visit_date > dt.date.today():
        return True
    return abs((effective - visit_date).days) <= OBSERVATION_WINDOW_DAYS


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('value')} {value.get('unit') or ''}".strip()
    return "" if value is None else str(value)


# MedicationRequest.intent values that are a prescription the patient was given; plans and proposals are not.
ORDERED = ("order", "original-order", "reflex-order", "filler-order", "instance-order")


def _drug_of(e: Entry, concept: Any) -> tuple[drugs.Drug | None, str, str]:
    """The catalogue drug of a medicationCodeableConcept (ATC, else an RxNorm ingredient), its element, and why
    none when none (the drug is not one Clinnova scores: said, not refused)."""
    codings = (concept.get("coding") or []) if isinstance(concept, dict) else []
    shown = []
    for k, coding in enumerate(codings):
        system, code = coding.get("system"), coding.get("code")
        if not isinstance(code, str):
            continue
        shown.append(f"{system}|{code}")
        if system in codes.ATC:
            try:
                return drugs.resolve(code), f"medicationCodeableConcept.coding[{k}].code", ""
            except drugs.UnknownDrug:
                continue
        if system == codes.RXNORM and code in drugs.RXNORM:
            return drugs.BY_ATC[drugs.RXNORM[code]], f"medicationCodeableConcept.coding[{k}].code", ""
    what = ", ".join(shown) or "no coding"
    return None, "medicationCodeableConcept", (f"{what} is not a drug of the catalogue (ATC, or an RxNorm "
                                               "code it lists; see /api/v1/dictionary/): not recorded as a "
                                               "therapy line")


def _medications_map(entries: list[Entry], mapped: MappedVisit, out: _Collector, *, disease: str | None = None,
                     visit_date: dt.date | None = None, measurements: dict | None = None) -> list[dict]:
    """MedicationStatement and MedicationRequest entries as therapy lines. A medication Clinnova does not score,
    or a request that was never given (a plan, a cancelled order), is accepted and said so, never refused: a real
    record holds many of them. A systemic glucocorticoid taken on the visit date is the `glucocorticoid`
    variable where the disease records it."""
    therapies = []
    for e in sorted(entries, key=lambda e: e.index):
        issues: list[Issue] = []
        r = e.resource
        if "medicationCodeableConcept" not in r:
            out.entry_noted(e, "a Medication reference is not read (send medicationCodeableConcept with an ATC or "
                               "RxNorm coding): not recorded as a therapy line")
            continue
        drug, drug_element, why = _drug_of(e, r.get("medicationCodeableConcept"))
        if drug is None:
            element = _glucocorticoid_element(r.get("medicationCodeableConcept"))
            if element and measurements is not None and disease in dictionary.BY_NAME["glucocorticoid"].diseases:
                if _medication_active_on(e, visit_date):
                    if "glucocorticoid" not in measurements:  # an Observation of the variable itself wins
                        measurements["glucocorticoid"] = True
                        mapped.fields["measurements.glucocorticoid"] = (e, element)
                    out.entry_noted(e, "a systemic glucocorticoid (ATC H02AB) taken on the visit date: recorded as "
                                       "glucocorticoid = yes, not as a therapy line")
                else:
                    out.entry_noted(e, "a systemic glucocorticoid (ATC H02AB) not taken on the visit date: not "
                                       "recorded (its absence says nothing about other glucocorticoids)")
                continue
            out.entry_noted(e, why)
            continue
        if e.type == "MedicationRequest":
            line = _request_line(e, out)
            if line is None:
                continue
            start, stop, outcome, status_element = line
        else:
            status = r.get("status")
            outcome, status_element = THERAPY_STATUS.get(status), "status"
            if outcome is None:
                issues.append(e.issue("status", f"status {status!r} is not a therapy the patient had (use active, "
                                      "completed, stopped or on-hold)"))
            for coding in (r.get("statusReason") or [{}])[0].get("coding") or []:
                if coding.get("system") == codes.THERAPY_OUTCOME:
                    if coding.get("code") not in Outcome.values:
                        issues.append(e.issue("statusReason", f"outcome must be one of {', '.join(Outcome.values)}",
                                              code="code-invalid"))
                    outcome = coding.get("code")
            start, stop = _medication_dates(e)
            if start is None:
                issues.append(e.issue("effectivePeriod.start", "the start date of the therapy is required",
                                      code="required"))
            if outcome is not None and outcome != Outcome.ONGOING and stop is None:
                issues.append(e.issue("effectivePeriod.end", f"the end date is required when the therapy is "
                                      f"{status} ({outcome})", code="required"))
        if issues:
            for issue in issues:
                out.entry_fails(e, issue)
            continue
        k = len(therapies)
        start_element = "authoredOn" if e.type == "MedicationRequest" else "effectivePeriod.start"
        stop_element = "dispenseRequest.validityPeriod.end" if e.type == "MedicationRequest" else "effectivePeriod.end"
        mapped.fields.update({f"therapies[{k}].drug": (e, drug_element),
                              f"therapies[{k}].start": (e, start_element),
                              f"therapies[{k}].stop": (e, stop_element),
                              f"therapies[{k}].outcome": (e, status_element)})
        mapped.targets[e.index] = (e.type, f"{drug.atc}.{start:%Y%m%d}")
        dosage = ((r.get("dosage") or r.get("dosageInstruction")) or [{}])[0]
        therapies.append({"drug": drug.atc, "start": start, "stop": stop, "outcome": outcome,
                          "stop_detail": _stop_detail(r) if stop else "",
                          "dose": str(dosage.get("text") or "")[:100] if isinstance(dosage, dict) else "",
                          "response_at_followup": None})
    return therapies


# ATC group H02AB, "Glucocorticoids" under H02A "Corticosteroids for systemic use, plain" (WHOCC ATC/DDD Index):
# prednisolone H02AB06, prednisone H02AB07, methylprednisolone H02AB04 and the rest of the group.
GLUCOCORTICOID_ATC_GROUP = "H02AB"


def _glucocorticoid_element(concept: Any) -> str:
    """The element of an ATC coding in group H02AB, or ""."""
    codings = (concept.get("coding") or []) if isinstance(concept, dict) else []
    for k, coding in enumerate(codings):
        if not isinstance(coding, dict):
            continue
        code = coding.get("code")
        if coding.get("system") in codes.ATC and isinstance(code, str) and \
                code.upper().startswith(GLUCOCORTICOID_ATC_GROUP):
            return f"medicationCodeableConcept.coding[{k}].code"
    return ""


def _medication_dates(e: Entry) -> tuple[dt.date | None, dt.date | None]:
    """(start, end) of a MedicationStatement (effectivePeriod, or effectiveDateTime as its start) or of a
    MedicationRequest (authoredOn, else its validity period's start; the validity period's end)."""
    r = e.resource
    if e.type == "MedicationRequest":
        validity = (r.get("dispenseRequest") or {}).get("validityPeriod") or {}
        return date_of(r.get("authoredOn")) or date_of(validity.get("start")), date_of(validity.get("end"))
    period = r.get("effectivePeriod") or {}
    return date_of(period.get("start")) or date_of(r.get("effectiveDateTime")), date_of(period.get("end"))


def _medication_active_on(e: Entry, day: dt.date | None) -> bool:
    """Whether a MedicationStatement or MedicationRequest (a prescription given) says the patient took the
    medication on `day`: active, or completed with an end; started on or before the day and not ended before it."""
    r, status = e.resource, e.resource.get("status")
    if day is None or status not in ("active", "completed") or (
            e.type == "MedicationRequest" and r.get("intent") not in ORDERED):
        return False
    start, end = _medication_dates(e)
    return start is not None and start <= day and (end is None or end >= day) and (status != "completed" or
                                                                                   end is not None)


def _request_line(e: Entry, out: _Collector):
    """A MedicationRequest as (start, stop, outcome, element of the status), or None (noted) when it is not a
    therapy the patient was given or its dates cannot be told: Synthea and most EHRs send authoredOn and status,
    an end only as the validity of the prescription."""
    r = e.resource
    if r.get("intent") not in ORDERED:
        out.entry_noted(e, f"intent {r.get('intent')!r} is not a prescription the patient was given: not recorded "
                           "as a therapy line")
        return None
    status = r.get("status")
    start, stop = _medication_dates(e)
    if start is None:
        out.entry_noted(e, "without authoredOn (or dispenseRequest.validityPeriod.start) the therapy's start is "
                           "unknown: not recorded as a therapy line")
        return None
    if status == "active":
        return start, None, Outcome.ONGOING, "status"
    if status in ("completed", "stopped"):
        if stop is None or stop < start:
            out.entry_noted(e, f"a {status} prescription without dispenseRequest.validityPeriod.end does not say "
                               "when the therapy stopped: not recorded as a therapy line")
            return None
        return start, stop, Outcome.NOT_RECORDED, "status"
    out.entry_noted(e, f"status {status!r} is not a therapy the patient is or was on: not recorded as a therapy line")
    return None


@dataclass
class RecordMapped:
    """A transaction carrying several Encounters (a patient's record): one MappedVisit per Encounter kept as a
    visit, oldest first, and what became of the others."""
    kind: str
    count: int
    visits: list[MappedVisit]
    # Entries answered 200 with an informational outcome only: encounters not kept as visits and what they carried,
    # observations dated in none of the encounters, and the entries the Bundle's reading acknowledged.
    notes: dict[int, list[Issue]] = field(default_factory=dict)


def _encounter_of(e: Entry, encounters: dict[str, Entry]) -> Entry | None:
    element = next((el for el, target, _ in REFERENCES.get(e.type, ()) if target == "Encounter"), None)
    ref = e.resource.get(element) if element else None
    return encounters.get(ref.get("reference")) if isinstance(ref, dict) else None


def _period_of(e: Entry) -> tuple[dt.date | None, dt.date | None]:
    period = e.resource.get("period") or {}
    start = date_of(period.get("start"))
    return start, date_of(period.get("end")) or start


def _noted(e: Entry, message: str) -> Issue:
    return Issue("informational", message, e.path(), e.label, severity="information")


def visits_map(bundle: ReadBundle, *, client: EHRClient) -> RecordMapped:
    """A transaction with several Encounters as one visit per Encounter, each mapped by visit_map.

    Each Encounter gets the Observations, Conditions and medications that reference it, and the Observations
    without an encounter reference dated within its period. A diagnosis or a comorbidity belongs to the patient: a
    Condition goes with every visit on or after its onset (else its encounter's date). A medication that names no
    encounter goes with the latest visit. Encounters before the disease was diagnosed are not visits of it, and
    an Encounter that carries nothing of the data dictionary is not kept as an empty visit: both are said.
    FHIRError when any visit cannot be stored (the transaction is all or nothing).
    """
    patient = bundle.of_type("Patient")
    encounters = bundle.of_type("Encounter")
    by_ref: dict[str, Entry] = {}
    for enc in encounters:
        if enc.full_url:
            by_ref[enc.full_url] = enc
        if isinstance(enc.resource.get("id"), str):
            by_ref[f"Encounter/{enc.resource['id']}"] = enc
    seen: dict[str, Entry] = {}
    for enc in encounters:
        visit_id, _ = _encounter_map(enc, _Collector())
        if visit_id in seen:
            raise FHIRError(400, [enc.issue("id", f"the visit id {visit_id!r} is also the id of "
                                            f"{seen[visit_id].label}: a resource appears in a transaction once (R4 "
                                            "http.html#trules), and each Encounter is a visit", code="duplicate")])
        if visit_id:
            seen[visit_id] = enc
    dates = {enc.index: _period_of(enc) for enc in encounters}
    undated = [enc for enc in encounters if dates[enc.index][0] is None]
    if undated:
        raise FHIRError(422, [enc.issue("period.start", "the visit date is required as a full date (period.start)",
                                        code="required") for enc in undated])
    order = sorted(encounters, key=lambda enc: (dates[enc.index][0], enc.index))
    own: dict[int, list[Entry]] = {enc.index: [] for enc in encounters}
    shared_conditions: list[tuple[dt.date | None, Entry]] = []
    loose_medications: list[Entry] = []
    notes: dict[int, list[Issue]] = dict(bundle.acknowledged)
    for e in bundle.entries:
        if e.type in ("Patient", "Encounter"):
            continue
        encounter = _encounter_of(e, by_ref)
        if e.type == "Condition":
            r = e.resource
            onset = date_of(r.get("onsetDateTime")) or date_of((r.get("onsetPeriod") or {}).get("start"))
            shared_conditions.append((onset or (dates[encounter.index][0] if encounter else None), e))
        elif encounter is not None:
            own[encounter.index].append(e)
        elif e.type == "Observation":
            effective = effective_date(e.resource)
            home = next((enc for enc in order if effective is not None
                         and dates[enc.index][0] <= effective <= dates[enc.index][1]), None)
            if home is None:
                notes[e.index] = [_noted(e, "not stored: the Observation names no encounter and its date falls in "
                                            "none of the Bundle's encounters")]
            else:
                own[home.index].append(e)
        else:
            loose_medications.append(e)
    disease_onsets = [onset for onset, e in shared_conditions if _disease_of(e.resource.get("code") or {})]
    diagnosed = min((d for d in disease_onsets if d is not None), default=None)
    if diagnosed is not None and dates[order[-1].index][0] < diagnosed:
        raise FHIRError(422, [Issue("business-rule", f"every Encounter is dated before the disease's onset "
                                    f"({diagnosed.isoformat()}): none is a visit of it", "Bundle.entry")])
    visits: list[MappedVisit] = []
    empty: list[tuple[Entry, MappedVisit]] = []
    skipped: list[tuple[Entry, str]] = []
    latest = order[-1]
    for enc in order:
        day = dates[enc.index][0]
        if diagnosed is not None and day < diagnosed:
            skipped.append((enc, f"dated {day.isoformat()}, before the disease was diagnosed "
                                 f"({diagnosed.isoformat()}): not a visit of it"))
            continue
        members = [*patient, enc, *own[enc.index],
                   *(e for onset, e in shared_conditions if onset is None or onset <= day),
                   *(loose_medications if enc is latest else ())]
        sub = ReadBundle(kind=bundle.kind, entries=sorted(members, key=lambda e: e.index), rejected={},
                         count=bundle.count)
        mapped = visit_map(sub, client=client)
        if any(e.index in mapped.targets for e in own[enc.index]) or (enc is latest and loose_medications):
            visits.append(mapped)
        else:
            empty.append((enc, mapped))
    if not visits and empty:
        # Nothing of the dictionary anywhere: the latest Encounter is still the patient's visit, so the record
        # (diagnosis, therapies) is kept and said to be unrankable rather than lost.
        visits.append(empty.pop()[1])
    skipped += [(enc, "carries no variable of Clinnova's data dictionary: not stored as a visit")
                for enc, _ in empty]
    for enc, why in skipped:
        notes[enc.index] = [_noted(enc, f"not stored: the Encounter is {why}" if why.startswith("dated")
                                   else f"not stored: the Encounter {why}")]
        for e in own[enc.index]:
            notes.setdefault(e.index, [_noted(e, f"not stored: its Encounter ({enc.label}) is not kept as a visit")])
    return RecordMapped(kind=bundle.kind, count=bundle.count, visits=visits, notes=notes)
