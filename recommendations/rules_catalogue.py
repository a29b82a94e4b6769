"""The safety rules and licences as a pharmacist reviews them: drug × rule × source, with how far each source was
checked, for the rules page and the published data dictionary (GET /api/v1/dictionary/).
"""

from __future__ import annotations

from dataclasses import dataclass

from patients.dictionary import Disease
from patients.drugs import BY_ATC
from recommendations.record_conditions import CHILDBEARING_AGE
from recommendations.licences import BY_DRUG
from recommendations.smpc import INDICATIONS, RULES
from recommendations.smpc.base import LEVELS, SEVERITY_LABELS, Source
from recommendations.smpc.documents import DOCUMENTS, drug_name

# What the rules do with an input that is missing or expired, and who counts for pregnancy rules: said once, shown
# on the page and in the dictionary.
POLICY = {
    "unknown": "A rule whose input is not recorded, or recorded longer ago than its validity window, is undecided: "
               "it gives a 'check before starting' flag naming the input and why the rule needs it. Checks that "
               "ask for the same inputs are merged. A drug already taken gets no checks before starting and no "
               "licence check; its contraindications and warnings stay.",
    "childbearing_age": f"Pregnancy and contraception rules apply to women of child-bearing age: {CHILDBEARING_AGE[0]}–"
                        f"{CHILDBEARING_AGE[1]} years (the WHO and UN SDG indicator 3.7.1 definition of women of "
                        "reproductive age), unless the record says otherwise (child-bearing potential: no after "
                        "menopause or sterilisation, yes at 50 or more while still fertile).",
    "levels": {"V": "verified against a stored copy of the source", "P": "partly verified (part of the "
               "statement, or a non-EU or secondary copy of the EU text)", "N": "not verified against the current "
               "SmPC text: to be checked by a pharmacist", "project": "a project choice with no published source"},
}

# SmPC statements our variables cannot express (yet), so no rule reads them: listed so nobody assumes they are
# checked.
NOT_EXPRESSED = (
    ("S1P modulators", "4.4", "Macular oedema risk (diabetes, uveitis, retinal disease): no variable for these "
                              "conditions; an eye examination is the prescriber's call."),
    ("alemtuzumab", "4.3", "Uncontrolled hypertension, arterial dissection of the cervicocephalic arteries, "
                           "coagulopathy or anti-platelet/anticoagulant therapy, other autoimmune disease: not in the "
                           "dictionary."),
    ("natalizumab", "4.3", "Combination with another disease-modifying therapy: a switch is not a combination; the "
                           "washout is the prescriber's call. PML itself (suspected or confirmed): not in the "
                           "dictionary."),
    ("methotrexate", "4.3", "Alcohol abuse, stomatitis, oral or active gastrointestinal ulcers, blood dyscrasia "
                            "without a threshold: not expressible with our variables (a baseline blood count is asked)."),
    ("teriflunomide", "4.3", "Severe hypoproteinaemia, dialysis, 'significant' cytopenias without a threshold: not in "
                             "the dictionary (a baseline blood count and ALT are asked)."),
    ("tocilizumab, sarilumab", "4.4", "History of diverticulitis or intestinal ulceration: not in the dictionary."),
    ("siponimod", "4.3", "History of PML or cryptococcal meningitis: not in the dictionary."),
    ("all", "4.3", "Hypersensitivity to an excipient (murine proteins, peanut or soya, mannitol): only reactions "
                   "recorded as the stop reason of the same drug are read."),
    ("interferon beta-1b", "4.1", "Relapsing-remitting MS with two or more relapses in two years: the record counts "
                                  "relapses over 12 months only; the row reads relapsing-remitting MS."),
    ("interferons, glatiramer", "4.1", "Clinically isolated syndrome: not an MS course of the dictionary."),
    ("all", "—", "The Swiss site prescribes under Swissmedic texts, which differ in places (Tysabri also for active "
                 "RRMS in anti-JCV-negative patients; fingolimod generics contraindicated in Child-Pugh B): the rules "
                 "read the EU SmPCs only."),
    ("several", "—", "Variables without a verified LOINC or SNOMED CT code (live vaccine plans, active serious "
                     "infection, immune status, active malignancy, Child-Pugh class, severe depression, contraception, "
                     "child-bearing potential, CYP2C9 genotype) arrive by their dictionary name "
                     "(urn:clinnova:variable)."),
    ("all IBD drugs", "4.1", "The line of therapy (after conventional therapy or a biologic): not checked, because "
                             "conventional therapy is rarely recorded and every advanced IBD licence shares it."),
)


