"""Licensed indications (EU SmPC section 4.1), keyed by ATC code: disease, and for MS the course and activity a
licence covers; lines of therapy where the licence restricts them and the record can tell.

A row is licensed for the patient when all its requirements hold (three-valued: recommendations.conditions).
MS activity follows Lublin FD et al., Neurology 2014;83:278–286: "active" is a relapse or new MRI activity
(gadolinium-enhancing, new or enlarging T2 lesions) within about a year; "highly active" follows the 4.1 wording
of natalizumab, fingolimod and alemtuzumab (active despite a full and adequate course of a disease-modifying
therapy, or rapidly evolving severe: two or more relapses in a year with MRI activity), with section 5.1's
definitions where the record can read them and a clinician's judgement where it cannot (total T2 lesion count).

IBD lines are not checked: every advanced IBD licence is "after conventional therapy (or a biologic) failed, was not
tolerated or is contraindicated", conventional therapy is rarely in the record, and the line would not tell one
candidate from another. The line is shown with the indication.
"""

from __future__ import annotations

from dataclasses import dataclass

from patients.dictionary import CD, MS, RA, UC
from recommendations.conditions import AllOf, AnyOf, Cond, Condition, Judgement
from recommendations.record_conditions import History
from recommendations.smpc.base import Source
from recommendations.smpc.documents import (
    ABATACEPT, ADALIMUMAB, ALEMTUZUMAB, ANTI_TNF, B_TS_DMARD, BARICITINIB, CERTOLIZUMAB, CLADRIBINE,
    CS_DMARD, DIMETHYL_FUMARATE, DIROXIMEL_FUMARATE, ETANERCEPT, ETRASIMOD, FILGOTINIB, FINGOLIMOD, GLATIRAMER,
    GOLIMUMAB, GUSELKUMAB, INFLIXIMAB, INTERFERON_B1A, INTERFERON_B1B, METHOTREXATE, MIRIKIZUMAB, MS_DMT, NATALIZUMAB,
    OCRELIZUMAB, OFATUMUMAB, OZANIMOD, PEGINTERFERON_B1A, PONESIMOD, RISANKIZUMAB, RITUXIMAB, SARILUMAB, SIPONIMOD,
    TERIFLUNOMIDE, TOCILIZUMAB, TOFACITINIB, UBLITUXIMAB, UPADACITINIB, USTEKINUMAB, VEDOLIZUMAB, N, P, V, sources,
)


@dataclass(frozen=True)
class Requirement:
    """One condition of a licence, and the patient's situation in words when it does not hold."""

    when: Condition
    unmet: str  # "{ms_course}" names the patient's MS course


@dataclass(frozen=True)
class Indication:
    atc: str
    disease: str
    label: str  # what the licence covers, in a clinician's words
    source: Source
    requires: tuple[Requirement, ...] = ()
    line: str = ""  # the line of therapy the 4.1 wording names
    combination: str = ""
    line_checked: bool = False  # whether `requires` reads the line of therapy from the therapy record


def _row(atc: str, disease: str, label: str, item: tuple, *requires: Requirement, line: str = "",
         combination: str = "", line_checked: bool = False) -> Indication:
    return Indication(atc, disease, label, sources("4.1", item)[atc], tuple(requires), line, combination,
                      line_checked)


# --- multiple sclerosis ---------------------------------------------------------------------------------------
def _course(*courses: str) -> Requirement:
    return Requirement(Cond("ms_course", "in", courses), "{ms_course} MS")


RELAPSE = Cond("relapses_12m", "ge", 1)
MRI_ACTIVE = AnyOf(Cond("gd_lesions", "ge", 1), Cond("new_t2_lesions", "ge", 1))
ACTIVE = Requirement(AnyOf(RELAPSE, MRI_ACTIVE), "{ms_course} MS without a relapse or new MRI activity in the "
                                                 "last 12 months")
