"""The FHIR R4 door: a transaction or batch Bundle in, RiskAssessment out.

    GET  /fhir/metadata                          CapabilityStatement (public): exactly the interactions below
    POST /fhir  (or /fhir/)                      transaction or batch Bundle of Patient, Encounter, Observation,
                                                 Condition, MedicationStatement, MedicationRequest: one Bundle is
                                                 one visit
    GET  /fhir/Patient/<id>                      Clinnova's id (a response's location) or the EHR's own Patient.id
    GET  /fhir/Encounter/<id>                    the visit a response's location names
    GET  /fhir/RiskAssessment/<id>               the current recommendation of that visit (a searchset's fullUrl)
    GET  /fhir/RiskAssessment?patient=<id>       searchset Bundle for the patient's latest visit; <id> is Clinnova's
         or ?patient.identifier=<system>|<value>  or the EHR's Patient.id, or an identifier the client sent
    POST /fhir/Observation                       the outcome of a decision (doors/fhir/outcome.py)

Authentication is the EHR JSON API's token (`Authorization: Bearer <token>`); a client sees its own site only and
every read is audited. Only JSON is spoken: `_format` or Accept asking for XML (or anything else) is answered 406.
A Bundle becomes the same `ehr_visit_ingest` call as POST /api/v1/visits/, so both doors share the
idempotency key: the Encounter id (else its first identifier value, else its urn:uuid fullUrl) is the visit id.
The patient is named by the client's own identifier when sent, and by the EHR's Patient.id and its other
identifiers, each kept for this client and system (patients.PatientReference; no SSN, passport or licence number).

Errors are an OperationOutcome whose issues name the entry (index and fullUrl, in `details.text`) and the
element as a FHIRPath expression (`Bundle.entry[2].resource.valueQuantity.code`); the issue that decides whether
anything can be stored (exactly one Patient and one Encounter) comes first; nothing is stored:

    400  not a Bundle we can read: malformed JSON, fhir.resources validation, Bundle.type other than
         transaction or batch, not exactly one Patient and one Encounter, and in a transaction an unsupported
         resource or request method or a reference that does not resolve inside the Bundle
    422  valid FHIR that the data dictionary cannot accept: an unknown LOINC, SNOMED CT or ICD-10 code, a unit
         that does not convert, a value out of range, a missing visit date or birth date
    409  the Encounter was stored before with different content (amend it with PUT /api/v1/visits/<id>)
    401, 406, 413, 415, 429 as for the JSON API

A transaction is all or nothing. A batch answers each entry on its own (R4 http.html#brules): an entry of a type
or method not read, or with a reference outside the Bundle, gets 400; an Observation, Condition or medication
that cannot be mapped gets 422 with its OperationOutcome; the rest of the visit is stored. Problems with the
Patient, the Encounter or the disease fail the whole batch, which is then no visit. A medication that is not in
the drug catalogue, or a MedicationRequest that was never given (a plan, a cancelled order), is accepted with an
informational outcome in both: a real record holds many of them.
"""
