"""Infections and immunity: tuberculosis, hepatitis B and C, HIV, varicella, live vaccines, serious infection,
immunodeficiency, PML (SmPC sections 4.3 and 4.4 of each drug, as the SmPC dossier of 2026 checked them)."""

from __future__ import annotations

from recommendations.conditions import AllOf, AnyOf, Cond, Recorded
from recommendations.smpc.base import CAUTION, CHECK, CONTRAINDICATED, Rule
from recommendations.smpc.documents import (
    ABATACEPT, ADALIMUMAB, ALEMTUZUMAB, BARICITINIB, CERTOLIZUMAB, CLADRIBINE, ETANERCEPT, ETRASIMOD, FILGOTINIB,
    FINGOLIMOD, GOLIMUMAB, GUSELKUMAB, INFLIXIMAB, METHOTREXATE, MIRIKIZUMAB, NATALIZUMAB, OCRELIZUMAB, OFATUMUMAB,
    OZANIMOD, PONESIMOD, RISANKIZUMAB, RITUXIMAB, SARILUMAB, SIPONIMOD, TERIFLUNOMIDE, TOCILIZUMAB, TOFACITINIB,
    UBLITUXIMAB, UPADACITINIB, USTEKINUMAB, VEDOLIZUMAB, N, P, V, sources,
)

# Whose section 4.3 lists active (severe, chronic or opportunistic) infection, tuberculosis included.
_SEVERE_INFECTION = sources(
    "4.3",
    V(INFLIXIMAB, "MSD-UK-REMICADE"), P(ADALIMUMAB, "the Humira EU SmPC section 4.4 in a copy (120ty): not to be "
                                       "initiated in active infection; 4.3 list seen in a Canadian summary"),
    V(GOLIMUMAB, "MSD-UK-SIMPONI"), V(ETANERCEPT, "FDLIST-ENBREL"), N(CERTOLIZUMAB),
    V(VEDOLIZUMAB, "RX-ENTYVIO"), P(USTEKINUMAB, "the Swiss ustekinumab Fachinformation (same wording as EU)"),
    P(RISANKIZUMAB, "the AbbVie Australia datasheet and a UK SmPC excerpt"),
    P(GUSELKUMAB, "the Austrian Tremfya patient leaflet"), V(MIRIKIZUMAB, "RX-OMVOH"),
    V(TOCILIZUMAB, "RX-ROACTEMRA"), V(SARILUMAB, "RX-KEVZARA"), P(ABATACEPT, "CH-ORENCIA-PIL"),
    V(RITUXIMAB, "IT-RITUXIMAB"),
    P(TOFACITINIB, "the Swiss Xeljanz Fachinformation: not to be given in active infection"),
    V(BARICITINIB, "MIMS-OLUMIANT", section="4.4"), P(UPADACITINIB, "MIMS-RINVOQ"),
    V(FILGOTINIB, "MIMS-SG-JYSELECA"),
    P(FINGOLIMOD, "an older copy of the Gilenya EU SmPC 4.3 (120ty)"), P(OZANIMOD, "ZEPOSIA-UK-INIT"),
    V(PONESIMOD, "RX-PONVORY"), P(ETRASIMOD, "the Canadian Velsipity leaflet and US label (same items)"),
    N(OCRELIZUMAB), V(OFATUMUMAB, "RX-KESIMPTA"), V(UBLITUXIMAB, "RX-BRIUMVI"), N(ALEMTUZUMAB),
    V(CLADRIBINE, "MIMS-SG-MAVENCLAD"), V(TERIFLUNOMIDE, "RX-AUBAGIO"), V(METHOTREXATE, "RX-JYLAMVO"),
)

