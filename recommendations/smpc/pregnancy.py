"""Pregnancy, breastfeeding and contraception, each drug citing its own leaflet (SmPC sections 4.3 and 4.6).

They apply to women of child-bearing age only (recommendations.conditions.ChildbearingAge: 15–49 years, the WHO
and UN SDG 3.7.1 definition of women of reproductive age, unless the record says otherwise).
"""

from __future__ import annotations

from recommendations.conditions import AllOf, Cond
from recommendations.record_conditions import ChildbearingAge
from recommendations.smpc.base import CAUTION, CONTRAINDICATED, Rule
from recommendations.smpc.documents import (
    ABATACEPT, ADALIMUMAB, ALEMTUZUMAB, BARICITINIB, CERTOLIZUMAB, CLADRIBINE, DIMETHYL_FUMARATE, ETANERCEPT,
    ETRASIMOD, FILGOTINIB, FINGOLIMOD, GLATIRAMER, GOLIMUMAB, GUSELKUMAB, INFLIXIMAB, METHOTREXATE, MIRIKIZUMAB,
    NATALIZUMAB, OCRELIZUMAB, OFATUMUMAB, OZANIMOD, PONESIMOD, RISANKIZUMAB, RITUXIMAB, SARILUMAB, SIPONIMOD,
    TERIFLUNOMIDE, TOCILIZUMAB, TOFACITINIB, UBLITUXIMAB, UPADACITINIB, USTEKINUMAB, VEDOLIZUMAB, N, P, V, sources,
)

WOCBP = ChildbearingAge()
PREGNANT_OR_PLANNING = Cond("pregnancy_status", "in", ("pregnant", "planning"))

_TERATOGENS = sources(
    "4.3",
    V(METHOTREXATE, "RX-JYLAMVO", note="; women need effective contraception during and for 6 months after"),
    N(TOFACITINIB, note="; contraception during and for at least 4 weeks after the last dose"),
    N(BARICITINIB, note="; contraception during and for at least 1 week after treatment"),
    V(UPADACITINIB, "MIMS-RINVOQ", note="; contraception during and for 4 weeks after the last dose"),
    V(FILGOTINIB, "MIMS-SG-JYSELECA", note="; contraception during and for at least 1 week after the last dose"),
    V(TERIFLUNOMIDE, "RX-AUBAGIO", note="; reliable contraception until the plasma level is below 0.02 mg/L "
                                         "(accelerated elimination)"),
    V(CLADRIBINE, "MIMS-SG-MAVENCLAD", note="; contraception in women and men during and for 6 months after each "
                                             "yearly course"),
    P(FINGOLIMOD, "the Swiss Fingolimod Viatris Fachinformation", note="; contraception during and for 2 months "
                                                                        "after stopping"),
    V(OZANIMOD, "CH-ZEPOSIA", note="; contraception during and for 3 months after stopping"),
    V(SIPONIMOD, "CH-MAYZENT", note="; contraception during and for at least 10 days after stopping"),
    V(PONESIMOD, "RX-PONVORY", note="; contraception during and for 1 week after stopping"),
    P(ETRASIMOD, "the Canadian Velsipity leaflet and US label (same items)",
      note="; contraception during and for at least 14 days after stopping"),
)
# Whose section 4.3 also contraindicates women of child-bearing age without effective contraception.
_CONTRACEPTION_43 = {atc: _TERATOGENS[atc] for atc in (TERIFLUNOMIDE, FINGOLIMOD, OZANIMOD, SIPONIMOD, PONESIMOD,
                                                        ETRASIMOD)}
# Teratogens whose contraception advice is in section 4.6 only.
_CONTRACEPTION_46 = {atc: s.__class__(s.document, "4.6", s.level, s.checked_in, s.note)
                     for atc, s in _TERATOGENS.items() if atc not in _CONTRACEPTION_43}

