"""The data dictionary: every clinical variable Clinnova knows, defined once.

Storage validation, the visit form, the JSON API and FHIR mappers, the model
feature vectors and the labels next to SHAP values all read this module. A new
variable is one entry in VARIABLES, not six edits.

The types (Variable, Kind, Origin, Code) live in patients/variables.py, the validity windows in
patients/windows.py, the diseases in patients/diseases.py, and the variables of pre-treatment screening that
only the safety rules read in patients/screening.py.
Measured variables arrive with a visit. Derived variables (age, disease
duration, therapy history) are computed from the patient's record when features
are built and are never accepted as input.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from patients import units
# The diseases live in patients/diseases.py; doors read them here, with the variables.
from patients.diseases import ALL, CD, DISEASE_CODES, IBD, MINIMUM_DATA_SET, MS, RA, UC, Disease  # noqa: F401
from patients.screening import SCREENING_VARIABLES
from patients.variables import Kind, Origin, Titre, Variable
from patients.variables import boolean as _b
from patients.variables import coded as _c
from patients.variables import integer as _i
from patients.variables import quantity as _q
from patients.windows import (
    ACTIVITY_90_DAYS, BODY_1_YEAR, CLINICAL_STATE_90_DAYS, COMORBIDITY_1_YEAR, CONDITION, ENDOSCOPY_1_YEAR, FACT,
    GENOTYPE, HEART_FAILURE_1_YEAR, JCV_6_MONTHS, LAB_90_DAYS, MRI_1_YEAR, MS_CLINICAL_1_YEAR, PHENOTYPE,
    PREGNANCY_1_MONTH, RELAPSES_90_DAYS, TB_SCREEN_1_YEAR,
)


DERIVED = Origin.DERIVED


VARIABLES: tuple[Variable, ...] = (
    # --- the patient and their history (derived from the record) ---
    _q("age", "Age", "a", 0, 120, ALL, "patient", origin=DERIVED, loinc="30525-0",
       help="From the birth year at the visit date."),
    _c("sex", "Sex", [("female", "Female", "248152002"), ("male", "Male", "248153007"),
                      ("other", "Other", "32570681000036106")], ALL, "patient", origin=DERIVED,
       loinc="46098-0"),
    _q("disease_duration", "Disease duration", "a", 0, 100, ALL, "patient", origin=DERIVED,
       help="Years from diagnosis to the visit."),
    _i("prior_advanced_therapies", "Prior advanced therapies", 0, 20, ALL, "history", origin=DERIVED,
       unit="{count}", help="Biologics, JAK inhibitors, S1P modulators and other advanced therapies taken before or "
                            "on the date, the current ones included."),
    _b("prior_anti_tnf_failure", "Prior anti-TNF failure", ALL - {MS}, "history", origin=DERIVED,
       help="An anti-TNF agent stopped for primary non-response or secondary loss of response."),
    _b("prior_anti_tnf_exposure", "Prior anti-TNF exposure", ALL - {MS}, "history", origin=DERIVED,
       help="An anti-TNF agent taken before or on the date, the current one included."),
    # Concomitant methotrexate modifies the response to an anti-TNF in RA (BSRBR: Hyrich KL et al., Rheumatology
    # 2006); derived from the therapy lines so it cannot disagree with the recorded history.
    _b("concomitant_methotrexate", "Concomitant methotrexate", {RA}, "history", origin=DERIVED,
       help="Methotrexate active on the date (a therapy line started and not stopped)."),
    # Drug-relative: true when the candidate drug's own class already failed.
    _b("prior_same_class_failure", "Same drug class failed before", ALL, "history", origin=DERIVED,
       help="Computed per candidate drug: a drug of its class was stopped for non-response."),
    # --- measured for every disease ---
    # The SNOMED CT codes of US Core's smoking status value set (LOINC 72166-2; US Core 6.1 "Smoking Status Type",
    # the eight codes Synthea and IPS senders use) map onto three values: every current smoker, whatever the
    # amount or frequency, is "current". 266927001 "Tobacco smoking consumption unknown" is no value at all
    # (SMOKING_UNKNOWN_SNOMED: recorded as not known, never as "never").
    _c("smoking_status", "Smoking status", [("never", "Never smoked", "266919005"),
                                            ("former", "Former smoker", "8517006"),
                                            ("current", "Current smoker", "77176002",
                                             ("449868002", "428041000124106", "428071000124103",
                                              "428061000124105"))], ALL, "patient",
       loinc="72166-2", ask="smoking status",
       persistence=CONDITION, validity=BODY_1_YEAR),
    _q("smoking_pack_years", "Smoking history", "{pack-years}", 0, 200, ALL, "safety", loinc="8664-5",
       feature=False, help="Pack-years, for current and former smokers.", ask="pack-years smoked",
       persistence=CONDITION, validity=BODY_1_YEAR),
    _q("bmi", "BMI", "kg/m2", 12, 80, ALL, "patient", loinc="39156-5", step=0.1,
       validity=BODY_1_YEAR),
    _q("crp", "CRP", "mg/L", 0, 500, ALL, "labs", loinc="1988-5", step=0.1,
       validity=LAB_90_DAYS),
    _q("albumin", "Albumin", "g/L", 10, 60, ALL, "labs", loinc="1751-7", step=0.1,
       validity=LAB_90_DAYS),
    _q("haemoglobin", "Haemoglobin", "g/L", 40, 220, ALL, "labs", loinc="718-7", step=1,
       extra_units={"mmol/L": units.MOLAR_HAEMOGLOBIN_G_PER_MMOL}, ask="haemoglobin",
       validity=LAB_90_DAYS),
    # --- safety: comorbidities and states the rules read ---
    _c("heart_failure_nyha", "Heart failure (NYHA class)", [("none", "No heart failure"), ("I", "NYHA I", "420300004"),
                                                            ("II", "NYHA II", "421704003"),
                                                            ("III", "NYHA III", "420913000"),
                                                            ("IV", "NYHA IV")], ALL, "safety",
       snomed="84114007", feature=False, ask="heart failure class (NYHA)",
       persistence=CONDITION, validity=HEART_FAILURE_1_YEAR),
    _b("demyelinating_history", "History of demyelinating disease", ALL - {MS}, "safety", snomed="6118003",
       feature=False, ask="history of demyelinating disease",
       persistence=CONDITION, validity=COMORBIDITY_1_YEAR),
    _c("tuberculosis_status", "Tuberculosis", [("none", "No tuberculosis"),
                                               ("latent_treated", "Latent, treated", "11999007"),
                                               ("latent_untreated", "Latent, untreated", "11999007"),
                                               ("active", "Active tuberculosis", "56717001")], ALL, "safety",
       feature=False, ask="TB screening (IGRA or TST)",
       persistence=CONDITION, validity=TB_SCREEN_1_YEAR),
    _b("vte_history", "History of venous thromboembolism", ALL, "safety", snomed="429098002", feature=False,
       ask="history of venous thromboembolism",
       persistence=CONDITION, validity=COMORBIDITY_1_YEAR),
    _b("malignancy_history", "History of malignancy", ALL, "safety", snomed="363346000", feature=False,
       ask="history of malignancy",
       persistence=CONDITION, validity=COMORBIDITY_1_YEAR),
    _c("pregnancy_status", "Pregnancy", [("not_pregnant", "Not pregnant"), ("pregnant", "Pregnant", "77386006"),
                                         ("planning", "Planning pregnancy"), ("breastfeeding", "Breastfeeding")],
       ALL, "safety", loinc="82810-3", feature=False, ask="pregnancy status",
       persistence=CONDITION, validity=PREGNANCY_1_MONTH),
    # --- inflammatory bowel disease ---
    _q("fecal_calprotectin", "Fecal calprotectin", "ug/g", 0, 10000, IBD, "labs", loinc="38445-3", step=1,
       validity=LAB_90_DAYS),
    _i("hbi_general_wellbeing", "HBI general well-being", 0, 4, {CD}, "activity",
       help="0 very well, 1 slightly below par, 2 poor, 3 very poor, 4 terrible.",
       validity=ACTIVITY_90_DAYS),
    _i("hbi_abdominal_pain", "HBI abdominal pain", 0, 3, {CD}, "activity",
       help="0 none, 1 mild, 2 moderate, 3 severe.",
       validity=ACTIVITY_90_DAYS),
    _i("hbi_liquid_stools", "HBI liquid or soft stools", 0, 40, {CD}, "activity", unit="/d",
       help="Number of liquid or soft stools on the previous day.",
       validity=ACTIVITY_90_DAYS),
    _i("hbi_abdominal_mass", "HBI abdominal mass", 0, 3, {CD}, "activity",
       help="0 none, 1 dubious, 2 definite, 3 definite and tender.",
       validity=ACTIVITY_90_DAYS),
    _i("hbi_complications", "HBI complications", 0, 8, {CD}, "activity", unit="{count}",
       help="Arthralgia, uveitis, erythema nodosum, aphthous ulcers, pyoderma gangrenosum, anal fissure, new fistula, abscess: one point each.",
       validity=ACTIVITY_90_DAYS),
    _c("montreal_location", "Montreal location", [("L1", "L1 ileal"), ("L2", "L2 colonic"), ("L3", "L3 ileocolonic"),
                                                  ("L4", "L4 isolated upper GI")], {CD}, "phenotype",
       persistence=FACT, validity=PHENOTYPE),
    _c("montreal_behaviour", "Montreal behaviour", [("B1", "B1 non-stricturing, non-penetrating"),
                                                    ("B2", "B2 stricturing"), ("B3", "B3 penetrating")], {CD},
       "phenotype",
       persistence=FACT, validity=PHENOTYPE),
    _b("perianal_disease", "Perianal disease (p)", {CD}, "phenotype",
       persistence=FACT, validity=PHENOTYPE),
    _b("prior_bowel_surgery", "Prior bowel surgery", {CD}, "phenotype",
       persistence=FACT, validity=PHENOTYPE),
    _b("fistulising_disease", "Fistulising disease", {CD}, "phenotype",
       persistence=FACT, validity=PHENOTYPE),
    _i("mayo_stool_frequency", "Mayo stool frequency", 0, 3, {UC}, "activity",
       help="0 normal, 1 1–2 more than normal, 2 3–4 more, 3 5 or more.",
       validity=ACTIVITY_90_DAYS),
    _i("mayo_rectal_bleeding", "Mayo rectal bleeding", 0, 3, {UC}, "activity",
       help="0 none, 1 streaks less than half the time, 2 obvious most of the time, 3 blood alone.",
       validity=ACTIVITY_90_DAYS),
    _i("mayo_physician_global", "Mayo physician global assessment", 0, 3, {UC}, "activity",
       help="0 normal, 1 mild, 2 moderate, 3 severe.",
       validity=ACTIVITY_90_DAYS),
    _i("mayo_endoscopic", "Mayo endoscopic subscore", 0, 3, {UC}, "activity",
       help="0 normal or inactive, 1 mild, 2 moderate, 3 severe.",
       validity=ENDOSCOPY_1_YEAR),
    _c("montreal_extent", "Montreal extent", [("E1", "E1 proctitis"), ("E2", "E2 left-sided"),
                                              ("E3", "E3 extensive")], {UC}, "phenotype",
       persistence=FACT, validity=PHENOTYPE),
    # --- rheumatoid arthritis ---
    _i("tender_joint_count_28", "Tender joints (28)", 0, 28, {RA}, "activity", unit="{count}",
       validity=ACTIVITY_90_DAYS),
    _i("swollen_joint_count_28", "Swollen joints (28)", 0, 28, {RA}, "activity", unit="{count}",
       validity=ACTIVITY_90_DAYS),
    _q("esr", "ESR", "mm/h", 1, 150, {RA}, "labs", loinc="4537-7", step=1,
       validity=LAB_90_DAYS),
    _q("patient_global", "Patient global assessment", "mm", 0, 100, {RA}, "activity", step=1,
       help="Visual analogue scale, 0 best to 100 worst.",
       validity=ACTIVITY_90_DAYS),
    _q("evaluator_global", "Evaluator global assessment", "mm", 0, 100, {RA}, "activity", step=1,
       help="Visual analogue scale, 0 best to 100 worst.",
       validity=ACTIVITY_90_DAYS),
    # Positive or negative, sent as such (presence code, SNOMED positive/negative) or as the lab's titre with its
    # upper reference limit, from which positivity is derived (titre above the limit, ACR/EULAR 2010).
    _b("rf_positive", "Rheumatoid factor positive", {RA}, "labs", loinc="11572-5",
       titre=Titre("[IU]/mL", "11572-5"), persistence=FACT, validity=PHENOTYPE,
       help="Positive when the titre is above the lab's upper reference limit (ACR/EULAR 2010)."),
    _b("anti_ccp_positive", "Anti-CCP positive", {RA}, "labs", loinc="33935-8",
       titre=Titre("[arb'U]/mL", "33935-8"), persistence=FACT, validity=PHENOTYPE,
       help="Positive when the titre is above the lab's upper reference limit (ACR/EULAR 2010)."),
    _q("haq_di", "HAQ-DI", "{score}", 0, 3, {RA}, "activity", step=0.125,
       validity=ACTIVITY_90_DAYS),
    # Patients on a glucocorticoid when a b/tsDMARD starts respond less often (docs/synthetic-cohort.md). Sent as
    # a value, or read from an active MedicationStatement of ATC group H02AB (systemic glucocorticoids, plain;
    # WHOCC ATC/DDD Index); no statement is "not recorded", never "no".
    _b("glucocorticoid", "Systemic glucocorticoid", {RA}, "patient", ask="current glucocorticoid use",
       validity=CLINICAL_STATE_90_DAYS,
       help="Taking a systemic glucocorticoid (prednisolone or equivalent, any dose) on the visit date."),
    # --- multiple sclerosis ---
    _c("ms_course", "MS course", [("RRMS", "Relapsing-remitting", "426373005"),
                                  ("SPMS", "Secondary progressive", "425500002"),
                                  ("PPMS", "Primary progressive", "428700003")], {MS}, "phenotype",
       persistence=FACT, validity=PHENOTYPE, ask="MS course"),
    # Kurtzke's scale: 0, then steps 1 to 9 each in two halves, then 10; there is no 0.5 (Kurtzke JF, Neurology
    # 1983;33:1444–1452).
    _q("edss", "EDSS", "{score}", 0, 10, {MS}, "activity", step=0.5, grid=(0.0,) + tuple(x / 2 for x in range(2, 21)),
       validity=MS_CLINICAL_1_YEAR, ask="EDSS"),
    _i("relapses_12m", "Relapses in the last 12 months", 0, 20, {MS}, "activity", unit="/(12.mo)",
       validity=RELAPSES_90_DAYS, ask="relapses in the last 12 months"),
    _i("new_t2_lesions", "New or enlarging T2 lesions", 0, 200, {MS}, "activity", unit="{count}",
       validity=MRI_1_YEAR, ask="MRI (new or enlarging T2 lesions)"),
    _i("gd_lesions", "Gadolinium-enhancing lesions", 0, 200, {MS}, "activity", unit="{count}",
       validity=MRI_1_YEAR, ask="MRI (gadolinium-enhancing lesions)"),
    _b("jcv_antibody_positive", "JCV antibody positive", {MS}, "safety", feature=False,
       persistence=CONDITION, validity=JCV_6_MONTHS, ask="anti-JCV antibody test"),
    _q("jcv_index", "JCV antibody index", "{index_val}", 0, 10, {MS}, "safety", step=0.01, feature=False,
       persistence=CONDITION, validity=JCV_6_MONTHS, ask="anti-JCV antibody index"),
    _c("cyp2c9_genotype", "CYP2C9 genotype", [(g, g) for g in ("*1/*1", "*1/*2", "*2/*2", "*1/*3", "*2/*3", "*3/*3")],
       {MS}, "safety", feature=False, persistence=FACT, validity=GENOTYPE, ask="CYP2C9 genotype"),
) + SCREENING_VARIABLES

BY_NAME: dict[str, Variable] = {v.name: v for v in VARIABLES}
BY_LOINC: dict[str, Variable] = {code: v for v in VARIABLES for code in v.loinc_codes}


def variables_for(disease: str, *, origin: Origin | None = None) -> list[Variable]:
    return [v for v in VARIABLES if v.used_for(disease) and (origin is None or v.origin == origin)]


def features_for(disease: str) -> list[str]:
    """The default model feature order for a disease: dictionary order, features only."""
    return [v.name for v in VARIABLES if v.used_for(disease) and v.feature]


def minimum_data_set(disease: str) -> list[str]:
    """The inputs a ranking for this disease needs (patients.diseases.MINIMUM_DATA_SET), in order."""
    return [name for name, _reason in MINIMUM_DATA_SET.get(disease, ())]


def label(name: str) -> str:
    var = BY_NAME.get(name)
    return var.label if var else name


# --- validation -------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    field: str
    value: Any
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "message": self.message}


class DictionaryError(ValueError):
    """One or more values do not fit the dictionary; nothing may be stored."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


