"""The bulk door: a site's history as NDJSON (our visit JSON, or FHIR resources as FHIR Bulk Data writes them)."""
