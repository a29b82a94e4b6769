"""The four diseases Clinnova scores, with their ICD-10 and SNOMED CT codes (read by the FHIR mapping and shown in
the published dictionary). patients/dictionary.py re-exports them."""

from __future__ import annotations

from django.db.models import TextChoices


class Disease(TextChoices):
    CROHNS_DISEASE = "crohns_disease", "Crohn's disease"
    ULCERATIVE_COLITIS = "ulcerative_colitis", "Ulcerative colitis"
    RHEUMATOID_ARTHRITIS = "rheumatoid_arthritis", "Rheumatoid arthritis"
    MULTIPLE_SCLEROSIS = "multiple_sclerosis", "Multiple sclerosis"


CD, UC, RA, MS = (
    Disease.CROHNS_DISEASE,
    Disease.ULCERATIVE_COLITIS,
    Disease.RHEUMATOID_ARTHRITIS,
    Disease.MULTIPLE_SCLEROSIS,
)
ALL = frozenset(Disease)
IBD = frozenset({CD, UC})

# ICD-10 and SNOMED CT codes of each disease, used by the FHIR mapping and shown
# in the published dictionary.
DISEASE_CODES: dict[str, dict[str, tuple[str, ...]]] = {
    CD: {"icd10": ("K50",), "snomed": ("34000006",)},
    UC: {"icd10": ("K51",), "snomed": ("64766004",)},
    RA: {"icd10": ("M05", "M06"), "snomed": ("69896004",)},
    MS: {"icd10": ("G35",), "snomed": ("24700007",)},
}
