"""Code systems the FHIR door reads and writes.

Standard systems first; the urn:clinnova systems carry what no standard code covers
(dictionary variables without a LOINC code, such as the 28-joint counts, and therapy outcomes).
"""

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
# ATC: WHOCC's URI, its OID, and the German base profiles' BfArM ATC (formerly DIMDI), which carries the same codes.
ATC = ("http://www.whocc.no/atc", "urn:oid:2.16.840.1.113883.6.73", "http://fhir.de/CodeSystem/bfarm/atc",
       "http://fhir.de/CodeSystem/dimdi/atc")
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
# ICD-10 and its national modifications, by the exact system URIs their FHIR registries publish (FHIR R4
# terminologies-systems: icd-10, icd-10-cm; German base profiles: bfarm icd-10-gm, formerly dimdi). A system that
# merely contains "icd-10" (say "http://evil.example/not-icd-10") is not ICD-10.
ICD10_SYSTEMS = frozenset({
    "http://hl7.org/fhir/sid/icd-10",
    "http://hl7.org/fhir/sid/icd-10-cm",
    "http://fhir.de/CodeSystem/bfarm/icd-10-gm",
    "http://fhir.de/CodeSystem/dimdi/icd-10-gm",
    "urn:oid:2.16.840.1.113883.6.3",
    "urn:oid:2.16.840.1.113883.6.90",
})

# A data dictionary variable by name: code "tender_joint_count_28".
VARIABLE = "urn:clinnova:variable"
# A coded variable's own values: system "urn:clinnova:variable:smoking_status", code "never".
VARIABLE_VALUES = "urn:clinnova:variable:"
# MedicationStatement.statusReason: why a therapy stopped (the Outcome codes of patients.models).
THERAPY_OUTCOME = "urn:clinnova:therapy-outcome"
# Observation.code of an outcome the EHR records: the model's own outcome at its horizon (valueBoolean).
TREATMENT_OUTCOME = "urn:clinnova:treatment-outcome"
TREATMENT_OUTCOME_CODE = "response-at-horizon"
# RiskAssessment.prediction extension naming the candidate drug a prediction is for.
CANDIDATE_DRUG = "urn:clinnova:fhir:StructureDefinition:candidate-drug"
# RiskAssessment.prediction extensions: a safety or licence flag (kind, message, source, how far the source was
# checked), and the ranking group the drug is in (start, not_licensed, contraindicated, current).
SAFETY_FLAG = "urn:clinnova:fhir:StructureDefinition:safety-flag"
FLAG_KIND = "urn:clinnova:flag-kind"
RANKING_GROUP = "urn:clinnova:fhir:StructureDefinition:ranking-group"

# SNOMED CT qualifier values a lab sends for a positive or negative result (RF, anti-CCP, JCV antibodies).
SNOMED_BOOLEAN = {
    "10828004": True,  # Positive
    "260385009": False,  # Negative
    "373066001": True,  # Yes
    "373067005": False,  # No
}

# SNOMED CT disorders whose Condition (with its onset date) records an arterial event: the date of the last one is
# what the S1P modulators' "within 6 months" reads, and any of them is a history of atherosclerotic disease.
ARTERIAL_EVENTS = {
    "22298006": "myocardial infarction",
    "4557003": "unstable angina",
    "230690007": "stroke",
    "266257000": "transient ischaemic attack",
}

# SNOMED CT values that say a coded variable is not known: read as "not recorded", never as one of its values.
# 266927001 "Tobacco smoking consumption unknown" is in US Core's smoking status value set (C-CDA "Current Smoking
# Status", OID 2.16.840.1.113883.11.20.9.38), beside the codes patients.dictionary maps to never/former/current.
SNOMED_UNKNOWN = {"smoking_status": ("266927001",)}
