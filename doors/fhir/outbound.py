"""What the FHIR door says: its CapabilityStatement, and recommendations as RiskAssessment resources."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from doors.fhir import codes
from doors.fhir.bundle import SUPPORTED
from doors.fhir.errors import Issue, operation_outcome
from patients.dictionary import Disease
from patients.models import EHRClient, Patient, Visit
from recommendations.smpc.base import SEVERITY_LABELS

OUTCOME_DOC = (f" Except the outcome of a decision at the model's horizon (code {codes.TREATMENT_OUTCOME}|"
               f"{codes.TREATMENT_OUTCOME_CODE}, valueBoolean, focus Encounter/<decision visit>), posted alone to "
               "[base]/Observation when the later visits cannot decide it.")


def capability_statement() -> dict:
    """What this server answers, and nothing more: every interaction listed here is routed and tested."""
    base = f"{settings.SITE_URL}/fhir"
    in_bundles = "Accepted only as an entry of a transaction or batch Bundle posted to the base URL (no create or " \
                 "read of its own); codes are read through the data dictionary (GET /api/v1/dictionary/)."
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.localdate().isoformat(),
        "publisher": "Clinnova",
        "kind": "instance",
        "software": {"name": "Clinnova"},
        "implementation": {"description": f"Clinnova FHIR R4 door. {settings.SYNTHETIC_NOTICE}.", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "documentation": "One Bundle is one visit: exactly one Patient and one Encounter (period.start is the "
                             "visit date; its id is the idempotency key shared with POST /api/v1/visits/). "
                             "A batch answers each entry on its own (an entry that cannot be used gets its own "
                             "status and OperationOutcome); a transaction is all or nothing. "
                             "Errors: 400 unreadable Bundle, 422 codes or values the data dictionary refuses, "
                             "409 the Encounter was stored with other content, 406 a format other than JSON; "
                             "each issue names the entry and element.",
            "security": {"description": "Authorization: Bearer <token issued by manage.py create_ehr_client>; "
                                        "a client reads and writes its own site only."},
            "resource": [
                {"type": "Patient", "interaction": [{"code": "read"}],
                 "documentation": "Read by Clinnova's patient id (the location a Bundle response gives) or the "
                                  "EHR's own Patient.id. " + in_bundles},
                {"type": "Encounter", "interaction": [{"code": "read"}],
                 "documentation": "Read by the id of the location a Bundle response gives. " + in_bundles},
                {"type": "Observation", "interaction": [{"code": "create"}],
                 "documentation": in_bundles + OUTCOME_DOC},
            ] + [{"type": t, "documentation": in_bundles} for t in SUPPORTED
                 if t not in ("Patient", "Encounter", "Observation")] + [{
                "type": "RiskAssessment",
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": [
                    {"name": "patient", "type": "reference",
                     "documentation": "Clinnova's patient id or the EHR's own Patient.id (id or Patient/<id>)"},
                    {"name": "patient.identifier", "type": "token",
                     "documentation": "system|value of an identifier the client sent in Patient.identifier"},
                ],
                "documentation": "The current recommendation of the patient's latest visit: one prediction per "
                                 f"candidate drug; read by its id (the visit's). {settings.SYNTHETIC_NOTICE}.",
            }],
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
        }],
    }


def patient_resource(patient: Patient, client: EHRClient) -> dict:
    """The patient as this client may read it: pseudonymous (birth year, sex) and named by the ids this client sent."""
    identifiers = [{"system": i.system, "value": i.value} for i in patient.identifiers.all()
                   if i.system == client.identifier_system]
    fhir_ids = []
    for ref in patient.references.filter(client=client).order_by("pk"):
        if ref.kind == "identifier":
            identifiers.append({"system": ref.system, "value": ref.value})
        else:
            fhir_ids.append(ref.value)
    resource = {"resourceType": "Patient", "id": str(patient.pk), "identifier": identifiers,
                "gender": patient.sex, "birthDate": str(patient.birth_year)}
    if fhir_ids:
        resource["link"] = [{"other": {"reference": f"Patient/{fhir_id}", "display": "the EHR's own Patient"},
                             "type": "seealso"} for fhir_id in fhir_ids]
    return resource


def encounter_resource(visit: Visit) -> dict:
    resource = {"resourceType": "Encounter", "id": str(visit.pk), "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB",
                          "display": "ambulatory"},
                "subject": {"reference": f"Patient/{visit.patient_id}"},
                "period": {"start": visit.visit_date.isoformat()}}
    if visit.source_id:
        resource["identifier"] = [{"system": visit.source_system, "value": visit.source_id}]
    return resource


def main_reasons(shap_rows: list[dict], n: int = 3) -> list[str]:
    """The largest SHAP contributions in words: 'CRP 14 mg/L raises the chance of response'."""
    # The candidate's own indicator column says "this drug", not why: it is left out.
    rows = [r for r in shap_rows if not r["feature"].startswith("drug:")][:n]
    return [f"{r['text']} {'raises' if r['shap'] > 0 else 'lowers'} the chance of response" for r in rows]


def risk_assessment_searchset(visit: Visit | None, payload: dict | None, *, self_url: str) -> dict:
    """A searchset Bundle: the RiskAssessment of the visit's current recommendation, or why there is none."""
    bundle: dict = {"resourceType": "Bundle", "type": "searchset", "total": 0,
                    "link": [{"relation": "self", "url": self_url}], "entry": []}
    if visit is None or payload is None:
        return bundle
    if payload.get("status") != "ready":
        message = payload.get("message") or f"The recommendation of the visit of {visit.visit_date} is " \
                                            f"{payload['status']}."
        bundle["entry"].append({"resource": operation_outcome([Issue("informational", message,
                                                                     severity="information")]),
                                "search": {"mode": "outcome"}})
        return bundle
    resource = risk_assessment(visit, payload)
    bundle["total"] = 1
    bundle["entry"].append({"fullUrl": f"{settings.SITE_URL}/fhir/RiskAssessment/{resource['id']}",
                            "resource": resource, "search": {"mode": "match"}})
    return bundle


