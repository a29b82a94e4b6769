"""The SmPC vignettes (tests/integration/vignettes.py) through the JSON API and through FHIR: per candidate drug,
the flags and licence status a drug-safety pharmacist expects."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from doors.fhir import codes
from patients import dictionary
from patients.models import Patient
from tests.integration.vignettes import (
    BY_DISEASE, CANDIDATES, HISTORY, SCREENED, TODAY, VIGNETTES, WOMAN, Vignette,
)
from tests.patients.api_helpers import auth

CHECK, NOT_LICENSED = "check_before_starting", "not_licensed"
ICD10 = {"crohns_disease": "K50.9", "ulcerative_colitis": "K51.9", "rheumatoid_arthritis": "M05.9",
         "multiple_sclerosis": "G35"}
VISIT_DATE = TODAY - dt.timedelta(days=2)


def record(v: Vignette) -> dict:
    values = {**SCREENED, **BY_DISEASE[v.disease], **(WOMAN if v.sex == "female" and 15 <= v.age <= 49 else {}),
              **v.changes}
    return {k: val for k, val in values.items() if val is not None}


def therapies(v: Vignette) -> list[dict]:
    return list(HISTORY[v.disease] if v.therapies is None else v.therapies)


def diagnosed_on(v: Vignette) -> str:
    return (TODAY - dt.timedelta(days=int(v.diagnosed_years * 365.25))).isoformat()


def observed_from_payload(drugs: list[dict]) -> dict[str, tuple]:
    out = {}
    for d in drugs:
        fired = {f["rule"] for f in d["flags"] if f["severity"] not in (CHECK, NOT_LICENSED)}
        checks = {e.get("variable") or e["label"] for f in d["flags"] if f["severity"] == CHECK
                  for e in f["evidence"]}
        out[d["atc"]] = (fired, d["licensed"], checks)
    return out


def compare(v: Vignette, observed: dict[str, tuple]) -> list[str]:
    problems = []
    candidates = [atc for atc in CANDIDATES[v.disease] if atc in observed]
    assert candidates, f"{v.name}: no candidate of the vignette is scored"
    for atc in candidates:
        e = v.expected(atc)
        fired, licensed, checks = observed[atc]
        if fired != set(e.fired):
            problems.append(f"{atc}: fired {sorted(fired)}, expected {sorted(e.fired)}")
        if licensed != e.licensed:
            problems.append(f"{atc}: licensed {licensed}, expected {e.licensed}")
        if checks != set(e.checks):
            problems.append(f"{atc}: checks {sorted(checks)}, expected {sorted(e.checks)}")
    return problems


# --- the JSON door -------------------------------------------------------------------------------------------
def json_visit(v: Vignette, visit_id: str, date: str, measurements: dict) -> dict:
    return {"visit_id": visit_id, "disease": v.disease, "date": date, "measurements": measurements,
            "patient": {"id": f"V-{v.name}", "sex": v.sex, "birth_year": TODAY.year - v.age,
                        "diagnosed_on": diagnosed_on(v)},
            "therapies": therapies(v)}


def through_json(client, token, v: Vignette, on_commit) -> dict[str, tuple]:
    for n, earlier in enumerate(v.earlier):
        day = (TODAY - dt.timedelta(days=earlier.days_ago)).isoformat()
        body = json_visit(v, f"{v.name}-earlier-{n}", day, earlier.values)
        body["therapies"] = [t for t in body["therapies"] if t["start"] <= day]
        response = client.post("/api/v1/visits/", body, content_type="application/json", **auth(token))
        assert response.status_code == 201, response.content
    with on_commit(execute=True):
        response = client.post("/api/v1/visits/", json_visit(v, v.name, VISIT_DATE.isoformat(), record(v)),
                               content_type="application/json", **auth(token))
    assert response.status_code == 201, response.content
    rec = client.get(response.json()["recommendation"]["url"], **auth(token)).json()
    assert rec["status"] == "ready", rec
    return observed_from_payload(rec["drugs"])


# --- the FHIR door -------------------------------------------------------------------------------------------
def _entry(url: str, resource: dict) -> dict:
    return {"fullUrl": url, "resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}


def observation(n: int, name: str, value, day: str) -> dict:
    var = dictionary.BY_NAME[name]
    code = {"system": codes.LOINC, "code": var.loinc} if var.loinc else {"system": codes.VARIABLE, "code": name}
    resource = {"resourceType": "Observation", "status": "final", "code": {"coding": [code]},
                "subject": {"reference": "urn:uuid:patient"}, "effectiveDateTime": day}
    if isinstance(value, dict):  # a result read against the lab's upper reference limit
        resource["valueQuantity"] = {"value": value["value"], "system": codes.UCUM, "code": value["unit"]}
        resource["referenceRange"] = [{"high": {"value": value["reference_high"], "system": codes.UCUM,
                                                "code": value["unit"]}}]
    elif var.kind == dictionary.Kind.BOOLEAN:
        resource["valueBoolean"] = value
    elif var.kind == dictionary.Kind.DATE:
        resource["valueDateTime"] = value
    elif var.kind == dictionary.Kind.CODE:
        snomed = next((c.snomed for c in var.codes if c.code == value and c.snomed), None)
        coding = {"system": codes.SNOMED, "code": snomed} if snomed and value in ("positive", "negative") else \
            {"system": codes.VARIABLE_VALUES + name, "code": value}
        resource["valueCodeableConcept"] = {"coding": [coding]}
    elif var.kind == dictionary.Kind.INTEGER and var.unit in ("{score}", "{count}", "/d", "/(12.mo)"):
        resource["valueInteger"] = value
    else:
        resource["valueQuantity"] = {"value": value, "system": codes.UCUM, "code": var.unit}
    return _entry(f"urn:uuid:obs-{n}", resource)


def medication(n: int, t: dict) -> dict:
    resource = {"resourceType": "MedicationStatement", "status": "active" if t["stop"] is None else "stopped",
                "subject": {"reference": "urn:uuid:patient"},
                "medicationCodeableConcept": {"coding": [{"system": codes.ATC[0], "code": t["drug"]}]},
                "effectivePeriod": {"start": t["start"], **({"end": t["stop"]} if t["stop"] else {})}}
    if t["stop"]:
        reason = {"coding": [{"system": codes.THERAPY_OUTCOME, "code": t["outcome"]}]}
        if t.get("stop_detail"):
            reason["text"] = t["stop_detail"]
        resource["statusReason"] = [reason]
    return _entry(f"urn:uuid:med-{n}", resource)


def bundle(client_system: str, v: Vignette, encounter: str, day: str, values: dict, lines: list[dict]) -> dict:
    entries = [
        _entry("urn:uuid:patient", {"resourceType": "Patient", "gender": v.sex, "birthDate": str(TODAY.year - v.age),
                                    "identifier": [{"system": client_system, "value": f"F-{v.name}"}]}),
        _entry("urn:uuid:encounter", {"resourceType": "Encounter", "id": encounter, "status": "finished",
                                      "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                                "code": "AMB"},
                                      "subject": {"reference": "urn:uuid:patient"}, "period": {"start": day}}),
        _entry("urn:uuid:condition", {"resourceType": "Condition", "subject": {"reference": "urn:uuid:patient"},
                                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10",
                                                           "code": ICD10[v.disease]}]},
                                      "onsetDateTime": diagnosed_on(v)}),
    ]
    entries += [observation(n, name, value, day) for n, (name, value) in enumerate(values.items())]
    entries += [medication(n, t) for n, t in enumerate(lines) if t["start"] <= day]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def fhir_id(name: str) -> str:
    return name.replace("_", "-")[:64]  # FHIR ids: letters, digits, '-' and '.'


def through_fhir(client, ehr, token, v: Vignette, on_commit) -> dict[str, tuple]:
    def post(b):
        response = client.post("/fhir/", json.dumps(b), content_type="application/fhir+json", **auth(token))
        assert response.status_code == 200, response.content

    for n, earlier in enumerate(v.earlier):
        day = (TODAY - dt.timedelta(days=earlier.days_ago)).isoformat()
        post(bundle(ehr.identifier_system, v, fhir_id(f"{v.name}-earlier-{n}"), day, earlier.values, therapies(v)))
    with on_commit(execute=True):
        post(bundle(ehr.identifier_system, v, fhir_id(v.name), VISIT_DATE.isoformat(), record(v), therapies(v)))
    patient = Patient.objects.get(identifiers__value=f"F-{v.name}")
    found = client.get(f"/fhir/RiskAssessment?patient={patient.pk}", **auth(token)).json()
    assert found["total"] == 1, found
    out = {}
    for prediction in found["entry"][0]["resource"]["prediction"]:
        ext = prediction["extension"]
        atc = ext[0]["valueCodeableConcept"]["coding"][0]["code"]
        group = next(e["valueCode"] for e in ext if e["url"] == codes.RANKING_GROUP)
        flags = [{x["url"]: x for x in e["extension"]} | {"inputs": [x["valueString"] for x in e["extension"]
                                                                      if x["url"] == "input"]}
                 for e in ext if e["url"] == codes.SAFETY_FLAG]
        kinds = [(f["kind"]["valueCoding"]["code"], f["rule"]["valueString"], f["inputs"]) for f in flags]
        fired = {rule for kind, rule, _ in kinds if kind not in (CHECK, NOT_LICENSED)}
        checks = {name for kind, _, inputs in kinds if kind == CHECK for name in inputs}
        if group == "current":
            licensed = None
        elif any(kind == NOT_LICENSED for kind, _, _ in kinds):
            licensed = False
        else:
            licensed = None if any(rule == "licence" for _, rule, _ in kinds) else True
        out[atc] = (fired, licensed, checks)
    return out


def test_there_are_at_least_forty_vignettes_over_the_four_diseases():
    assert len(VIGNETTES) >= 40
    assert {v.disease for v in VIGNETTES} == set(CANDIDATES)
    assert len({v.name for v in VIGNETTES}) == len(VIGNETTES)


@pytest.mark.parametrize("vignette", VIGNETTES, ids=lambda v: v.name)
def test_each_vignette_through_the_json_api(vignette, client, ehr_lu, all_models,
                                            django_capture_on_commit_callbacks):
    observed = through_json(client, ehr_lu[1], vignette, django_capture_on_commit_callbacks)
    assert compare(vignette, observed) == []


@pytest.mark.parametrize("vignette", VIGNETTES, ids=lambda v: v.name)
def test_each_vignette_through_fhir(vignette, client, ehr_lu, all_models, django_capture_on_commit_callbacks):
    observed = through_fhir(client, ehr_lu[0], ehr_lu[1], vignette, django_capture_on_commit_callbacks)
    assert compare(vignette, observed) == []
