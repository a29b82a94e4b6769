"""Safety rules on top of the model, kept as data: one row per rule, each with its source.

A rule names the drugs it applies to (by ATC code, by class, or all biologics),
conditions on the patient's values (dictionary names, all must hold), a
severity and the sentence a clinician reads. The model never sees these; a
contraindicated drug stays visible but ranks after every drug without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patients.drugs import Drug, DrugClass

CONTRAINDICATED = "contraindicated"
CAUTION = "caution"


@dataclass(frozen=True)
class Cond:
    variable: str
    op: str  # "eq", "in", "ge", "gt"
    value: Any = True

    def holds(self, values: dict[str, Any]) -> bool:
        actual = values.get(self.variable)
        if actual is None:
            return False
        if self.op == "eq":
            return actual == self.value
        if self.op == "in":
            return actual in self.value
        if self.op == "ge":
            return actual >= self.value
        if self.op == "gt":
            return actual > self.value
        raise ValueError(f"unknown operator {self.op}")


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    message: str
    source: str
    when: tuple[Cond, ...]
    atc: frozenset = frozenset()
    classes: frozenset = frozenset()
    biologics: bool = False

    def applies_to(self, drug: Drug) -> bool:
        return drug.atc in self.atc or drug.drug_class in self.classes or (self.biologics and drug.biologic)

    def fires(self, drug: Drug, values: dict[str, Any]) -> bool:
        return self.applies_to(drug) and all(c.holds(values) for c in self.when)

    def flag(self, values: dict[str, Any], recorded_on: dict[str, str]) -> dict:
        """The flag a clinician reads, with the values it rests on and when each was recorded."""
        evidence = [{"variable": c.variable, "value": values.get(c.variable),
                     "recorded_on": recorded_on.get(c.variable)} for c in self.when]
        return {"rule": self.code, "severity": self.severity, "message": self.message, "source": self.source,
                "evidence": evidence}


JAK = frozenset({DrugClass.JAK})
TNF = frozenset({DrugClass.ANTI_TNF})
EMA_JAK_2023 = ("EMA PRAC, Janus kinase inhibitors for chronic inflammatory disorders: measures to minimise "
                "the risk of serious side effects, EMA/142279/2023 (March 2023)")

RULES: tuple[Rule, ...] = (
    Rule("natalizumab_jcv_high", CAUTION,
         "JCV antibody index above 1.5: the risk of progressive multifocal leukoencephalopathy (PML) on "
         "natalizumab is markedly higher; consider another high-efficacy therapy.",
         "Tysabri EPAR, summary of product characteristics section 4.4 (EMA)",
         (Cond("jcv_antibody_positive", "eq", True), Cond("jcv_index", "gt", 1.5)), atc=frozenset({"L04AG03"})),
    Rule("natalizumab_jcv_positive", CAUTION,
         "JCV antibody positive: natalizumab carries a risk of PML; monitor with MRI and re-test the index.",
         "Tysabri EPAR, summary of product characteristics section 4.4 (EMA)",
         (Cond("jcv_antibody_positive", "eq", True),), atc=frozenset({"L04AG03"})),
    Rule("anti_tnf_demyelination", CONTRAINDICATED,
         "History of demyelinating disease: anti-TNF agents can cause or worsen demyelination.",
         "Humira and Remicade SmPC section 4.4 (EMA); Fraenkel et al., ACR guideline for RA, Arthritis Care Res 2021",
         (Cond("demyelinating_history", "eq", True),), classes=TNF),
    Rule("anti_tnf_heart_failure", CONTRAINDICATED,
         "Heart failure NYHA class III–IV: anti-TNF agents are contraindicated.",
         "Remicade and Humira SmPC section 4.3 (EMA)",
         (Cond("heart_failure_nyha", "in", ("III", "IV")),), classes=TNF),
    Rule("jak_age", CAUTION,
         "Age 65 or older: JAK inhibitors only if no suitable alternative (cardiovascular events, malignancy, "
         "infections).", EMA_JAK_2023, (Cond("age", "ge", 65),), classes=JAK),
    Rule("jak_current_smoker", CAUTION,
         "Current smoker: JAK inhibitors only if no suitable alternative (cardiovascular events, malignancy).",
         EMA_JAK_2023, (Cond("smoking_status", "eq", "current"),), classes=JAK),
    Rule("jak_long_time_smoker", CAUTION,
         "Past long-time smoking (10 pack-years or more): JAK inhibitors only if no suitable alternative.",
         EMA_JAK_2023, (Cond("smoking_status", "eq", "former"), Cond("smoking_pack_years", "ge", 10)), classes=JAK),
    Rule("jak_vte", CAUTION,
         "History of venous thromboembolism: JAK inhibitors raise the risk of VTE; use with caution.",
         EMA_JAK_2023, (Cond("vte_history", "eq", True),), classes=JAK),
    Rule("jak_malignancy", CAUTION,
         "History of malignancy: JAK inhibitors only if no suitable alternative.",
         EMA_JAK_2023, (Cond("malignancy_history", "eq", True),), classes=JAK),
    Rule("pregnancy_teratogen", CONTRAINDICATED,
         "Pregnant or planning pregnancy: this drug is contraindicated in pregnancy.",
         "SmPC section 4.3/4.6 of methotrexate, teriflunomide (Aubagio), fingolimod (Gilenya), cladribine "
         "(Mavenclad), ozanimod (Zeposia), tofacitinib, baricitinib, upadacitinib (EMA)",
         (Cond("pregnancy_status", "in", ("pregnant", "planning")),),
         atc=frozenset({"L04AX03", "L04AK02", "L04AE01", "L04AA40", "L04AE02", "L04AF01", "L04AF02", "L04AF03"})),
    Rule("active_tuberculosis", CONTRAINDICATED,
         "Active tuberculosis: biologics and JAK inhibitors must not be started.",
         "SmPC section 4.3 of anti-TNF agents and JAK inhibitors (EMA); ECCO guidelines on infections 2021",
         (Cond("tuberculosis_status", "eq", "active"),), classes=JAK, biologics=True),
    Rule("latent_tuberculosis_untreated", CONTRAINDICATED,
         "Latent tuberculosis not yet treated: start TB prophylaxis before a biologic or JAK inhibitor.",
         "SmPC section 4.4 of anti-TNF agents and JAK inhibitors (EMA); ECCO guidelines on infections 2021",
         (Cond("tuberculosis_status", "eq", "latent_untreated"),), classes=JAK, biologics=True),
    Rule("primary_non_response", CONTRAINDICATED,
         "The patient already had primary non-response to this drug; re-treatment is not expected to work.",
         "Papamichael et al., Clin Gastroenterol Hepatol 2019 (treat-to-target after primary non-response); "
         "clinical consensus",
         (Cond("primary_non_response_to_candidate", "eq", True),), classes=frozenset(DrugClass)),
)


def rules_for(drug: Drug) -> tuple[Rule, ...]:
    """The rules that can ever fire for a drug (a scoring process computes this once per model)."""
    return tuple(r for r in RULES if r.applies_to(drug))


def flags_from(rules: tuple[Rule, ...], values: dict[str, Any], recorded_on: dict[str, str] | None = None) -> list[dict]:
    """The flags of the rules that fire for these values, most severe first; `recorded_on` (ISO dates by
    variable, from the patient's state) says when each value a flag rests on was recorded.

    Of the natalizumab JCV rules only the stronger one is kept, so one risk is not flagged twice.
    """
    fired = [r for r in rules if all(c.holds(values) for c in r.when)]
    if any(r.code == "natalizumab_jcv_high" for r in fired):
        fired = [r for r in fired if r.code != "natalizumab_jcv_positive"]
    fired.sort(key=lambda r: r.severity != CONTRAINDICATED)
    return [r.flag(values, recorded_on or {}) for r in fired]


def flags_for(drug: Drug, values: dict[str, Any], recorded_on: dict[str, str] | None = None) -> list[dict]:
    """Every rule that fires for this drug and patient, most severe first."""
    return flags_from(rules_for(drug), values, recorded_on)