SPMS_RELAPSING = Requirement(
    AnyOf(RELAPSE, Judgement(MRI_ACTIVE, "whether SPMS with MRI activity but no relapse is a relapsing form")),
    "secondary progressive MS without relapses")
T2_JUDGEMENT = Judgement(Cond("gd_lesions", "eq", 0), "at least 9 T2 lesions on MRI, or a relapse rate not lower "
                                                      "than the year before (not recorded)")
PRIOR_DMT_YEAR = History("taken_for_days", "a full and adequate course (about a year) of a disease-modifying therapy",
                         atcs=frozenset(MS_DMT), days=365)
PRIOR_DMT = History("taken", "a disease-modifying therapy before", atcs=frozenset(MS_DMT))
RAPIDLY_EVOLVING = AllOf(Cond("relapses_12m", "ge", 2), MRI_ACTIVE)
HIGHLY_ACTIVE = Requirement(
    AnyOf(RAPIDLY_EVOLVING,
          AllOf(PRIOR_DMT_YEAR, RELAPSE, AnyOf(Cond("gd_lesions", "ge", 1), T2_JUDGEMENT))),
    "{ms_course} MS that is not highly active (neither active despite a full course of a disease-modifying therapy "
    "nor rapidly evolving severe)")
CLADRIBINE_HIGHLY_ACTIVE = Requirement(
    AnyOf(Cond("relapses_12m", "ge", 2), AllOf(PRIOR_DMT, RELAPSE, AnyOf(Cond("gd_lesions", "ge", 1), T2_JUDGEMENT))),
    "{ms_course} MS that is not highly active (section 5.1: two relapses in the last year, or one relapse on a "
    "disease-modifying therapy with MRI activity)")
EARLY_PPMS = Requirement(
    AnyOf(AllOf(Cond("edss", "le", 5.0), Cond("disease_duration", "lt", 10)),
          AllOf(Cond("edss", "gt", 5.0), Cond("edss", "le", 6.5), Cond("disease_duration", "lt", 15))),
    "primary progressive MS that is not early (ORATORIO: EDSS up to 6.5, disease duration under 10 years at EDSS "
    "up to 5.0 or under 15 years above it)")
PPMS_INFLAMMATORY = Requirement(MRI_ACTIVE, "primary progressive MS without inflammatory activity on MRI")
RRMS, SPMS, PPMS = "RRMS", "SPMS", "PPMS"


def _rms(atc: str, item: tuple) -> tuple[Indication, ...]:
    """EU 'relapsing forms of MS with active disease defined by clinical or imaging features'."""
    return (_row(atc, MS, "relapsing-remitting MS with active disease", item, _course(RRMS), ACTIVE),
            _row(atc, MS, "secondary progressive MS with relapses", item, _course(SPMS), SPMS_RELAPSING))


