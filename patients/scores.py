"""Published disease-activity scores computed from a patient's measurements.

Pure Python (stdlib ``math`` only, no Django) so it can be unit-tested and reused
anywhere.  The formula functions do no range validation: the caller validates
inputs against the data dictionary.  They return the unrounded value; rounding is
a presentation concern and happens once, in ``derived_scores``, which also assigns
the category *from the rounded value* so the number shown and its category agree.
"""
import math
from dataclasses import dataclass

RA_LABELS = {
    "remission": "Remission",
    "low": "Low disease activity",
    "moderate": "Moderate disease activity",
    "high": "High disease activity",
}
IBD_LABELS = {
    "remission": "Remission",
    "mild": "Mild disease activity",
    "moderate": "Moderate disease activity",
    "severe": "Severe disease activity",
}


@dataclass(frozen=True)
class Score:
    name: str
    label: str
    value: float
    category: str
    category_label: str

    def as_dict(self) -> dict:
        return {"label": self.label, "value": self.value,
                "category": self.category, "category_label": self.category_label}


# --- Rheumatoid arthritis -------------------------------------------------------

def _joints(tjc28, sjc28) -> float:
    # Joint term shared by every DAS28 variant.  float() also accepts Decimal
    # (DecimalField values), which would otherwise not mix with float constants.
    return 0.56 * math.sqrt(float(tjc28)) + 0.28 * math.sqrt(float(sjc28))


def _ln_esr(esr) -> float:
    # ESR below 1 mm/h is not measurable; clamping to 1 (common practice) keeps
    # ln() defined for a recorded 0 instead of crashing, and ln(1) = 0.
    return 0.70 * math.log(max(float(esr), 1.0))


def _ln_crp(crp_mg_l) -> float:
    return 0.36 * math.log(float(crp_mg_l) + 1.0)  # CRP in mg/L; +1 makes 0 valid


def das28_esr(*, tjc28, sjc28, esr, patient_global) -> float:
    """DAS28-ESR, 4 variables; patient global health in 0-100 mm VAS.

    Prevoo MLL et al., Arthritis Rheum 1995;38:44-48.
    """
    return _joints(tjc28, sjc28) + _ln_esr(esr) + 0.014 * float(patient_global)


def das28_esr_3v(*, tjc28, sjc28, esr) -> float:
    """DAS28-ESR, 3 variables (no patient global). das-score.nl (Radboud UMC)."""
    return (_joints(tjc28, sjc28) + _ln_esr(esr)) * 1.08 + 0.16


def das28_crp(*, tjc28, sjc28, crp_mg_l, patient_global) -> float:
    """DAS28-CRP, 4 variables; CRP in mg/L. das-score.nl (Radboud UMC)."""
    return (_joints(tjc28, sjc28) + _ln_crp(crp_mg_l)
            + 0.014 * float(patient_global) + 0.96)


def das28_crp_3v(*, tjc28, sjc28, crp_mg_l) -> float:
    """DAS28-CRP, 3 variables; CRP in mg/L. das-score.nl (Radboud UMC)."""
    return (_joints(tjc28, sjc28) + _ln_crp(crp_mg_l)) * 1.10 + 1.15


def cdai(*, tjc28, sjc28, patient_global, evaluator_global) -> float:
    """Clinical Disease Activity Index. Aletaha D et al., Arthritis Res Ther 2005;7:R796.

    The index uses global assessments on a 0-10 cm scale; ours are 0-100 mm.
    """
    return (float(tjc28) + float(sjc28)
            + float(patient_global) / 10 + float(evaluator_global) / 10)


def sdai(*, tjc28, sjc28, patient_global, evaluator_global, crp_mg_l) -> float:
    """Simplified Disease Activity Index. Smolen JS et al., Rheumatology 2003;42:244-257.

    SDAI adds CRP in mg/dL; we store mg/L, so divide by 10 (25 mg/L adds 2.5).
    """
    return cdai(tjc28=tjc28, sjc28=sjc28, patient_global=patient_global,
                evaluator_global=evaluator_global) + float(crp_mg_l) / 10


# --- Inflammatory bowel disease ---------------------------------------------------

def _to_int(total) -> int:
    # Items are integers; inputs may arrive as floats (3.0). Round half up rather
    # than Python's banker's rounding so a stray .5 never rounds down.
    return math.floor(float(total) + 0.5)


def harvey_bradshaw(*, general_wellbeing, abdominal_pain, liquid_stools,
                    abdominal_mass, complications) -> int:
    """Harvey-Bradshaw Index for Crohn's disease: sum of the five items.

    Harvey RF, Bradshaw JM, Lancet 1980;1:514.
    """
    return _to_int(float(general_wellbeing) + float(abdominal_pain) + float(liquid_stools)
                   + float(abdominal_mass) + float(complications))


def partial_mayo(*, stool_frequency, rectal_bleeding, physician_global) -> int:
    """Partial (non-invasive) Mayo score. Lewis JD et al., Inflamm Bowel Dis 2008;14:1660-6."""
    return _to_int(float(stool_frequency) + float(rectal_bleeding) + float(physician_global))


def full_mayo(*, stool_frequency, rectal_bleeding, physician_global, endoscopic) -> int:
    """Full Mayo score: partial Mayo + endoscopic subscore.

    Schroeder KW et al., N Engl J Med 1987;317:1625-9.
    """
    return _to_int(float(stool_frequency) + float(rectal_bleeding)
                   + float(physician_global) + float(endoscopic))