def clean_measurements(disease: str, raw: dict[str, Any], *, prefix: str = "measurements") -> dict[str, Any]:
    """Validate and convert raw measurements for a disease, or raise DictionaryError listing every problem.

    A value is a number (or code, or boolean) in the dictionary's unit, or
    {"value": ..., "unit": "<UCUM>"} in any unit convertible to it. None means
    "not measured" and is dropped.
    """
    if disease not in Disease.values:
        raise DictionaryError([FieldError("disease", disease, "must be one of " + ", ".join(Disease.values))])
    if not isinstance(raw, dict):
        raise DictionaryError([FieldError(prefix, raw, "must be an object keyed by dictionary variable name")])
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, value in raw.items():
        where = f"{prefix}.{name}"
        var = BY_NAME.get(name)
        if var is None:
            errors.append(FieldError(where, value, "is not a variable of the data dictionary"))
            continue
        if var.origin == Origin.DERIVED:
            errors.append(FieldError(where, value, "is derived from the patient's record and cannot be posted"))
            continue
        if not var.used_for(disease):
            used = ", ".join(sorted(str(d) for d in var.diseases))
            errors.append(FieldError(where, value, f"is not recorded for {disease} (only for {used})"))
            continue
        if value is None:
            continue
        try:
            clean[name] = clean_value(var, value)
            if var.reference_high and isinstance(value, dict) and value.get("reference_high") is not None:
                # The lab's upper reference limit is stored beside the value, in the same unit.
                limit = {"value": value["reference_high"], "unit": value.get("unit") or var.unit}
                clean[var.reference_high] = clean_value(BY_NAME[var.reference_high], limit)
        except DictionaryError as exc:
            errors.extend(FieldError(where, e.value, e.message) for e in exc.errors)
    if errors:
        raise DictionaryError(errors)
    return clean


