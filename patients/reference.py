"""Reference ranges: whether a patient's value is high or low for a person like them, with the source of each range.

Read by the explanations of a ranking ("CRP 24 mg/L, high") so that a clinician sees at a glance whether an input
that moves the estimate is itself abnormal. Only variables with a published range are listed; the others show their
value and unit without a judgement. Ranges that depend on sex or age take them from the patient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    name: str  # data dictionary variable
    # (lower, upper) for a patient of this sex ("female", "male", other or None) and age (years or None);
    # None on a side that has no limit. Returns None when the range is not defined for the patient.
    limits: Callable[[str | None, float | None], tuple[float | None, float | None] | None]
    source: str


def _fixed(lower: float | None, upper: float | None):
    return lambda sex, age: (lower, upper)


def _haemoglobin(sex, age):
    # Anaemia thresholds of non-pregnant adults; no upper limit is judged here.
    if age is not None and age < 15:
        return None
    return {"female": (120.0, None), "male": (130.0, None)}.get(sex)


def _esr(sex, age):
    # Miller's rule: the upper limit in mm/h is age/2 for men and (age + 10)/2 for women.
    if age is None or sex not in ("female", "male"):
        return None
    return (None, (age + 10) / 2 if sex == "female" else age / 2)


REFERENCES: dict[str, Reference] = {r.name: r for r in (
    Reference("crp", _fixed(None, 5.0),
              "Usual upper reference limit 5 mg/L; Pepys MB, Hirschfield GM, J Clin Invest 2003;111:1805–1812"),
    Reference("albumin", _fixed(35.0, 50.0), "Common laboratory reference range 35–50 g/L"),
    Reference("haemoglobin", _haemoglobin,
              "WHO, Haemoglobin concentrations for the diagnosis of anaemia and assessment of severity, "
              "WHO/NMH/NHD/MNM/11.1, 2011, table 1: anaemia below 120 g/L (women) and 130 g/L (men) from 15 years"),
    Reference("bmi", _fixed(18.5, 25.0),
              "WHO, Obesity: preventing and managing the global epidemic, Technical Report Series 894, 2000: "
              "normal range 18.5–24.9 kg/m²"),
    Reference("esr", _esr,
              "Miller A, Green M, Robinson D, Simple rule for calculating normal erythrocyte sedimentation rate, "
              "BMJ 1983;286:266: upper limit age/2 (men), (age + 10)/2 (women)"),
    Reference("fecal_calprotectin", _fixed(None, 50.0),
              "NICE diagnostics guidance DG11 (2013), faecal calprotectin tests: 50 µg/g cut-off"),
)}


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def reference_position(name: str, value, *, sex: str | None, age: float | None) -> dict | None:
    """{"position": "low" | "high" | "within", "range": "< 5", "source"} for a value, or None when the variable has
    no reference range for this patient (or the value is unknown)."""
    ref = REFERENCES.get(name)
    if ref is None or value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    limits = ref.limits(sex, age)
    if limits is None:
        return None
    lower, upper = limits
    if lower is not None and upper is not None:
        text = f"{_num(lower)}–{_num(upper)}"
    elif lower is not None:
        text = f"≥ {_num(lower)}"
    else:
        text = f"≤ {_num(upper)}"
    position = "low" if lower is not None and number < lower else "high" if upper is not None and number > upper \
        else "within"
    return {"position": position, "range": text, "source": ref.source}
