from django.core.management import call_command


def test_the_openapi_schema_generates_without_warnings_and_validates(tmp_path):
    # Fails on any drf-spectacular warning (a view it cannot describe) and on an invalid OpenAPI document.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
    schema = (tmp_path / "schema.yaml").read_text()
    assert "/api/v1/model-versions/{id}/activate" in schema
    assert "/fhir/" not in schema and "/cds-services" not in schema  # they follow their own specifications