MS_ROWS = (
    *_rms(OCRELIZUMAB, V(OCRELIZUMAB, "EMC-OCREVUS")),
    _row(OCRELIZUMAB, MS, "early primary progressive MS with inflammatory activity on MRI",
         V(OCRELIZUMAB, "EMC-OCREVUS; 'early' read with the ORATORIO inclusion criteria of section 5.1 (not verified)"),
         _course(PPMS), EARLY_PPMS, PPMS_INFLAMMATORY),
    *_rms(OFATUMUMAB, V(OFATUMUMAB, "EMC-KESIMPTA")),
    *_rms(UBLITUXIMAB, V(UBLITUXIMAB, "EMC-BRIUMVI")),
    *_rms(PONESIMOD, P(PONESIMOD, "a copy of the UK Ponvory SmPC 4.1")),
    _row(OZANIMOD, MS, "relapsing-remitting MS with active disease", V(OZANIMOD, "DOCSLIB-ZEPOSIA"),
         _course(RRMS), ACTIVE),
    _row(SIPONIMOD, MS, "secondary progressive MS with active disease (relapses or MRI activity)",
         V(SIPONIMOD, "EMC-MAYZENT"), _course(SPMS), ACTIVE),
    _row(FINGOLIMOD, MS, "highly active relapsing-remitting MS", V(FINGOLIMOD, "VDOC-FINGOLIMOD"),
         _course(RRMS), HIGHLY_ACTIVE, line="after a full course of a disease-modifying therapy, or first line when "
                                             "rapidly evolving severe", line_checked=True),
    _row(NATALIZUMAB, MS, "highly active relapsing-remitting MS", V(NATALIZUMAB, "DOCSLIB-TYSABRI"),
         _course(RRMS), HIGHLY_ACTIVE, line="after a full course of a disease-modifying therapy, or first line when "
                                             "rapidly evolving severe", line_checked=True),
    _row(ALEMTUZUMAB, MS, "highly active relapsing-remitting MS", V(ALEMTUZUMAB, "DOCSLIB-LEMTRADA"),
         _course(RRMS), HIGHLY_ACTIVE, line="after a full course of a disease-modifying therapy, or first line when "
                                             "rapidly evolving severe", line_checked=True),
    _row(CLADRIBINE, MS, "highly active relapsing-remitting MS", V(CLADRIBINE, "MERCK-UK-MAVENCLAD"),
         _course(RRMS), CLADRIBINE_HIGHLY_ACTIVE, line_checked=True),
    _row(CLADRIBINE, MS, "highly active secondary progressive MS with relapses", V(CLADRIBINE, "MERCK-UK-MAVENCLAD"),
         _course(SPMS), Requirement(RELAPSE, "secondary progressive MS without relapses"), CLADRIBINE_HIGHLY_ACTIVE,
         line_checked=True),
    _row(TERIFLUNOMIDE, MS, "relapsing-remitting MS", V(TERIFLUNOMIDE, "PATIENTINFO-AUBAGIO"), _course(RRMS)),
    _row(DIMETHYL_FUMARATE, MS, "relapsing-remitting MS", N(DIMETHYL_FUMARATE), _course(RRMS)),
    _row(DIROXIMEL_FUMARATE, MS, "relapsing-remitting MS", N(DIROXIMEL_FUMARATE), _course(RRMS)),
    _row(PEGINTERFERON_B1A, MS, "relapsing-remitting MS", N(PEGINTERFERON_B1A), _course(RRMS)),
    _row(INTERFERON_B1A, MS, "relapsing MS", V(INTERFERON_B1A, "NICE-TA527 and MIMS-SG-REBIF"), _course(RRMS)),
    _row(INTERFERON_B1A, MS, "secondary progressive MS with relapses", V(INTERFERON_B1A, "NICE-TA527 and "
                                                                                        "MIMS-SG-REBIF"),
         _course(SPMS), Requirement(RELAPSE, "secondary progressive MS without relapses")),
    _row(INTERFERON_B1B, MS, "relapsing-remitting MS", P(INTERFERON_B1B, "the Betaferon patient leaflet (120ty)"),
         _course(RRMS)),
    _row(INTERFERON_B1B, MS, "secondary progressive MS with active disease evidenced by relapses",
         P(INTERFERON_B1B, "the Betaferon patient leaflet (120ty)"),
         _course(SPMS), Requirement(RELAPSE, "secondary progressive MS without relapses")),
    _row(GLATIRAMER, MS, "relapsing forms of MS (not primary or secondary progressive MS)",
         V(GLATIRAMER, "PL-COPAXONE"), _course(RRMS)),
)

# --- IBD (line not checked, see the module docstring) and RA ----------------------------------------------------
AFTER_CONVENTIONAL = "after conventional therapy (a corticosteroid and/or an immunosuppressant) failed, was not " \
                     "tolerated or is contraindicated"
AFTER_CONVENTIONAL_OR_BIOLOGIC = "after inadequate response, loss of response or intolerance to conventional " \
                                 "therapy or a biologic"
MODERATE_SEVERE = "moderately to severely active"


