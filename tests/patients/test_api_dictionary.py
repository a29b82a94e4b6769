import re

import yaml
from drf_spectacular.validation import validate_schema


def test_the_dictionary_is_public_and_lists_crp_with_its_loinc_code(client, db):
    r = client.get("/api/v1/dictionary/")
    assert r.status_code == 200
    crp = next(v for v in r.json()["variables"] if v["name"] == "crp")
    assert crp["loinc"] == "1988-5"
    assert crp["unit"] == "mg/L"
    assert "mg/dL" in crp["accepted_units"]


def test_the_dictionary_lists_vedolizumab_with_its_2024_atc_code(client, db):
    vedolizumab = next(d for d in client.get("/api/v1/dictionary/").json()["drugs"] if d["name"] == "vedolizumab")
    assert vedolizumab["atc"] == "L04AG05"
    assert vedolizumab["pre_2024_atc"] == ["L04AA33"]


def test_the_dictionary_gives_each_disease_its_icd10_and_snomed_codes(client, db):
    diseases = {d["code"]: d for d in client.get("/api/v1/dictionary/").json()["diseases"]}
    # M06.1 (adult-onset Still's disease) and M06.4 (inflammatory polyarthropathy) are not rheumatoid arthritis.
    assert diseases["rheumatoid_arthritis"]["icd10"] == ["M05", "M06.0", "M06.2", "M06.3", "M06.8", "M06.9"]
    assert diseases["crohns_disease"]["snomed"] == ["34000006"]


def test_the_schema_is_valid_openapi_3_and_documents_every_status_code(client, db):
    r = client.get("/api/schema/")
    assert r.status_code == 200
    schema = yaml.safe_load(r.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    post = schema["paths"]["/api/v1/visits/"]["post"]
    assert set(post["responses"]) >= {"200", "201", "400", "401", "409", "413", "415", "429"}
    assert post["security"] == [{"ehrToken": []}]
    assert "ehrToken" in schema["components"]["securitySchemes"]


def test_the_docs_page_loads_scripts_only_from_our_own_static_files(client, db):
    r = client.get("/api/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert all(src.startswith("/static/") for src in sources), sources
    assert not re.search(r"https?://", html)
    # WhiteNoise serves the vendored Swagger UI itself.
    assert all(client.get(src).status_code == 200 for src in sources)


def test_an_unknown_api_path_answers_json_not_an_html_page(client):
    response = client.get("/api/v1/visits/null,null/recommendation/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    fhir = client.get("/fhir/Nothing/here")
    assert fhir.status_code == 404 and fhir.json()["resourceType"] == "OperationOutcome"
    assert "text/html" in client.get("/no-such-page/")["Content-Type"]


def test_the_dictionary_publishes_the_safety_rules_and_licences_with_their_sources(client, db):
    body = client.get("/api/v1/dictionary/").json()
    tb = next(r for r in body["safety_rules"] if r["code"] == "tuberculosis_screening")
    assert tb["severity"] == "check_before_starting" and tb["variables"] == ["tuberculosis_status"]
    adalimumab = next(d for d in tb["drugs"] if d["atc"] == "L04AB04")
    assert adalimumab["source"]["document"] == "Humira (adalimumab) EU SmPC"
    assert adalimumab["source"]["section"] == "4.4" and adalimumab["source"]["verified"] in ("V", "P", "N")
    fingolimod = [i for i in body["indications"] if i["atc"] == "L04AE01"]
    assert fingolimod and fingolimod[0]["label"] == "highly active relapsing-remitting MS"
    assert "15–49 years" in body["policy"]["childbearing_age"]
    hbsag = next(v for v in body["variables"] if v["name"] == "hbsag")
    assert hbsag["loinc"] == "5196-1" and hbsag["valid_for_days"] == 365 and hbsag["lasting_values"] == ["positive"]
