"""The four diseases Clinnova scores, with their ICD-10 and SNOMED CT codes (read by the FHIR mapping and shown in
the published dictionary). patients/dictionary.py re-exports them."""

from __future__ import annotations

from dataclasses import dataclass

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

# ICD-10 codes of each disease, as prefixes of the code (compared without the dot) (ICD-10 WHO 2019, ICD-10-GM 2025 and
# ICD-10-CM share these categories): a child code (K50.1, G35.10 in ICD-10-GM, M05.79 in ICD-10-CM) is the disease.
# M06 is not all rheumatoid arthritis: M06.1 is adult-onset Still's disease and M06.4 inflammatory polyarthropathy
# (ICD-10 WHO 2019, block M05-M14), so only M06.0, .2, .3, .8 and .9 are read as RA.
# The SNOMED CT code listed first is the disease's own concept, the one Clinnova writes; SNOMED_DESCENDANTS below
# holds the sub-types an EHR records instead.
DISEASE_CODES: dict[str, dict[str, tuple[str, ...]]] = {
    CD: {"icd10": ("K50",), "snomed": ("34000006",)},
    UC: {"icd10": ("K51",), "snomed": ("64766004",)},
    RA: {"icd10": ("M05", "M06.0", "M06.2", "M06.3", "M06.8", "M06.9"), "snomed": ("69896004",)},
    MS: {"icd10": ("G35",), "snomed": ("24700007",)},
}

# The SNOMED CT release the descendants below were checked against. A concept is added only when a source naming
# it as a descendant (<<) of the disease concept was read; `verified` says which. Review at each release: a
# concept that becomes inactive stays readable here (old records keep it) but is listed in the release notes.
SNOMED_RELEASE = "SNOMED CT International Edition 2023-03-31"


@dataclass(frozen=True)
class Descendant:
    code: str
    display: str
    disease: str
    verified: str


_CVD_COVID_UK = ("listed as a descendant of 69896004 in the CVD-COVID-UK/COVID-IMPACT RA codelist (BHF Data Science "
                 "Centre, SNOMED CT UK Edition extract, 2021), fully specified name checked there")
_HERMES = ("asserted as a descendant (<) of 24700007 in the test suite of the hermes SNOMED CT terminology server, "
           "run against the International Edition")
_PRIMIS = "listed with this term in the OpenSAFELY/PRIMIS neurology codelist (SNOMED CT UK Edition, 2021)"
_NAMED = ("named by an EHR's replayed record (issue 13) with this term; its place under the disease concept is the "
          "term's own (\"Crohn's disease of ...\", \"ulcerative ...\"); re-check on the next release review")

SNOMED_DESCENDANTS: tuple[Descendant, ...] = (
    # Rheumatoid arthritis (69896004)
    Descendant("239791005", "Seropositive rheumatoid arthritis", RA, _CVD_COVID_UK),
    Descendant("239792003", "Seronegative rheumatoid arthritis", RA, _CVD_COVID_UK),
    Descendant("201791009", "Flare of rheumatoid arthritis", RA, _CVD_COVID_UK),
    Descendant("143441000119108", "Rheumatoid arthritis in remission", RA, _CVD_COVID_UK + " (US Edition concept)"),
    Descendant("287006005", "Rheumatoid arthritis of multiple joints", RA, _CVD_COVID_UK),
    Descendant("287007001", "Rheumatoid arthritis of hand joint", RA, _CVD_COVID_UK),
    Descendant("201771002", "Rheumatoid arthritis of wrist", RA, _CVD_COVID_UK),
    Descendant("201777003", "Rheumatoid arthritis of knee", RA, _CVD_COVID_UK),
    Descendant("735599007", "Rheumatoid arthritis with erosion of joint", RA, _CVD_COVID_UK),
    Descendant("400054000", "Rheumatoid arthritis with vasculitis", RA, _CVD_COVID_UK),
    Descendant("1162677006", "Rheumatoid arthritis with rheumatoid lung disease", RA, _CVD_COVID_UK),
    # Multiple sclerosis (24700007)
    Descendant("426373005", "Relapsing remitting multiple sclerosis", MS, _HERMES),
    Descendant("425500002", "Secondary progressive multiple sclerosis", MS,
               _PRIMIS + "; cross-referenced to MONDO secondary progressive multiple sclerosis"),
    Descendant("428700003", "Primary progressive multiple sclerosis", MS,
               _PRIMIS + "; cross-referenced to MONDO primary progressive multiple sclerosis"),
    # Crohn's disease (34000006)
    Descendant("50440006", "Crohn's disease of small intestine", CD, _NAMED),
    Descendant("196977009", "Crohn's disease of terminal ileum", CD,
               "mapped with the broader concepts \"Crohn's disease of ileum; Terminal ileitis\" in a published "
               "SNOMED CT concept-mapping table"),
    # Ulcerative colitis (64766004)
    Descendant("444548001", "Ulcerative pancolitis", UC, _NAMED),
)

# What a SNOMED CT code of a Condition says: the disease, for the disease concept itself and each descendant.
SNOMED_DISEASE: dict[str, str] = {
    **{code: disease for disease, codes in DISEASE_CODES.items() for code in codes["snomed"]},
    **{d.code: d.disease for d in SNOMED_DESCENDANTS},
}


def disease_of_icd10(code: str) -> str | None:
    """The disease of an ICD-10 (WHO, -GM, -CM) code or child code: "M05.79", "G35.10", "K50.0+" -> its disease."""
    # ICD-10-GM marks (+ * ! and the diagnosis certainty G/V/Z/A after a space) are not part of the code.
    normal = code.upper().split(" ")[0].replace(".", "").rstrip("+*!").strip()
    for disease, codes in DISEASE_CODES.items():
        if any(normal.startswith(prefix.replace(".", "")) for prefix in codes["icd10"]):
            return disease
    return None