def clean_value(var: Variable, value: Any) -> Any:
    """One value checked and converted to the variable's unit; DictionaryError if it does not fit."""

    def fail(message: str, shown: Any = value) -> DictionaryError:
        return DictionaryError([FieldError(var.name, shown, message)])

    if var.kind == Kind.BOOLEAN:
        if isinstance(value, bool):
            return value
        if var.titre is not None and isinstance(value, dict):
            return _positive_from_titre(var, value, fail)
        raise fail("must be " + var.allowed())
    if var.kind == Kind.CODE:
        if isinstance(value, str) and value in var.code_values:
            return value
        raise fail("must be " + var.allowed())
    if var.kind == Kind.DATE:
        return _clean_date(var, value, fail)

    number, unit = value, var.unit
    if isinstance(value, dict):
        allowed_keys = {"value", "unit"} | ({"reference_high"} if var.reference_high else set())
        if set(value) - allowed_keys or "value" not in value:
            shape = '{"value": number, "unit": "<UCUM unit>"' + (', "reference_high": number' if var.reference_high
                                                                  else "") + "}"
            raise fail(f"must be a number or {shape}")
        number, unit = value["value"], value.get("unit") or var.unit
        if not isinstance(unit, str):
            raise fail(f"unit must be a UCUM code such as '{var.unit}'", value)
    number = _in_unit(var, number, unit, fail, value)
    if var.kind == Kind.INTEGER:
        if float(number) != int(number):
            raise fail("must be " + var.allowed(), number)
        number = int(number)
    if (var.minimum is not None and number < var.minimum) or (var.maximum is not None and number > var.maximum):
        raise fail("is out of range: must be " + var.allowed(), number)
    if var.grid:
        if not any(abs(number - g) < 1e-9 for g in var.grid):
            raise fail("must be " + var.allowed(), number)
    elif var.kind == Kind.QUANTITY and var.step in (0.5, 0.125):
        # HAQ-DI only takes values on its scale's grid.
        if abs(number / var.step - round(number / var.step)) > 1e-9:
            raise fail("must be " + var.allowed(), number)
    return number