_PREGNANCY_46 = sources(
    "4.6",
    P(INFLIXIMAB, "FDLIST-ENBREL's Remicade leaflet summary",
      note="use only if clearly needed; contraception for at least 6 months after the last infusion"),
    N(ADALIMUMAB, note="use only if clearly needed; contraception for at least 5 months after the last dose"),
    P(GOLIMUMAB, "a Canadian summary", note="not recommended; contraception for at least 6 months after the last dose"),
    P(ETANERCEPT, "FDLIST-ENBREL", note="not recommended; contraception for 3 weeks after stopping"),
    V(CERTOLIZUMAB, "MIMS-HK-CIMZIA", note="use only if clinically needed (little placental transfer)"),
    V(VEDOLIZUMAB, "MIMS Hong Kong Entyvio",
      note="preferably avoided; contraception for at least 18 weeks after the last dose"),
    V(USTEKINUMAB, "the EU Steqeyma (ustekinumab) text",
      note="preferably avoided; contraception for at least 15 weeks after treatment"),
    P(RISANKIZUMAB, "the Swiss Skyrizi Fachinformation (20 weeks)",
      note="preferably avoided; contraception for at least 21 weeks after treatment"),
    V(GUSELKUMAB, "CH-TREMFYA", note="preferably avoided; contraception for at least 12 weeks after treatment"),
    V(MIRIKIZUMAB, "LILLY-UK-OMVOH", note="preferably avoided; contraception for at least 10 weeks after treatment"),
    N(TOCILIZUMAB, note="not to be used unless clearly necessary; contraception for 3 months after treatment"),
    N(SARILUMAB, note="only if the benefit justifies the risk; contraception for 3 months after treatment"),
    N(ABATACEPT, note="not to be used unless clearly necessary; contraception for 14 weeks after the last dose"),
    V(RITUXIMAB, "a table of manufacturers' advice (BMJ Practical Neurology)",
      note="avoid unless the benefit outweighs the risk; contraception for 12 months after treatment"),
    V(OCRELIZUMAB, "OCREVUS-2025",
      note="avoid unless the benefit outweighs the risk; contraception for 4 months after the last infusion"),
    N(OFATUMUMAB, note="avoid unless the benefit outweighs the risk; contraception for 6 months after the last dose"),
    N(UBLITUXIMAB, note="avoid unless the benefit outweighs the risk; contraception for 4 months after the last "
                        "infusion"),
    V(ALEMTUZUMAB, "GALEN-LEMTRADA",
      note="only if the benefit justifies the risk; contraception for 4 months after each course"),
    N(NATALIZUMAB, note="weigh continuing treatment if pregnancy occurs"),
    N(DIMETHYL_FUMARATE, note="not recommended in pregnancy"),
    V(GLATIRAMER, "IT-COPEMYL", note="preferably avoided unless the benefit outweighs the risk"),
)

RULES = (
    Rule("pregnancy_contraindicated", "pregnancy", CONTRAINDICATED,
         "Pregnant or planning pregnancy: {drug} is contraindicated in pregnancy{note}.",
         AllOf(WOCBP, PREGNANT_OR_PLANNING), _TERATOGENS,
         why="{drug} is contraindicated in pregnancy"),
    Rule("contraception_contraindicated", "pregnancy", CONTRAINDICATED,
         "Woman of child-bearing age without effective contraception: {drug} is contraindicated{note}.",
         AllOf(WOCBP, Cond("effective_contraception", "eq", False)), _CONTRACEPTION_43,
         why="{drug} is contraindicated in women of child-bearing age without effective contraception"),
    Rule("contraception_needed", "pregnancy", CAUTION,
         "Woman of child-bearing age without effective contraception: {drug} needs it{note}.",
         AllOf(WOCBP, Cond("effective_contraception", "eq", False)), _CONTRACEPTION_46,
         why="{drug} needs effective contraception in women of child-bearing age"),
    Rule("breastfeeding", "breastfeeding", CONTRAINDICATED, "Breastfeeding: {drug} is contraindicated.",
         AllOf(WOCBP, Cond("pregnancy_status", "eq", "breastfeeding")),
         sources("4.3", V(TERIFLUNOMIDE, "RX-AUBAGIO"), V(METHOTREXATE, "RX-JYLAMVO"),
                 V(CLADRIBINE, "MIMS-SG-MAVENCLAD"), N(TOFACITINIB)),
         why="{drug} is contraindicated in breastfeeding"),
    Rule("pregnancy_caution", "pregnancy", CAUTION,
         "Pregnant or planning pregnancy: {drug}: {note}.",
         AllOf(WOCBP, PREGNANT_OR_PLANNING), _PREGNANCY_46,
         why="pregnancy changes how {drug} may be used"),
)