# Whose section 4.4 asks for tuberculosis screening before starting (and latent TB treated first).
_TB_SCREENING = sources(
    "4.4",
    V(INFLIXIMAB, "MSD-UK-REMICADE"), P(ADALIMUMAB, "the Humira EU SmPC section 4.4 in a copy (120ty)"),
    V(GOLIMUMAB, "MSD-UK-SIMPONI"), V(ETANERCEPT, "FDLIST-ENBREL"), N(CERTOLIZUMAB),
    V(VEDOLIZUMAB, "RX-ENTYVIO"), N(USTEKINUMAB), P(RISANKIZUMAB, "the US label (EU wording not seen)"),
    N(GUSELKUMAB), V(MIRIKIZUMAB, "RX-OMVOH"),
    V(TOCILIZUMAB, "the RoActemra EU SmPC section 4.4 in a copy (120ty)"),
    P(SARILUMAB, "the US label (EU wording not seen)"), N(ABATACEPT),
    P(TOFACITINIB, "the Canadian Xeljanz monograph"), P(BARICITINIB, "MIMS-OLUMIANT"),
    P(UPADACITINIB, "MIMS-RINVOQ"), P(FILGOTINIB, "MIMS-SG-JYSELECA"),
    V(CLADRIBINE, "NEUROLTHER-CLAD"), N(ALEMTUZUMAB),
)

_HBV_SCREENING = sources(
    "4.4",
    V(INFLIXIMAB, "MSD-UK-REMICADE"), N(ADALIMUMAB), V(GOLIMUMAB, "MSD-UK-SIMPONI"),
    P(ETANERCEPT, "MIMS Singapore Enbrel (patients at risk of HBV)"), N(CERTOLIZUMAB), N(ABATACEPT),
    P(RITUXIMAB, "NHS Highland rituximab guideline and the Saudi MabThera SmPC"),
    P(OCRELIZUMAB, "the US label (EU wording not seen)"), P(OFATUMUMAB, "the US label (EU wording not seen)"),
    P(UBLITUXIMAB, "the US label (EU wording not seen)"), N(ALEMTUZUMAB, note="patients at risk"),
)
# JAK inhibitors and cladribine: screening for viral hepatitis, C included.
_HEPATITIS_SCREENING = sources(
    "4.4",
    P(TOFACITINIB, "MIMS-OLUMIANT"), P(BARICITINIB, "MIMS-OLUMIANT"), P(UPADACITINIB, "MIMS-RINVOQ"),
    P(FILGOTINIB, "MIMS-SG-JYSELECA"), V(CLADRIBINE, "NEUROLTHER-CLAD"),
)

_LIVE_VACCINE = sources(
    "4.4",
    V(INFLIXIMAB, "MSD-UK-REMICADE", section="4.4/4.5"), N(ADALIMUMAB), V(GOLIMUMAB, "MSD-UK-SIMPONI"),
    N(ETANERCEPT), N(CERTOLIZUMAB), N(VEDOLIZUMAB), N(USTEKINUMAB),
    V(RISANKIZUMAB, "a UK Skyrizi SmPC excerpt (2020)"), P(GUSELKUMAB, "Tremfya UK patient FAQ quoting the SmPC"),
    N(MIRIKIZUMAB), N(TOCILIZUMAB), N(SARILUMAB), N(ABATACEPT, section="4.4/4.5"), N(RITUXIMAB),
    P(TOFACITINIB, "MIMS-OLUMIANT"), P(BARICITINIB, "MIMS-OLUMIANT"), P(UPADACITINIB, "MIMS-RINVOQ"),
    P(FILGOTINIB, "MIMS-SG-JYSELECA"),
    V(FINGOLIMOD, "ZEPOSIA-UK-INIT", note="at least 1 month before starting"),
    V(OZANIMOD, "ZEPOSIA-UK-INIT", note="at least 1 month before starting"),
    V(SIPONIMOD, "ZEPOSIA-UK-INIT", note="at least 1 month before starting"),
    V(PONESIMOD, "ZEPOSIA-UK-INIT", note="at least 1 month before starting"),
    V(ETRASIMOD, "ZEPOSIA-UK-INIT", note="at least 1 month before starting"),
    P(OCRELIZUMAB, "KKNMS guidance", note="at least 6 weeks before starting"),
    P(OFATUMUMAB, "the Briumvi US label", note="at least 4 weeks before starting"),
    P(UBLITUXIMAB, "the Briumvi US label", note="at least 4 weeks before starting"),
    N(ALEMTUZUMAB, note="at least 6 weeks before starting"),
    V(CLADRIBINE, "NEUROLTHER-CLAD", note="not within 4 to 6 weeks before starting"),
)

