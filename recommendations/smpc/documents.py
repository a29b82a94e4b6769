"""Each drug's own document, and the stored copies its statements were checked against.

Keyed by ATC code (2024 WHO structure), so rules and licences cover a drug whether or not it is in the drug
catalogue yet (patients/drugs.py); `drug_name` falls back to the INN below for drugs not yet there.
"""

from __future__ import annotations

from patients.drugs import BY_ATC
from recommendations.smpc.base import NOT_VERIFIED, PARTLY, VERIFIED, Source

# ATC groups the tables use (WHO ATC index 2024).
INFLIXIMAB, ADALIMUMAB, GOLIMUMAB, ETANERCEPT, CERTOLIZUMAB = "L04AB02", "L04AB04", "L04AB06", "L04AB01", "L04AB05"
VEDOLIZUMAB, USTEKINUMAB, RISANKIZUMAB, GUSELKUMAB, MIRIKIZUMAB = "L04AG05", "L04AC05", "L04AC18", "L04AC16", "L04AC24"
TOCILIZUMAB, SARILUMAB, ABATACEPT, RITUXIMAB = "L04AC07", "L04AC14", "L04AA24", "L01FA01"
TOFACITINIB, BARICITINIB, UPADACITINIB, FILGOTINIB = "L04AF01", "L04AF02", "L04AF03", "L04AF04"
FINGOLIMOD, OZANIMOD, SIPONIMOD, PONESIMOD, ETRASIMOD = "L04AE01", "L04AE02", "L04AE03", "L04AE04", "L04AE05"
NATALIZUMAB, OCRELIZUMAB, OFATUMUMAB, UBLITUXIMAB, ALEMTUZUMAB = "L04AG03", "L04AG08", "L04AG12", "L04AG14", "L04AG06"
CLADRIBINE, TERIFLUNOMIDE, DIMETHYL_FUMARATE, DIROXIMEL_FUMARATE = "L04AA40", "L04AK02", "L04AX07", "L04AX09"
INTERFERON_B1A, PEGINTERFERON_B1A, INTERFERON_B1B, GLATIRAMER = "L03AB07", "L03AB13", "L03AB08", "L03AX13"
METHOTREXATE = "L04AX03"

ANTI_TNF = (INFLIXIMAB, ADALIMUMAB, GOLIMUMAB, ETANERCEPT, CERTOLIZUMAB)
JAK = (TOFACITINIB, BARICITINIB, UPADACITINIB, FILGOTINIB)
S1P = (FINGOLIMOD, OZANIMOD, SIPONIMOD, PONESIMOD, ETRASIMOD)
ANTI_CD20_MS = (OCRELIZUMAB, OFATUMUMAB, UBLITUXIMAB)
IL23 = (RISANKIZUMAB, GUSELKUMAB, MIRIKIZUMAB)
INTERFERONS = (INTERFERON_B1A, PEGINTERFERON_B1A, INTERFERON_B1B)
FUMARATES = (DIMETHYL_FUMARATE, DIROXIMEL_FUMARATE)
MS_DMT = (INTERFERON_B1A, PEGINTERFERON_B1A, INTERFERON_B1B, GLATIRAMER, TERIFLUNOMIDE, DIMETHYL_FUMARATE,
          DIROXIMEL_FUMARATE) + S1P + (NATALIZUMAB, ALEMTUZUMAB, CLADRIBINE) + ANTI_CD20_MS
# Disease-modifying antirheumatic drugs for "after at least one DMARD" (EULAR 2022: csDMARDs, bDMARDs, tsDMARDs).
CS_DMARD = (METHOTREXATE, "L04AK01", "A07EC01", "P01BA02")  # methotrexate, leflunomide, sulfasalazine, HCQ
B_TS_DMARD = ANTI_TNF + (TOCILIZUMAB, SARILUMAB, ABATACEPT, RITUXIMAB, "L04AC03") + JAK