def risk_assessment(visit: Visit, payload: dict) -> dict:
    """One RiskAssessment of a ready recommendation payload (recommendations.selectors.recommendation_payload)."""
    mv = payload["model_version"]
    model = f"Clinnova {Disease(mv['disease']).label} model v{mv['version']}"
    notes = [{"text": f"Model version {mv['version']} for {mv['disease']} (Clinnova model id {mv['id']}), trained "
                      f"on {mv['trained_on']}. {settings.SYNTHETIC_NOTICE}."}]
    if payload.get("note"):
        missing = ", ".join(m["label"] for m in payload["missing"])
        notes.append({"text": f"{payload['note']} Not recorded: {missing}."})
    return {
        "resourceType": "RiskAssessment",
        "id": str(visit.pk),
        "status": "final",
        "subject": {"reference": f"Patient/{visit.patient_id}"},
        "encounter": {"reference": f"Encounter/{visit.pk}"},
        "occurrenceDateTime": payload["created_at"],
        "method": {"coding": [{"system": "urn:clinnova:model", "code": f"{mv['disease']}-v{mv['version']}",
                               "display": model}],
                   "text": f"{model}: gradient-boosted trees with SHAP explanations. {settings.SYNTHETIC_NOTICE}"},
        "basis": [{"reference": f"Encounter/{visit.pk}", "display": f"Visit of {visit.visit_date.isoformat()}"}],
        "prediction": [_prediction(d, mv["outcome"]) for d in payload["drugs"]],
        "note": notes,
    }


def _flag_extension(flag: dict) -> dict:
    """A safety or licence flag as a complex extension: kind (coded), the rule, message, source and how far it was
    checked, and for a check before starting each input it asks for (a dictionary variable name or, for a
    clinician's judgement, its words)."""
    inputs = [e.get("variable") or e.get("label") for e in flag.get("evidence", [])
              if flag["severity"] == "check_before_starting"]
    return {"url": codes.SAFETY_FLAG, "extension": [
        {"url": "kind", "valueCoding": {"system": codes.FLAG_KIND, "code": flag["severity"],
                                        "display": SEVERITY_LABELS[flag["severity"]]}},
        {"url": "rule", "valueString": flag["rule"]},
        {"url": "message", "valueString": flag["message"]},
        {"url": "source", "valueString": flag["source"]},
        {"url": "verified", "valueCode": flag.get("verified") or "N"},
    ] + [{"url": "input", "valueString": name} for name in inputs if name]}


def _prediction(drug: dict, outcome: str) -> dict:
    rationale = f"Rank {drug['rank']}: {drug['name']} ({drug['atc']}, {drug['class']}). Main reasons: " \
                + "; ".join(main_reasons(drug["shap"])) + "."
    for flag in drug["flags"]:
        rationale += f" {SEVERITY_LABELS[flag['severity']]}: {flag['message']} (source: {flag['source']})"
    return {
        "extension": [{"url": codes.CANDIDATE_DRUG, "valueCodeableConcept": {
            "coding": [{"system": codes.ATC[0], "code": drug["atc"], "display": drug["name"]}], "text": drug["name"]}},
            {"url": codes.RANKING_GROUP, "valueCode": drug["tier"]}]
        + [_flag_extension(flag) for flag in drug["flags"]],
        "outcome": {"text": outcome},
        "probabilityDecimal": drug["probability"],
        "rationale": rationale,
    }
