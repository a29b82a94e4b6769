import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from patients import dictionary, drugs


def test_the_openapi_schema_generates_without_warnings_and_validates(tmp_path):
    # Fails on any drf-spectacular warning (a view it cannot describe) and on an invalid OpenAPI document.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
    schema = (tmp_path / "schema.yaml").read_text()
    assert "/api/v1/model-versions/{id}/activate" in schema
    assert "/fhir/" not in schema and "/cds-services" not in schema  # they follow their own specifications


@pytest.fixture(scope="module")
def published() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def component(published: dict, ref_or_name: str) -> dict:
    return published["components"]["schemas"][ref_or_name.rsplit("/", 1)[-1]]


def response_of(published: dict, path: str, method: str = "get", status: str = "200") -> dict:
    return published["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


def test_every_request_body_the_server_checks_key_by_key_is_closed(published):
    for name in ("VisitInRequest", "AmendInRequest", "PatientInRequest", "TherapyInRequest", "OutcomeInRequest"):
        assert component(published, name)["additionalProperties"] is False, name
    visit = component(published, "VisitInRequest")["properties"]
    postable = {v.name for v in dictionary.VARIABLES if v.origin != dictionary.Origin.DERIVED}
    assert visit["measurements"]["additionalProperties"] is False
    assert set(visit["measurements"]["properties"]) == postable
    assert set(visit["comorbidities"]["properties"]) == {n for n in postable if dictionary.BY_NAME[n].group == "safety"}
    assert "age" not in visit["measurements"]["properties"]  # derived from the birth year: refused when posted


def test_a_measurement_is_published_with_the_range_codes_and_units_the_dictionary_checks(published):
    measurements = component(published, "VisitInRequest")["properties"]["measurements"]["properties"]
    crp = measurements["crp"]["oneOf"]
    assert crp[0] == {"type": "number", "minimum": 0, "maximum": 500}
    in_mg_dl = next(o for o in crp[1:] if o["properties"]["unit"]["enum"] == ["mg/dL"])
    assert in_mg_dl["properties"]["value"]["maximum"] == pytest.approx(50)
    assert measurements["smoking_status"]["enum"] == ["never", "former", "current"]
    assert measurements["tender_joint_count_28"]["oneOf"][0]["type"] == "integer"
    edss = measurements["edss"]["oneOf"][0]
    assert edss["multipleOf"] == 0.5 and edss["not"] == {"enum": [0.5]}  # EDSS has no 0.5


def test_a_therapy_drug_is_one_of_the_catalogue_spellings(published):
    drug = component(published, "TherapyInRequest")["properties"]["drug"]
    enum = set(component(published, drug["allOf"][0]["$ref"])["enum"])
    assert {"L04AB04", "adalimumab", "L04AA33", "vedolizumab"} <= enum
    assert "L04AA50" not in enum and "aspirin" not in enum
    for spelling in enum:
        drugs.resolve(spelling)  # every published spelling is accepted


def test_the_recommendation_is_typed_down_to_its_drugs_flags_shap_values_and_intervals(published):
    rec = component(published, response_of(published, "/api/v1/visits/{visit_uuid}/recommendation/")["$ref"])
    assert {"status", "notice", "visit"} <= set(rec["required"])
    assert {"model_version", "base_value", "missing", "drugs", "rankable", "missing_for_ranking"} <= set(
        rec["properties"])
    drug = component(published, rec["properties"]["drugs"]["items"]["$ref"])
    assert {"rank", "atc", "name", "class", "probability", "flags", "shap", "margin", "current", "licensed"} <= set(
        drug["required"])
    assert {"interval", "tier", "top_suggestion"} <= set(drug["properties"])
    assert "interval" not in drug["required"]  # absent until the model version has an ensemble
    flag = component(published, drug["properties"]["flags"]["items"]["$ref"])
    assert {"rule", "severity", "message", "source", "evidence"} <= set(flag["required"])
    shap = component(published, drug["properties"]["shap"]["items"]["$ref"])
    assert shap["properties"]["shap"]["type"] == "number" and "feature" in shap["required"]


def test_the_dictionary_and_an_import_are_typed(published):
    book = component(published, response_of(published, "/api/v1/dictionary/")["$ref"])
    assert {"variables", "drugs", "diseases", "safety_rules", "indications"} <= set(book["required"])
    variable = component(published, book["properties"]["variables"]["items"]["$ref"])
    assert {"name", "unit", "type", "diseases"} <= set(variable["required"])
    job = response_of(published, "/api/v1/imports/{job_id}/", status="202")
    assert {"status", "progress", "visits"} <= set(component(published, job["$ref"])["required"])
