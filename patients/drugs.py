"""The drug catalogue: candidate therapies per disease, with ATC codes valid since 2024.

In January 2024 the WHO split L04AA (selective immunosuppressants) into new
groups: monoclonal antibodies L04AG, JAK inhibitors L04AF, S1P receptor
modulators L04AE, DHODH inhibitors L04AK (WHOCC, ATC level alterations 2024).
EHRs still send the old codes; PRE_2024_CODES maps them on input.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import TextChoices

from patients.dictionary import CD, MS, RA, UC


class DrugClass(TextChoices):
    ANTI_TNF = "anti_tnf", "Anti-TNF"
    ANTI_INTEGRIN = "anti_integrin", "Anti-integrin"
    ANTI_IL12_23 = "anti_il12_23", "Anti-IL-12/23 or IL-23"
    ANTI_IL6 = "anti_il6", "Anti-IL-6 receptor"
    CTLA4_IG = "ctla4_ig", "T-cell co-stimulation modulator"
    ANTI_CD20 = "anti_cd20", "Anti-CD20"
    ANTI_CD52 = "anti_cd52", "Anti-CD52"
    JAK = "jak", "JAK inhibitor"
    S1P = "s1p", "S1P receptor modulator"
    CSDMARD = "csdmard", "Conventional synthetic DMARD"
    DHODH = "dhodh", "Pyrimidine synthesis inhibitor"
    INTERFERON = "interferon", "Interferon beta"
    GLATIRAMER = "glatiramer", "Glatiramer acetate"
    FUMARATE = "fumarate", "Fumarate"
    PURINE_ANALOGUE = "purine_analogue", "Purine analogue"


# Classes counted as "advanced therapies" when a patient's history is summarised.
ADVANCED_CLASSES = frozenset(DrugClass) - {DrugClass.CSDMARD}


@dataclass(frozen=True)
class Drug:
    atc: str
    name: str
    drug_class: DrugClass
    diseases: frozenset
    # High-efficacy MS therapies (ECTRIMS/EAN 2018 grouping); False elsewhere.
    high_efficacy: bool = False
    biologic: bool = False

    @property
    def class_label(self) -> str:
        return self.drug_class.label

    def as_dict(self) -> dict:
        return {
            "atc": self.atc,
            "name": self.name,
            "class": str(self.drug_class),
            "class_label": self.class_label,
            "diseases": sorted(str(d) for d in self.diseases),
            "biologic": self.biologic,
            "high_efficacy": self.high_efficacy,
            "pre_2024_atc": [old for old, new in PRE_2024_CODES.items() if new == self.atc],
        }


def _d(atc, name, cls, diseases, **kw) -> Drug:
    return Drug(atc, name, cls, frozenset(diseases), **kw)


C = DrugClass
DRUGS: tuple[Drug, ...] = (
    _d("L04AB02", "infliximab", C.ANTI_TNF, {CD, UC}, biologic=True),
    _d("L04AB04", "adalimumab", C.ANTI_TNF, {CD, UC, RA}, biologic=True),
    _d("L04AB06", "golimumab", C.ANTI_TNF, {UC}, biologic=True),
    _d("L04AB01", "etanercept", C.ANTI_TNF, {RA}, biologic=True),
    _d("L04AB05", "certolizumab pegol", C.ANTI_TNF, {RA}, biologic=True),
    _d("L04AG05", "vedolizumab", C.ANTI_INTEGRIN, {CD, UC}, biologic=True),
    _d("L04AC05", "ustekinumab", C.ANTI_IL12_23, {CD, UC}, biologic=True),
    _d("L04AC18", "risankizumab", C.ANTI_IL12_23, {CD}, biologic=True),
    _d("L04AC07", "tocilizumab", C.ANTI_IL6, {RA}, biologic=True),
    _d("L04AA24", "abatacept", C.CTLA4_IG, {RA}, biologic=True),
    _d("L01FA01", "rituximab", C.ANTI_CD20, {RA}, biologic=True),
    _d("L04AF01", "tofacitinib", C.JAK, {UC, RA}),
    _d("L04AF02", "baricitinib", C.JAK, {RA}),
    _d("L04AF03", "upadacitinib", C.JAK, {CD, UC, RA}),
    _d("L04AE02", "ozanimod", C.S1P, {UC}),
    _d("L04AX03", "methotrexate", C.CSDMARD, {RA}),
    _d("L03AB07", "interferon beta-1a", C.INTERFERON, {MS}, biologic=True),
    _d("L03AX13", "glatiramer acetate", C.GLATIRAMER, {MS}),
    _d("L04AK02", "teriflunomide", C.DHODH, {MS}),
    _d("L04AX07", "dimethyl fumarate", C.FUMARATE, {MS}),
    _d("L04AE01", "fingolimod", C.S1P, {MS}),
    _d("L04AG03", "natalizumab", C.ANTI_INTEGRIN, {MS}, biologic=True, high_efficacy=True),
    _d("L04AG08", "ocrelizumab", C.ANTI_CD20, {MS}, biologic=True, high_efficacy=True),
    _d("L04AG12", "ofatumumab", C.ANTI_CD20, {MS}, biologic=True, high_efficacy=True),
    _d("L04AG06", "alemtuzumab", C.ANTI_CD52, {MS}, biologic=True, high_efficacy=True),
    _d("L04AA40", "cladribine", C.PURINE_ANALOGUE, {MS}, high_efficacy=True),
    # Not candidates of any model, but common in therapy histories.
    _d("L04AX01", "azathioprine", C.CSDMARD, set()),
    _d("L04AK01", "leflunomide", C.DHODH, set()),
    _d("A07EC01", "sulfasalazine", C.CSDMARD, set()),
    _d("A07EC02", "mesalazine", C.CSDMARD, set()),
)

# WHOCC ATC alterations implemented January 2024: previous code -> new code.
PRE_2024_CODES: dict[str, str] = {
    "L04AA33": "L04AG05",  # vedolizumab
    "L04AA23": "L04AG03",  # natalizumab
    "L04AA36": "L04AG08",  # ocrelizumab
    "L04AA52": "L04AG12",  # ofatumumab
    "L04AA34": "L04AG06",  # alemtuzumab
    "L04AA29": "L04AF01",  # tofacitinib
    "L04AA37": "L04AF02",  # baricitinib
    "L04AA44": "L04AF03",  # upadacitinib
    "L04AA38": "L04AE02",  # ozanimod
    "L04AA27": "L04AE01",  # fingolimod
    "L04AA31": "L04AK02",  # teriflunomide
    "L04AA13": "L04AK01",  # leflunomide
    "L04AA42": "L04AE03",  # siponimod
    "L04AA45": "L04AF04",  # filgotinib
    "L04AA50": "L04AE04",  # ponesimod
    "L01BA01": "L04AX03",  # methotrexate, oral/non-oncological use (split 2017)
}

# Other codes EHRs still send, from earlier WHOCC alterations: dimethyl fumarate moved from N07XX09 to L04AX07
# (WHOCC, ATC/DDD alterations valid from January 2019); rituximab from L01XC02 to L01FA01 when L01X was split
# (2022). L01BA01 above is not an old code but methotrexate's current oncological one: read as methotrexate.
OLDER_CODES: dict[str, str] = {
    "N07XX09": "L04AX07",  # dimethyl fumarate, until 2018
    "L01XC02": "L01FA01",  # rituximab, until 2021
}

# RxNorm codes (RXCUI) of catalogue drugs as US EHRs and Synthea code medications: ingredients (concept class IN)
# and the clinical-drug codes (SCD) senders are known to use. Each was checked against a published source, named
# beside it; a drug without a checked code is not guessed: its RxNorm-only medication is reported, not mapped.
RXNORM: dict[str, str] = {
    "327361": "L04AB04",  # adalimumab (IN): OHDSI vocabulary, RxNorm Ingredient 327361 (OHDSI ATLAS concept set export)
    "191831": "L04AB02",  # infliximab (IN): RxNorm ingredient code table of a published pharmacy data mart example
    "214555": "L04AB01",  # etanercept (IN): published drug-to-RxNorm ingredient table, with adalimumab 327361 beside it
    "2166040": "L04AC18",  # risankizumab (IN): CMS Part D formulary ingredient targets (RxCUI 2166040)
    "105585": "L04AX03",  # Methotrexate 2.5 MG Oral Tablet (SCD): Synthea module rheumatoid_arthritis.json, state DMARD
}

BY_ATC: dict[str, Drug] = {d.atc: d for d in DRUGS}
BY_NAME: dict[str, Drug] = {d.name: d for d in DRUGS}


class UnknownDrug(LookupError):
    pass


def resolve(code_or_name: str) -> Drug:
    """The catalogue drug for an ATC code (current or pre-2024) or an INN name."""
    key = (code_or_name or "").strip()
    atc = PRE_2024_CODES.get(key.upper()) or OLDER_CODES.get(key.upper()) or key.upper()
    if atc in BY_ATC:
        return BY_ATC[atc]
    if key.lower() in BY_NAME:
        return BY_NAME[key.lower()]
    raise UnknownDrug(code_or_name)


def candidates_for(disease: str) -> list[Drug]:
    """Candidate therapies for a disease, in catalogue order."""
    return [d for d in DRUGS if disease in d.diseases]
