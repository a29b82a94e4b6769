"""The patient's history: the candidate drug's own record (hypersensitivity, adverse events, primary
non-response), malignancy, demyelination, thrombosis and cardiovascular risk (EMA 2023 measures for JAK
inhibitors), depression, CYP2C9 genotype."""

from __future__ import annotations

from recommendations.conditions import AllOf, AnyOf, Cond, Recorded
from recommendations.record_conditions import History
from recommendations.smpc.base import CAUTION, CHECK, CONTRAINDICATED, NOT_RECOMMENDED, Rule, project_rule
from recommendations.smpc.documents import (
    ADALIMUMAB, CERTOLIZUMAB, CLADRIBINE, DIMETHYL_FUMARATE, DIROXIMEL_FUMARATE, ETANERCEPT, ETRASIMOD, FINGOLIMOD, GOLIMUMAB, INFLIXIMAB,
    INTERFERON_B1A, INTERFERON_B1B, JAK, MIRIKIZUMAB, NATALIZUMAB, OCRELIZUMAB, OFATUMUMAB, OZANIMOD,
    PEGINTERFERON_B1A, PONESIMOD, SIPONIMOD, UBLITUXIMAB, USTEKINUMAB, N, P, V, sources,
)
from recommendations.smpc.indications import LICENSED_ATC

# Every candidate's SmPC section 4.3 opens with hypersensitivity to the active substance or an excipient.
_HYPERSENSITIVITY = sources("4.3", *[V(atc, "RX-OMVOH") if atc == MIRIKIZUMAB else N(atc)
                                     for atc in sorted(LICENSED_ATC)])
# The SmPCs stop treatment that has not worked by the end of induction (section 4.2); re-treatment after primary
# non-response is not expected to work.
_STOP_RULE = sources("4.2", *[N(atc) for atc in sorted(LICENSED_ATC)])
_EMA_JAK = sources("4.4", *[V(atc, "AIFA-JAK-2023") for atc in JAK])
_JAK_NOTE = "only if no suitable alternative (EMA measures for JAK inhibitors, 2023)"