_IMMUNODEFICIENCY = sources(
    "4.3",
    P(FINGOLIMOD, "an older copy of the Gilenya EU SmPC 4.3 (120ty)"), P(OZANIMOD, "ZEPOSIA-UK-INIT"),
    V(SIPONIMOD, "CH-MAYZENT"), V(PONESIMOD, "RX-PONVORY"),
    P(ETRASIMOD, "the Canadian Velsipity leaflet and US label (same items)"),
    N(NATALIZUMAB), N(OCRELIZUMAB), V(OFATUMUMAB, "RX-KESIMPTA"), V(UBLITUXIMAB, "RX-BRIUMVI"),
    V(RITUXIMAB, "IT-RITUXIMAB"), V(CLADRIBINE, "MIMS-SG-MAVENCLAD"), V(TERIFLUNOMIDE, "RX-AUBAGIO"),
    V(METHOTREXATE, "RX-JYLAMVO"),
)

_VZV_SCREENING = sources(
    "4.4",
    V(FINGOLIMOD, "ZEPOSIA-UK-INIT", note="vaccinate antibody-negative patients and start 1 month later"),
    V(OZANIMOD, "ZEPOSIA-UK-INIT", note="vaccinate antibody-negative patients and start 1 month later"),
    V(SIPONIMOD, "ZEPOSIA-UK-INIT", note="vaccinate antibody-negative patients and start 1 month later"),
    V(PONESIMOD, "ZEPOSIA-UK-INIT", note="vaccinate antibody-negative patients and start 1 month later"),
    V(ETRASIMOD, "ZEPOSIA-UK-INIT", note="vaccinate antibody-negative patients and start 1 month later"),
    V(CLADRIBINE, "NEUROLTHER-CLAD", note="vaccinate antibody-negative patients before starting"),
    N(ALEMTUZUMAB, note="vaccinate antibody-negative patients at least 6 weeks before starting"),
)

POSITIVE = "positive"
HBV_MARKER = AnyOf(Cond("hbsag", "eq", POSITIVE), Cond("anti_hbc", "eq", POSITIVE))

