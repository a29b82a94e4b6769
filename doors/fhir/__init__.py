"""The FHIR R4 door: a transaction or batch Bundle in, RiskAssessment out.

    GET  /fhir/metadata                          CapabilityStatement (public)
    POST /fhir/                                  transaction or batch Bundle of Patient, Encounter, Observation,
                                                 Condition, MedicationStatement: one Bundle is one visit
    GET  /fhir/RiskAssessment?patient=<uuid>     searchset Bundle: the current recommendation of the latest visit

Authentication is the EHR JSON API's token (`Authorization: Bearer <token>`); a client sees its own site only.
A Bundle becomes the same `ehr_visit_ingest` call as POST /api/v1/visits/, so both doors share the
idempotency key: the Encounter id (else its first identifier value, else its urn:uuid fullUrl) is the visit id.

Errors are an OperationOutcome whose issues name the entry (index and fullUrl, in `details.text`) and the
element as a FHIRPath expression (`Bundle.entry[2].resource.valueQuantity.code`); nothing is stored:

    400  not a Bundle we can read: malformed JSON, fhir.resources validation, Bundle.type other than
         transaction or batch, an unsupported resource or request method, not exactly one Patient and one
         Encounter, or a reference that does not resolve inside the Bundle
    422  valid FHIR that the data dictionary cannot accept: an unknown LOINC, SNOMED CT, ICD-10 or ATC code,
         a unit that does not convert, a value out of range, a missing visit date or birth date
    409  the Encounter was stored before with different content (amend it with PUT /api/v1/visits/<id>)
    401, 413, 415, 429 as for the JSON API

A transaction is all or nothing. In a batch, an Observation, Condition or MedicationStatement that cannot
be mapped is answered in its own response entry (status 422 and an OperationOutcome) and the rest of the
visit is stored; problems with the Patient, the Encounter or the disease still fail the whole batch.
"""