@dataclass(frozen=True)
class RuleRow:
    atc: str
    drug: str
    in_catalogue: bool
    code: str
    topic: str
    severity: str
    severity_label: str
    statement: str
    condition: str
    source: Source


def rule_rows() -> list[RuleRow]:
    """Every rule for every drug it applies to: drug × rule × source, in drug then severity order."""
    rows = []
    for rule in RULES:
        for atc, source in rule.sources.items():
            name = drug_name(atc)
            rows.append(RuleRow(atc, name, atc in BY_ATC, rule.code, rule.topic, rule.severity,
                                SEVERITY_LABELS[rule.severity], rule.text(rule.message, drug=name, atc=atc),
                                rule.when.describe(), source))
    order = list(SEVERITY_LABELS)
    return sorted(rows, key=lambda r: (r.drug, order.index(r.severity), r.topic, r.code))


def indication_rows() -> list[dict]:
    rows = []
    for i in INDICATIONS:
        rows.append({"atc": i.atc, "drug": drug_name(i.atc), "in_catalogue": i.atc in BY_ATC,
                     "disease": i.disease, "disease_label": Disease(i.disease).label, "label": i.label,
                     "requires": [r.when.describe() for r in i.requires],
                     "line": i.line, "line_checked": i.line_checked, "combination": i.combination,
                     "source": i.source.as_dict()})
    return sorted(rows, key=lambda r: (r["drug"], r["disease"]))


def level_counts() -> dict[str, int]:
    counts = {level: 0 for level in LEVELS}
    for row in rule_rows():
        counts[row.source.level] += 1
    for i in INDICATIONS:
        counts[i.source.level] += 1
    return counts


def published() -> dict:
    """The rules and licences as the data dictionary publishes them."""
    return {
        "policy": POLICY,
        "safety_rules": [
            {"code": rule.code, "topic": rule.topic, "severity": rule.severity, "message": rule.message,
             "condition": rule.when.describe(), "variables": list(rule.when.variables()),
             "drugs": [{"atc": atc, "name": drug_name(atc), "source": source.as_dict()}
                       for atc, source in rule.sources.items()]}
            for rule in RULES],
        "indications": indication_rows(),
        "not_expressed": [{"drugs": d, "section": s, "what": w} for d, s, w in NOT_EXPRESSED],
        "documents": [{"atc": atc, "drug": inn, "document": doc} for atc, (inn, doc) in DOCUMENTS.items()],
    }


def drugs_without_licence_rows(atcs) -> list[str]:
    return [atc for atc in atcs if atc not in BY_DRUG]


def rules_page_context(*, drug: str = "") -> dict:
    """Drugs with their indications and rules (one drug when `drug` names its ATC code), for the rules page."""
    rules, indications = rule_rows(), indication_rows()
    atcs = sorted({r.atc for r in rules} | {i["atc"] for i in indications}, key=drug_name)
    choices = [{"atc": atc, "name": drug_name(atc), "in_catalogue": atc in BY_ATC} for atc in atcs]
    groups = [{"atc": atc, "name": drug_name(atc), "in_catalogue": atc in BY_ATC,
               "document": DOCUMENTS.get(atc, (atc, ""))[1],
               "indications": [i for i in indications if i["atc"] == atc],
               "rules": [r for r in rules if r.atc == atc]}
              for atc in atcs if not drug or atc == drug]
    counts = level_counts()
    return {"policy": POLICY, "groups": groups, "drug_choices": choices, "drug": drug,
            "levels": [(level, meaning, counts.get(level, 0)) for level, meaning in POLICY["levels"].items()],
            "not_expressed": NOT_EXPRESSED}
