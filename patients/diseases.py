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

# The minimum data set of each disease: without every one of these inputs the ranking is shown greyed, "not
# enough data to rank", with no top suggestion. They are the inputs the choice between drugs turns on (each reason
# names why); everything else may be missing and the model still ranks, with its learned defaults. The effects and
# their sources are documented in docs/synthetic-cohort.md.
MINIMUM_DATA_SET: dict[str, tuple[tuple[str, str], ...]] = {
    CD: (
        ("crp", "Inflammatory burden: raised CRP marks objective inflammation, which anti-TNF and other advanced "
                "therapies need to show a response."),
        ("albumin", "Low albumin speeds the clearance of monoclonal antibodies and marks severe disease; it "
                    "changes the expected response to antibody therapies."),
        ("smoking_status", "Smoking lowers the response to anti-TNF therapy in Crohn's disease."),
    ),
    UC: (
        ("mayo_endoscopic", "Endoscopic severity (Mayo 2 vs 3) is an input of the vedolizumab clinical decision "
                            "support tool (Dulai PS et al., 2020) and separates likely from unlikely responders."),
        ("albumin", "Baseline albumin is an input of the same tool and marks antibody clearance."),
        ("disease_duration", "Disease duration (≥ 2 years favourable) is an input of the same tool; it comes from "
                             "the diagnosis date."),
    ),
    RA: (
        ("tender_joint_count_28", "Baseline disease activity (DAS28) sets the room for a EULAR good response."),
        ("swollen_joint_count_28", "Baseline disease activity (DAS28) sets the room for a EULAR good response."),
        ("anti_ccp_positive", "Seropositivity favours B-cell depletion (rituximab) and abatacept over other "
                              "classes."),
    ),
    MS: (
        ("ms_course", "Relapsing or progressive course decides which drugs can act at all (and their licences)."),
        ("edss", "Disability (EDSS) changes the chance of no evidence of disease activity and the licensed options."),
        ("relapses_12m", "Recent relapses define highly active disease and the expected benefit of high-efficacy "
                         "drugs."),
    ),
}