RULES = (
    Rule("hypersensitivity", "hypersensitivity", CONTRAINDICATED,
         "{drug} was stopped for a hypersensitivity reaction: hypersensitivity to the active substance is a "
         "contraindication.",
         History("hypersensitivity", "a line of this drug stopped for a hypersensitivity reaction"), _HYPERSENSITIVITY,
         supersedes=("prior_adverse_event",)),
    Rule("prior_adverse_event", "adverse events", CAUTION,
         "{drug} was stopped for an adverse event before: review what it was before re-starting.",
         History("adverse_event", "a line of this drug stopped for an adverse event"),
         {atc: project_rule("the adverse event recorded when this drug was stopped is shown before re-treatment")
          for atc in _HYPERSENSITIVITY}),
    Rule("primary_non_response", "response", NOT_RECOMMENDED,
         "Primary non-response to {drug} before: re-treatment is not expected to work; the SmPC stops treatment "
         "that has not worked by the end of induction.",
         History("primary_non_response", "a line of this drug stopped for primary non-response"), _STOP_RULE),
    # --- malignancy ---
    Rule("malignancy_active", "malignancy", CONTRAINDICATED,
         "Active malignancy: {drug} is contraindicated{note}.",
         Cond("malignancy_active", "eq", True),
         sources("4.3", P(FINGOLIMOD, "an older copy of the Gilenya EU SmPC 4.3 (120ty)"),
                 P(OZANIMOD, "ZEPOSIA-UK-INIT"), V(SIPONIMOD, "CH-MAYZENT"), V(PONESIMOD, "RX-PONVORY"),
                 P(ETRASIMOD, "the Canadian Velsipity leaflet and US label (same items)"),
                 N(NATALIZUMAB, note=" (cutaneous basal cell carcinoma excepted)"), N(OCRELIZUMAB),
                 V(OFATUMUMAB, "RX-KESIMPTA"), V(UBLITUXIMAB, "RX-BRIUMVI"), V(CLADRIBINE, "MIMS-SG-MAVENCLAD")),
         why="an active malignancy contraindicates {drug}"),
    Rule("malignancy_history", "malignancy", CAUTION,
         "History of malignancy: weigh {drug} with care{note}.",
         Cond("malignancy_history", "eq", True),
         {**sources("4.4", V(INFLIXIMAB, "MSD-UK-REMICADE"), N(ADALIMUMAB), V(GOLIMUMAB, "MSD-UK-SIMPONI"),
                    N(USTEKINUMAB)),
          **sources("4.4", *[V(atc, "AIFA-JAK-2023", note=f", {_JAK_NOTE}") for atc in JAK])},
         why="a history of malignancy calls for caution with {drug}"),
    Rule("demyelination", "demyelination", CAUTION,
         "History of demyelinating disease: anti-TNF agents can cause or worsen demyelination; the SmPC asks for a "
         "careful benefit–risk decision (the ACR 2021 RA guideline advises another class).",
         Cond("demyelinating_history", "eq", True),
         sources("4.4", N(INFLIXIMAB), N(ADALIMUMAB), N(GOLIMUMAB), P(ETANERCEPT, "FDLIST-ENBREL"),
                 N(CERTOLIZUMAB)),
         why="a history of demyelinating disease calls for caution with {drug}"),
    # --- EMA 2023 measures for JAK inhibitors (each JAK SmPC section 4.4) ---
    Rule("jak_age", "cardiovascular and malignancy risk", CAUTION,
         f"Age 65 or older: {{drug}} {_JAK_NOTE} (infections, cardiovascular events, malignancy).",
         Cond("age", "ge", 65), _EMA_JAK, why="age decides how {drug} may be used"),
    Rule("jak_cardiovascular", "cardiovascular and malignancy risk", CAUTION,
         f"History of atherosclerotic cardiovascular disease: {{drug}} {_JAK_NOTE} (major cardiovascular events).",
         Cond("arterial_disease_history", "eq", True), _EMA_JAK,
         why="a history of atherosclerotic cardiovascular disease restricts {drug}"),
    Rule("jak_current_smoker", "cardiovascular and malignancy risk", CAUTION,
         f"Current smoker: {{drug}} {_JAK_NOTE} (cardiovascular events, malignancy).",
         Cond("smoking_status", "eq", "current"), _EMA_JAK, why="smoking restricts {drug}"),
    Rule("jak_long_time_smoker", "cardiovascular and malignancy risk", CAUTION,
         f"Former long-time smoker (10 pack-years or more; the cut-off is the project's, EMA gives none): {{drug}} "
         f"{_JAK_NOTE}.",
         AllOf(Cond("smoking_status", "eq", "former"), Cond("smoking_pack_years", "ge", 10)), _EMA_JAK,
         why="a long smoking history restricts {drug}"),
    Rule("jak_vte", "thrombosis", CAUTION,
         "History of venous thromboembolism: {drug} raises the risk of VTE; use with caution.",
         Cond("vte_history", "eq", True), _EMA_JAK, why="a history of VTE calls for caution with {drug}"),
    # --- other ---
    Rule("severe_depression", "depression", CONTRAINDICATED,
         "Current severe depression or suicidal ideation: {drug} is contraindicated.",
         Cond("severe_depression", "eq", True),
         sources("4.3", N(INTERFERON_B1A), N(PEGINTERFERON_B1A), N(INTERFERON_B1B)),
         why="severe depression or suicidal ideation contraindicates {drug}"),
    Rule("cyp2c9_poor_metaboliser", "genotype", CONTRAINDICATED,
         "CYP2C9*3/*3 genotype (poor metaboliser): {drug} is contraindicated.",
         Cond("cyp2c9_genotype", "eq", "*3/*3"), sources("4.3", V(SIPONIMOD, "CH-MAYZENT")),
         why="the CYP2C9 genotype decides whether and at what dose {drug} is given"),
    Rule("baseline_mri", "PML", CHECK,
         "A baseline MRI (usually within 3 months) is required before {drug}, a reference for PML vigilance.",
         AnyOf(Recorded("new_t2_lesions", within_days=90), Recorded("gd_lesions", within_days=90)),
         sources("4.4", V(NATALIZUMAB, "the Tysabri EU SmPC section 4.4 in a copy (120ty)"),
                 V(DIMETHYL_FUMARATE, "MHRA-DMF"), N(DIROXIMEL_FUMARATE), V(CLADRIBINE, "NEUROLTHER-CLAD"))),
    Rule("cyp2c9_genotyping", "genotype", CHECK, "The CYP2C9 genotype is required before {drug} (it sets the dose).",
         Recorded("cyp2c9_genotype"), sources("4.2", V(SIPONIMOD, "MIMS Hong Kong Mayzent dosage"))),
)