def _in_unit(var: Variable, number: Any, unit: str, fail, shown: Any, *, to_unit: str | None = None) -> float:
    """A finite number converted from `unit` to the variable's unit (or `to_unit`)."""
    target = to_unit or var.unit
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise fail("must be " + var.allowed(), number)
    try:
        finite = math.isfinite(number)
    except OverflowError:  # an integer too large for a float
        finite = False
    if not finite or abs(number) > 1e12:
        raise fail("must be " + var.allowed(), number)
    if unit != target:
        if unit in var.extra_units:
            number = number * var.extra_units[unit]
        else:
            try:
                number = units.convert(float(number), from_unit=unit, to_unit=target)
            except units.UnitError:
                accepted = ", ".join(units.convertible_units(target) + list(var.extra_units))
                raise fail(f"unit '{unit}' cannot be converted to {target} (accepted: {accepted})", shown) from None
        number = round(number, 6)
    return number


def _positive_from_titre(var: Variable, value: dict, fail) -> bool:
    """Positive when the titre is above the lab's upper reference limit, negative at or below it (ACR/EULAR 2010
    classification criteria for RA, serology domain: Aletaha D et al., Arthritis Rheum 2010;62:2569–2581)."""
    shape = f'{{"value": number, "unit": "{var.titre.unit}", "reference_high": number}}'
    if set(value) - {"value", "unit", "reference_high"} or "value" not in value:
        raise fail(f"a titre must be {shape}")
    if "reference_high" not in value:
        raise fail(f"a titre needs the lab's upper reference limit (reference_high): send {shape}, or true/false")
    unit = value.get("unit") or var.titre.unit
    if not isinstance(unit, str):
        raise fail(f"unit must be a UCUM code such as '{var.titre.unit}'", value)
    titre = _in_unit(var, value["value"], unit, fail, value, to_unit=var.titre.unit)
    limit = _in_unit(var, value["reference_high"], unit, fail, value, to_unit=var.titre.unit)
    if titre < 0 or limit <= 0:
        raise fail("a titre must be 0 or more and its upper reference limit above 0", value)
    return titre > limit


def _clean_date(var: Variable, value: Any, fail) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value[:10]) if len(value) >= 10 else None
        except ValueError:
            day = None
        if day is None:
            raise fail("must be " + var.allowed())
    else:
        raise fail("must be " + var.allowed())
    if not dt.date(1900, 1, 1) <= day <= dt.date.today():
        raise fail("is out of range: must be " + var.allowed(), day.isoformat())
    return day.isoformat()