def _ibd(atc: str, item: tuple, diseases: tuple[str, ...], line: str) -> tuple[Indication, ...]:
    names = {CD: "Crohn's disease", UC: "ulcerative colitis"}
    return tuple(_row(atc, d, f"{MODERATE_SEVERE} {names[d]}", item, line=line) for d in diseases)


PRIOR_TNF = Requirement(History("taken", "a TNF inhibitor before", atcs=frozenset(ANTI_TNF)),
                        "rheumatoid arthritis without a prior TNF inhibitor")
PRIOR_DMARD = Requirement(History("taken", "a DMARD before", atcs=frozenset(CS_DMARD + B_TS_DMARD)),
                          "rheumatoid arthritis without a prior DMARD")
AFTER_DMARD_OR_SEVERE = "after DMARDs including methotrexate, or severe, active and progressive RA not treated " \
                        "with methotrexate"
RA_ROWS = (
    _row(INFLIXIMAB, RA, "active rheumatoid arthritis, with methotrexate", V(INFLIXIMAB, "THEODORA-REMICADE"),
         line=AFTER_DMARD_OR_SEVERE, combination="with methotrexate (no monotherapy licence)"),
    _row(ADALIMUMAB, RA, "moderate to severe active rheumatoid arthritis", V(ADALIMUMAB, "ABBVIE-UK-HUMIRA and the "
                                                                                      "EU Hulio SmPC"),
         line=AFTER_DMARD_OR_SEVERE, combination="with methotrexate; alone if methotrexate is not tolerated"),
    _row(GOLIMUMAB, RA, "moderate to severe active rheumatoid arthritis, with methotrexate",
         V(GOLIMUMAB, "HEALTHDOCBOX-SIMPONI"), line=AFTER_DMARD_OR_SEVERE,
         combination="with methotrexate (no monotherapy licence)"),
    _row(ETANERCEPT, RA, "moderate to severe active rheumatoid arthritis",
         P(ETANERCEPT, "a copy of the Enbrel patient leaflet"), line=AFTER_DMARD_OR_SEVERE,
         combination="with methotrexate; alone if methotrexate is not tolerated"),
    _row(CERTOLIZUMAB, RA, "moderate to severe active rheumatoid arthritis",
         P(CERTOLIZUMAB, "a copy of the Cimzia patient leaflet"), line=AFTER_DMARD_OR_SEVERE,
         combination="with methotrexate; alone if methotrexate is not tolerated"),
    _row(TOCILIZUMAB, RA, "moderate to severe active rheumatoid arthritis",
         V(TOCILIZUMAB, "the Medscape UK tocilizumab monograph"),
         line="after one or more DMARDs or TNF inhibitors, or severe, active and progressive RA not treated with "
              "methotrexate", combination="with methotrexate; alone if methotrexate is not tolerated"),
    _row(SARILUMAB, RA, "moderately to severely active rheumatoid arthritis after one or more DMARDs",
         V(SARILUMAB, "RX-KEVZARA"), PRIOR_DMARD, line="after inadequate response or intolerance to one or more DMARDs",
         combination="with methotrexate; alone if methotrexate is not tolerated", line_checked=True),
    _row(ABATACEPT, RA, "moderate to severe active rheumatoid arthritis, with methotrexate", N(ABATACEPT),
         line="after DMARDs including methotrexate or a TNF inhibitor, or highly active and progressive RA not treated "
              "with methotrexate", combination="with methotrexate"),
    _row(RITUXIMAB, RA, "severe active rheumatoid arthritis after a TNF inhibitor, with methotrexate",
         V(RITUXIMAB, "the German rheumatology society's rituximab recommendation (DGRh)"), PRIOR_TNF,
         line="after inadequate response or intolerance to DMARDs including one or more TNF inhibitors",
         combination="with methotrexate", line_checked=True),
    _row(TOFACITINIB, RA, "moderate to severe active rheumatoid arthritis after one or more DMARDs",
         V(TOFACITINIB, "the Pfizer UK Xeljanz prescribing information"), PRIOR_DMARD,
         line="after inadequate response or intolerance to one or more DMARDs",
         combination="with methotrexate; alone if methotrexate is not tolerated", line_checked=True),
    *[_row(atc, RA, "moderate to severe active rheumatoid arthritis after one or more DMARDs", item, PRIOR_DMARD,
           line="after inadequate response or intolerance to one or more DMARDs",
           combination="alone or with methotrexate", line_checked=True)
      for atc, item in ((BARICITINIB, N(BARICITINIB)), (UPADACITINIB, N(UPADACITINIB)),
                        (FILGOTINIB, V(FILGOTINIB, "RX-JYSELECA")))],
    _row(METHOTREXATE, RA, "active rheumatoid arthritis", V(METHOTREXATE, "NORDIMET"), line="first line"),
)
IBD_ROWS = (
    *_ibd(INFLIXIMAB, P(INFLIXIMAB, "THEODORA-REMICADE (the EPAR summary; 4.1 wording not seen)"), (CD, UC),
          AFTER_CONVENTIONAL),
    *_ibd(ADALIMUMAB, P(ADALIMUMAB, "the EPAR summary of Humira (CD); UC wording not seen"), (CD, UC),
          AFTER_CONVENTIONAL),
    *_ibd(GOLIMUMAB, P(GOLIMUMAB, "MSD UK Simponi lists UC; 4.1 wording not seen"), (UC,), AFTER_CONVENTIONAL),
    *_ibd(VEDOLIZUMAB, V(VEDOLIZUMAB, "ENTYVIO-41"), (CD, UC), "after inadequate response, loss of response or "
                                                               "intolerance to conventional therapy or a TNF-alpha "
                                                               "antagonist"),
    *_ibd(USTEKINUMAB, N(USTEKINUMAB), (CD, UC), "after inadequate response, loss of response or intolerance to "
                                                 "conventional therapy or a TNF-alpha antagonist"),
    *_ibd(RISANKIZUMAB, V(RISANKIZUMAB, "CHMP-SKYRIZI"), (CD, UC), AFTER_CONVENTIONAL_OR_BIOLOGIC),
    *_ibd(GUSELKUMAB, V(GUSELKUMAB, "EC-TREMFYA-IBD"), (CD, UC), AFTER_CONVENTIONAL_OR_BIOLOGIC),
    *_ibd(MIRIKIZUMAB, P(MIRIKIZUMAB, "the EU approval (UC, 2023) and the CHMP opinion for CD (December 2024)"),
          (CD, UC), AFTER_CONVENTIONAL_OR_BIOLOGIC),
    *_ibd(TOFACITINIB, V(TOFACITINIB, "the Pfizer UK Xeljanz prescribing information"), (UC,),
          AFTER_CONVENTIONAL_OR_BIOLOGIC),
    *_ibd(UPADACITINIB, N(UPADACITINIB), (CD, UC), AFTER_CONVENTIONAL_OR_BIOLOGIC),
    *_ibd(FILGOTINIB, V(FILGOTINIB, "RX-JYSELECA"), (UC,), AFTER_CONVENTIONAL_OR_BIOLOGIC),
    *_ibd(OZANIMOD, P(OZANIMOD, "the EU Zeposia patient leaflet (UC); 4.1 line wording not seen"), (UC,),
          AFTER_CONVENTIONAL_OR_BIOLOGIC),
    *_ibd(ETRASIMOD, V(ETRASIMOD, "EC-VELSIPITY"), (UC,), AFTER_CONVENTIONAL_OR_BIOLOGIC),
    _row(METHOTREXATE, CD, "moderate steroid-dependent Crohn's disease (Nordimet, Metoject only)",
         V(METHOTREXATE, "NORDIMET"), line="steroid-dependent disease, with corticosteroids"),
)

INDICATIONS: tuple[Indication, ...] = MS_ROWS + RA_ROWS + IBD_ROWS
LICENSED_ATC = frozenset(i.atc for i in INDICATIONS)