DOCUMENTS: dict[str, tuple[str, str]] = {
    INFLIXIMAB: ("infliximab", "Remicade (infliximab) EU SmPC"),
    ADALIMUMAB: ("adalimumab", "Humira (adalimumab) EU SmPC"),
    GOLIMUMAB: ("golimumab", "Simponi (golimumab) EU SmPC"),
    ETANERCEPT: ("etanercept", "Enbrel (etanercept) EU SmPC"),
    CERTOLIZUMAB: ("certolizumab pegol", "Cimzia (certolizumab pegol) EU SmPC"),
    VEDOLIZUMAB: ("vedolizumab", "Entyvio (vedolizumab) EU SmPC"),
    USTEKINUMAB: ("ustekinumab", "Stelara (ustekinumab) EU SmPC"),
    RISANKIZUMAB: ("risankizumab", "Skyrizi (risankizumab) EU SmPC"),
    GUSELKUMAB: ("guselkumab", "Tremfya (guselkumab) EU SmPC"),
    MIRIKIZUMAB: ("mirikizumab", "Omvoh (mirikizumab) EU SmPC"),
    TOCILIZUMAB: ("tocilizumab", "RoActemra (tocilizumab) EU SmPC"),
    SARILUMAB: ("sarilumab", "Kevzara (sarilumab) EU SmPC"),
    ABATACEPT: ("abatacept", "Orencia (abatacept) EU SmPC"),
    RITUXIMAB: ("rituximab", "MabThera (rituximab) EU SmPC"),
    TOFACITINIB: ("tofacitinib", "Xeljanz (tofacitinib) EU SmPC"),
    BARICITINIB: ("baricitinib", "Olumiant (baricitinib) EU SmPC"),
    UPADACITINIB: ("upadacitinib", "Rinvoq (upadacitinib) EU SmPC"),
    FILGOTINIB: ("filgotinib", "Jyseleca (filgotinib) EU SmPC"),
    FINGOLIMOD: ("fingolimod", "Gilenya (fingolimod) EU SmPC"),
    OZANIMOD: ("ozanimod", "Zeposia (ozanimod) EU SmPC"),
    SIPONIMOD: ("siponimod", "Mayzent (siponimod) EU SmPC"),
    PONESIMOD: ("ponesimod", "Ponvory (ponesimod) EU SmPC"),
    ETRASIMOD: ("etrasimod", "Velsipity (etrasimod) EU SmPC"),
    NATALIZUMAB: ("natalizumab", "Tysabri (natalizumab) EU SmPC"),
    OCRELIZUMAB: ("ocrelizumab", "Ocrevus (ocrelizumab) EU SmPC"),
    OFATUMUMAB: ("ofatumumab", "Kesimpta (ofatumumab) EU SmPC"),
    UBLITUXIMAB: ("ublituximab", "Briumvi (ublituximab) EU SmPC"),
    ALEMTUZUMAB: ("alemtuzumab", "Lemtrada (alemtuzumab) EU SmPC"),
    CLADRIBINE: ("cladribine", "Mavenclad (cladribine) EU SmPC"),
    TERIFLUNOMIDE: ("teriflunomide", "Aubagio (teriflunomide) EU SmPC"),
    DIMETHYL_FUMARATE: ("dimethyl fumarate", "Tecfidera (dimethyl fumarate) EU SmPC"),
    DIROXIMEL_FUMARATE: ("diroximel fumarate", "Vumerity (diroximel fumarate) EU SmPC"),
    INTERFERON_B1A: ("interferon beta-1a", "Avonex and Rebif (interferon beta-1a) EU SmPCs"),
    PEGINTERFERON_B1A: ("peginterferon beta-1a", "Plegridy (peginterferon beta-1a) EU SmPC"),
    INTERFERON_B1B: ("interferon beta-1b", "Betaferon and Extavia (interferon beta-1b) EU SmPCs"),
    GLATIRAMER: ("glatiramer acetate", "Copaxone (glatiramer acetate) national SmPCs (no EPAR)"),
    METHOTREXATE: ("methotrexate", "methotrexate EU SmPCs (Jylamvo; Nordimet, Metoject)"),
}