RULES = (
    Rule("active_tuberculosis", "tuberculosis", CONTRAINDICATED,
         "Active tuberculosis: {drug} must not be started.",
         Cond("tuberculosis_status", "eq", "active"), _SEVERE_INFECTION,
         why="active tuberculosis contraindicates {drug}"),
    Rule("latent_tuberculosis_untreated", "tuberculosis", CONTRAINDICATED,
         "Latent tuberculosis not yet treated: start TB prophylaxis before {drug}.",
         Cond("tuberculosis_status", "eq", "latent_untreated"), _TB_SCREENING,
         why="latent tuberculosis must be treated before {drug}"),
    Rule("tuberculosis_screening", "tuberculosis", CHECK, "TB screening (IGRA or TST) is required before {drug}.",
         Recorded("tuberculosis_status"), _TB_SCREENING),
    Rule("serious_infection", "serious infection", CONTRAINDICATED,
         "Active serious infection (sepsis, abscess, opportunistic or uncontrolled chronic infection): do not start "
         "{drug} until it is controlled.",
         Cond("serious_infection_active", "eq", True), _SEVERE_INFECTION,
         why="an active serious infection contraindicates {drug}"),
    Rule("serious_infection_delay", "serious infection", CAUTION,
         "Active serious infection: delay the start of {drug} until it has resolved.",
         Cond("serious_infection_active", "eq", True),
         sources("4.4", P(SIPONIMOD, "the US label (EU section 4.4 wording not seen)")),
         why="an active serious infection delays {drug}"),
    Rule("hepatitis_b_screening", "hepatitis B", CHECK, "Hepatitis B screening is required before {drug}.",
         AllOf(Recorded("hbsag"), Recorded("anti_hbc")), {**_HBV_SCREENING, **_HEPATITIS_SCREENING}),
    Rule("hepatitis_screening", "hepatitis C", CHECK, "Hepatitis C screening is required before {drug}.",
         Recorded("hcv_antibody"), _HEPATITIS_SCREENING),
    Rule("hepatitis_b_active", "hepatitis B", CONTRAINDICATED,
         "HBsAg positive (active hepatitis B): {drug} must not be started; refer to a hepatologist.",
         Cond("hbsag", "eq", POSITIVE),
         sources("4.4", P(OCRELIZUMAB, "the US label; EU: should not be treated", section="4.4"),
                 P(OFATUMUMAB, "the US label; EU: should not be treated"),
                 P(UBLITUXIMAB, "the US label; EU: should not be treated"), N(RITUXIMAB),
                 V(CLADRIBINE, "MIMS-SG-MAVENCLAD", section="4.3")),
         why="active hepatitis B contraindicates {drug}"),
    Rule("hepatitis_b_past_infection", "hepatitis B", CAUTION,
         "Anti-HBc positive with HBsAg negative (past hepatitis B): consult a liver specialist before {drug} and "
         "monitor for reactivation.",
         AllOf(Cond("anti_hbc", "eq", POSITIVE), Cond("hbsag", "eq", "negative")),
         sources("4.4", P(OCRELIZUMAB, "the US labels of anti-CD20 antibodies"),
                 P(OFATUMUMAB, "the US labels of anti-CD20 antibodies"),
                 P(UBLITUXIMAB, "the US labels of anti-CD20 antibodies"), N(RITUXIMAB)),
         why="past hepatitis B can reactivate under {drug}"),
    Rule("hepatitis_b_carrier", "hepatitis B", CAUTION,
         "Hepatitis B marker positive (HBsAg or anti-HBc): consult a liver specialist before {drug} and monitor for "
         "reactivation.",
         HBV_MARKER,
         sources("4.4", N(INFLIXIMAB), N(ADALIMUMAB), N(GOLIMUMAB), N(ETANERCEPT), N(CERTOLIZUMAB), N(ABATACEPT),
                 V(TOCILIZUMAB, "the RoActemra EU SmPC section 4.4 in a copy (120ty)"),
                 P(TOFACITINIB, "MIMS-OLUMIANT"), P(BARICITINIB, "MIMS-OLUMIANT"),
                 P(UPADACITINIB, "MIMS-RINVOQ"), P(FILGOTINIB, "MIMS-SG-JYSELECA"), N(ALEMTUZUMAB)),
         why="hepatitis B can reactivate under {drug}"),
    Rule("hepatitis_c_positive", "hepatitis C", CAUTION,
         "Hepatitis C antibody positive: exclude active hepatitis C (HCV RNA) before {drug}; active chronic infection "
         "is a contraindication.",
         Cond("hcv_antibody", "eq", POSITIVE), sources("4.3", V(CLADRIBINE, "MIMS-SG-MAVENCLAD")),
         why="active hepatitis C contraindicates {drug}"),
    Rule("hiv_infection", "HIV", CONTRAINDICATED, "HIV infection: {drug} is contraindicated.",
         Cond("hiv_status", "eq", POSITIVE),
         sources("4.3", V(CLADRIBINE, "MIMS-SG-MAVENCLAD"), V(ALEMTUZUMAB, "GALEN-LEMTRADA"),
                 V(METHOTREXATE, "RX-JYLAMVO")),
         why="HIV infection contraindicates {drug}"),
    Rule("hiv_screening", "HIV", CHECK, "An HIV test is required before {drug}.", Recorded("hiv_status"),
         sources("4.4", V(CLADRIBINE, "NEUROLTHER-CLAD"))),
    Rule("immunodeficiency", "immunodeficiency", CONTRAINDICATED,
         "Immunodeficiency or severely immunocompromised: {drug} is contraindicated.",
         Cond("immunodeficiency", "eq", True), _IMMUNODEFICIENCY,
         why="immunodeficiency contraindicates {drug}"),
    Rule("varicella_screening", "varicella", CHECK, "Varicella zoster antibodies are required before {drug}.",
         Recorded("vzv_igg"), _VZV_SCREENING),
    Rule("varicella_non_immune", "varicella", CAUTION,
         "Not immune to varicella: {note}.",
         Cond("vzv_igg", "eq", "negative"), _VZV_SCREENING,
         why="varicella immunity decides whether to vaccinate before {drug}"),
    Rule("live_vaccine", "live vaccines", CAUTION,
         "Live attenuated vaccine planned or recent: live vaccines are not given with {drug} (give them {note}).",
         Cond("live_vaccine", "in", ("planned", "recent")),
         {k: v for k, v in _LIVE_VACCINE.items() if k != CLADRIBINE},
         why="live vaccines must not be given with {drug}"),
    Rule("live_vaccine_cladribine", "live vaccines", CONTRAINDICATED,
         "Live attenuated vaccine in the last 6 weeks: {drug} must not be started within 4 to 6 weeks of it.",
         Cond("live_vaccine", "eq", "recent"), {CLADRIBINE: _LIVE_VACCINE[CLADRIBINE]},
         why="a recent live vaccine delays {drug}"),
    Rule("live_vaccine_planned_cladribine", "live vaccines", CAUTION,
         "Live attenuated vaccine planned: give it at least 4 to 6 weeks before {drug}, not during treatment.",
         Cond("live_vaccine", "eq", "planned"), {CLADRIBINE: _LIVE_VACCINE[CLADRIBINE]},
         why="live vaccines must not be given with {drug}"),
    Rule("live_vaccine_methotrexate", "live vaccines", CONTRAINDICATED,
         "Live vaccine planned or recent: concurrent vaccination with live vaccines is contraindicated with {drug}.",
         Cond("live_vaccine", "in", ("planned", "recent")), sources("4.3", V(METHOTREXATE, "RX-JYLAMVO")),
         why="live vaccines are contraindicated with {drug}"),
    Rule("jcv_screening", "PML", CHECK, "Anti-JCV antibody status is required before {drug} (re-test every 6 "
                                        "months).",
         Recorded("jcv_antibody_positive"), sources("4.4", V(NATALIZUMAB, "MIMS-SG-TYSABRI"))),
    Rule("natalizumab_jcv_high", "PML", CAUTION,
         "JCV antibody index above 1.5: the risk of progressive multifocal leukoencephalopathy (PML) on {drug} is "
         "markedly higher; consider another high-efficacy therapy.",
         AllOf(Cond("jcv_antibody_positive", "eq", True), Cond("jcv_index", "gt", 1.5)),
         sources("4.4", P(NATALIZUMAB, "MIMS-SG-TYSABRI: 'high anti-JCV antibody index'; the 1.5 cut-off not seen")),
         why="the JCV index grades the PML risk of {drug}", supersedes=("natalizumab_jcv_positive",)),
    Rule("natalizumab_jcv_positive", "PML", CAUTION,
         "JCV antibody positive: {drug} carries a risk of PML; monitor with MRI and re-test the index.",
         Cond("jcv_antibody_positive", "eq", True), sources("4.4", V(NATALIZUMAB, "MIMS-SG-TYSABRI")),
         why="JCV antibody status decides the PML risk of {drug}"),
)