# --- Categories -------------------------------------------------------------------

# Cut-offs per score, checked in order; a value above the last one gets the top
# category.  "<" vs "<=" follows the published definitions exactly.
_BANDS = {
    # EULAR DAS28 (Fransen & van Riel 2005): remission is strictly below 2.6.
    "das28": ((("<", 2.6, "remission"), ("<=", 3.2, "low"), ("<=", 5.1, "moderate")), "high"),
    "cdai": ((("<=", 2.8, "remission"), ("<=", 10, "low"), ("<=", 22, "moderate")), "high"),
    "sdai": ((("<=", 3.3, "remission"), ("<=", 11, "low"), ("<=", 26, "moderate")), "high"),
    # Best 2006 / Vermeire 2010: < 5 remission, 5-7 mild, 8-16 moderate, > 16 severe.
    "hbi": ((("<", 5, "remission"), ("<=", 7, "mild"), ("<=", 16, "moderate")), "severe"),
    "partial_mayo": ((("<=", 1, "remission"), ("<=", 4, "mild"), ("<=", 6, "moderate")),
                     "severe"),
    "full_mayo": ((("<=", 2, "remission"), ("<=", 5, "mild"), ("<=", 10, "moderate")),
                  "severe"),
}


def categorize(name: str, value: float, *, max_subscore: float = 0) -> str:
    """Machine category of a score value (pass the rounded value that is shown).

    ``name`` is a score name ("das28_esr", "das28_crp", "cdai", ...).  For
    "full_mayo", ``max_subscore`` is the largest of the four subscores: a total
    <= 2 is only remission when no subscore exceeds 1, otherwise it is mild.
    """
    bands, top = _BANDS["das28" if name.startswith("das28") else name]
    for op, bound, category in bands:
        if value < bound or (op == "<=" and value == bound):
            if name == "full_mayo" and category == "remission" and max_subscore > 1:
                return "mild"
            return category
    return top


# --- Everything computable from a measurement dict ---------------------------------

_RA_KEYS = ("tender_joint_count_28", "swollen_joint_count_28", "esr", "crp",
            "patient_global", "evaluator_global")
_HBI_ITEMS = ("general_wellbeing", "abdominal_pain", "liquid_stools", "abdominal_mass",
              "complications")
_MAYO_ITEMS = ("stool_frequency", "rectal_bleeding", "physician_global")
_KNOWN_KEYS = (_RA_KEYS + tuple("hbi_" + k for k in _HBI_ITEMS)
               + tuple("mayo_" + k for k in _MAYO_ITEMS) + ("mayo_endoscopic",))


def derived_scores(measurements: dict) -> dict[str, Score]:
    """Every score whose components are all present (not None) in ``measurements``.

    DAS28 falls back to its 3-variable formula when patient_global is missing.
    """
    # Only our keys are read, so unrelated (e.g. text) entries in the dict are harmless.
    m = {k: float(measurements[k]) for k in _KNOWN_KEYS if measurements.get(k) is not None}
    out: dict[str, Score] = {}

    def add(name, label, value, decimals, labels, max_subscore=0):
        if decimals:
            value = round(value, decimals)
        category = categorize(name, value, max_subscore=max_subscore)
        out[name] = Score(name, label, value, category, labels[category])

    if "tender_joint_count_28" in m and "swollen_joint_count_28" in m:
        j = {"tjc28": m["tender_joint_count_28"], "sjc28": m["swollen_joint_count_28"]}
        pg = m.get("patient_global")
        if "esr" in m and pg is not None:
            add("das28_esr", "DAS28-ESR",
                das28_esr(**j, esr=m["esr"], patient_global=pg), 2, RA_LABELS)
        elif "esr" in m:
            add("das28_esr", "DAS28-ESR (3 variables)",
                das28_esr_3v(**j, esr=m["esr"]), 2, RA_LABELS)
        if "crp" in m and pg is not None:
            add("das28_crp", "DAS28-CRP",
                das28_crp(**j, crp_mg_l=m["crp"], patient_global=pg), 2, RA_LABELS)
        elif "crp" in m:
            add("das28_crp", "DAS28-CRP (3 variables)",
                das28_crp_3v(**j, crp_mg_l=m["crp"]), 2, RA_LABELS)
        if pg is not None and "evaluator_global" in m:
            g = {"patient_global": pg, "evaluator_global": m["evaluator_global"]}
            add("cdai", "CDAI", cdai(**j, **g), 1, RA_LABELS)
            if "crp" in m:
                add("sdai", "SDAI", sdai(**j, **g, crp_mg_l=m["crp"]), 1, RA_LABELS)

    if all("hbi_" + k in m for k in _HBI_ITEMS):
        items = {k: m["hbi_" + k] for k in _HBI_ITEMS}
        add("hbi", "Harvey-Bradshaw Index", harvey_bradshaw(**items), 0, IBD_LABELS)

    if all("mayo_" + k in m for k in _MAYO_ITEMS):
        sub = {k: m["mayo_" + k] for k in _MAYO_ITEMS}
        add("partial_mayo", "Partial Mayo score", partial_mayo(**sub), 0, IBD_LABELS)
        if "mayo_endoscopic" in m:
            sub["endoscopic"] = m["mayo_endoscopic"]
            add("full_mayo", "Mayo score", full_mayo(**sub), 0, IBD_LABELS,
                max_subscore=max(sub.values()))
    return out