# The stored copies statements were checked against (the SmPC dossier's sources, 2026).
CHECKED = {
    "MSD-UK-REMICADE": "MSD UK Remicade prescribing information",
    "MSD-UK-SIMPONI": "MSD UK Simponi prescribing information",
    "FDLIST-ENBREL": "Enbrel SmPC summaries (fdlist, MIMS Singapore, benepali.eu)",
    "MIMS-HK-CIMZIA": "MIMS Hong Kong Cimzia monograph",
    "RX-ENTYVIO": "the Entyvio EU SmPC as reproduced by rxreasoner (2024)",
    "RX-OMVOH": "the Omvoh EU SmPC as reproduced by rxreasoner (2023)",
    "RX-ROACTEMRA": "the RoActemra EU SmPC as reproduced by rxreasoner (2019)",
    "RX-KEVZARA": "the Kevzara EU SmPC as reproduced by rxreasoner (2025)",
    "RX-KESIMPTA": "the Kesimpta EU SmPC as reproduced by rxreasoner (2021)",
    "RX-BRIUMVI": "the Briumvi EU SmPC as reproduced by rxreasoner (2023)",
    "RX-PONVORY": "the Ponvory EU SmPC as reproduced by rxreasoner (2022)",
    "RX-AUBAGIO": "the Aubagio EU SmPC as reproduced by rxreasoner (2024)",
    "RX-JYLAMVO": "the Jylamvo (methotrexate) EU SmPC as reproduced by rxreasoner (2021)",
    "RX-JYSELECA": "the Jyseleca EU SmPC as reproduced by rxreasoner (2022)",
    "RX-GILENYA": "an excerpt of the Gilenya EU SmPC (rxreasoner, 2019)",
    "IT-RITUXIMAB": "the Italian rituximab SmPC summary (pharmamedix)",
    "MIMS-OLUMIANT": "MIMS monographs mirroring the EU Olumiant SmPC",
    "MIMS-RINVOQ": "MIMS Malaysia Rinvoq monograph mirroring the EU SmPC",
    "MIMS-SG-JYSELECA": "MIMS Singapore Jyseleca monograph and the Galapagos UK prescribing information",
    "MEDSCAPE-UK-FILGOTINIB": "Medscape UK filgotinib monograph",
    "PFIZER-UK-XELJANZ": "Pfizer UK Xeljanz practical considerations",
    "CH-MAYZENT": "the Swiss Mayzent Fachinformation, whose contraindications mirror the EU SmPC",
    "ZEPOSIA-UK-INIT": "the Zeposia UK initiation checklist, which refers to the SmPC",
    "MIMS-SG-TYSABRI": "MIMS Singapore Tysabri monograph mirroring the EU SmPC",
    "MIMS-SG-MAVENCLAD": "MIMS Singapore Mavenclad contraindications mirroring the EU SmPC",
    "MERCK-UK-MAVENCLAD": "Merck UK Mavenclad indications and contraindications",
    "NEUROLTHER-CLAD": "tables of the EU Mavenclad SmPC in Neurol Ther 2020/2021",
    "MHRA-DMF": "MHRA Drug Safety Update on dimethyl fumarate",
    "CH-ORENCIA-PIL": "the Swiss Orencia patient information",
    "CH-METHREXX": "the Swiss Methrexx Fachinformation",
    "NPRA-ACTEMRA-2019": "the 2019 Roche safety communication on tocilizumab and liver injury (NPRA)",
    "AU-PI-ACTEMRA": "the Australian Actemra product information (EU wording not seen)",
    "AIFA-JAK-2023": "AIFA's publication of the EMA measures for JAK inhibitors (January 2023)",
    "GALEN-LEMTRADA": "a Lemtrada contraindications summary (galenreasoner)",
    "CH-ZEPOSIA": "the Swiss Zeposia Fachinformation",
    "NOVARTIS-UK-MAYZENT": "the Novartis UK Mayzent dosing page",
    "CH-TREMFYA": "the Swiss Tremfya Fachinformation",
    "LILLY-UK-OMVOH": "Lilly UK's medical answer quoting the Omvoh SmPC",
    "BETAFERON-EU-PREG": "the 2019 EU interferon beta pregnancy update (Betaferon)",
    "IT-COPEMYL": "the Italian Copemyl SmPC",
    "OCREVUS-2025": "the 2025 Ocrevus EU label change (Roche Germany)",
    "EMC-OCREVUS": "the Ocrevus SmPC on emc (2024)",
    "EMC-KESIMPTA": "the Kesimpta SmPC on emc (2024)",
    "EMC-BRIUMVI": "the Briumvi SmPC on emc (2024)",
    "EMC-MAYZENT": "the Mayzent SmPC on emc (2024)",
    "DOCSLIB-ZEPOSIA": "a copy of the Zeposia EU SmPC (docslib)",
    "DOCSLIB-TYSABRI": "a copy of the Tysabri EU SmPC (docslib)",
    "DOCSLIB-LEMTRADA": "a copy of the Lemtrada EU SmPC (docslib)",
    "VDOC-FINGOLIMOD": "the EU SmPC of Fingolimod Accord, whose section 4.1 is Gilenya's",
    "NICE-TA527": "NICE TA527, licensed indication of Avonex",
    "MIMS-SG-REBIF": "MIMS Singapore Rebif indications mirroring the EU SmPC",
    "PL-COPAXONE": "the Polish Copaxone SmPC",
    "THEODORA-REMICADE": "the EMA EPAR summary of Remicade",
    "ABBVIE-UK-HUMIRA": "AbbVie UK Humira prescribing information",
    "HEALTHDOCBOX-SIMPONI": "a copy of the Simponi EU SmPC (healthdocbox)",
    "CHMP-SKYRIZI": "the CHMP summary of opinion for Skyrizi (May 2024)",
    "EC-TREMFYA-IBD": "reports of the EC approvals of Tremfya in UC (April 2025) and CD (May 2025)",
    "EC-VELSIPITY": "the EC Community Register Velsipity Annex I (February 2024)",
    "NORDIMET": "copies of the Nordimet SmPC (medthority)",
    "ENTYVIO-41": "a copy of the Entyvio EU SmPC, section 4.1 (fdocuments)",
    "PATIENTINFO-AUBAGIO": "the Aubagio SmPC on patient-info.co.uk",
}


def drug_name(atc: str) -> str:
    drug = BY_ATC.get(atc)
    return drug.name if drug else DOCUMENTS.get(atc, (atc, ""))[0]


def _source(atc: str, section: str, level: str, checked: str, note: str) -> tuple[str, Source]:
    return atc, Source(DOCUMENTS[atc][1], section, level, CHECKED.get(checked, checked), note)


def V(atc: str, checked: str, *, section: str = "", note: str = "") -> tuple:
    """Verified in the stored copy named by `checked` (a CHECKED key or words)."""
    return atc, section, VERIFIED, checked, note


def P(atc: str, checked: str, *, section: str = "", note: str = "") -> tuple:
    """Partly verified: part of the statement, or a non-EU or secondary copy of the EU text."""
    return atc, section, PARTLY, checked, note


def N(atc: str, *, section: str = "", note: str = "") -> tuple:
    """Not verified in a stored copy: the rule says so in its source text."""
    return atc, section, NOT_VERIFIED, "", note


def sources(section: str, *items: tuple) -> dict[str, Source]:
    """Each drug's own Source for one statement (an item's section overrides the common one)."""
    return dict(_source(atc, own or section, level, checked, note) for atc, own, level, checked, note in items)
