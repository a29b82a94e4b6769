"""UCUM unit conversion for the quantities the data dictionary stores.

Each unit belongs to one dimension and carries its factor to that dimension's
reference unit, so any two units of the same dimension convert through it.
Only units an EHR plausibly sends for our variables are listed: an unknown unit
is an error for the caller to report, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass


class UnitError(ValueError):
    """A unit that is unknown or cannot be converted to the one asked for."""


@dataclass(frozen=True)
class Unit:
    code: str  # UCUM case-sensitive code
    dimension: str
    factor: float  # multiply a value in this unit by factor to get the reference unit


_UNITS = [
    # mass concentration, reference mg/L
    Unit("mg/L", "mass_concentration", 1.0),
    Unit("ug/mL", "mass_concentration", 1.0),
    Unit("mg/dL", "mass_concentration", 10.0),
    Unit("g/L", "mass_concentration", 1000.0),
    Unit("g/dL", "mass_concentration", 10000.0),
    Unit("ug/L", "mass_concentration", 0.001),
    Unit("ng/mL", "mass_concentration", 0.001),
    # mass fraction (fecal calprotectin), reference ug/g
    Unit("ug/g", "mass_fraction", 1.0),
    Unit("mg/kg", "mass_fraction", 1.0),
    # erythrocyte sedimentation rate
    Unit("mm/h", "sedimentation_rate", 1.0),
    Unit("mm/[hr]", "sedimentation_rate", 1.0),
    # body mass index
    Unit("kg/m2", "area_density", 1.0),
    # time, reference year
    Unit("a", "time", 1.0),
    Unit("mo", "time", 1 / 12),
    Unit("wk", "time", 7 / 365.25),
    Unit("d", "time", 1 / 365.25),
    # dimensionless counts, indices and scores
    Unit("1", "dimensionless", 1.0),
    Unit("{score}", "dimensionless", 1.0),
    Unit("{count}", "dimensionless", 1.0),
    Unit("{index_val}", "dimensionless", 1.0),
    Unit("{pack-years}", "dimensionless", 1.0),
    Unit("/d", "per_day", 1.0),
    Unit("/(12.mo)", "per_year", 1.0),
    Unit("mm", "length_mm", 1.0),
    Unit("cm", "length_mm", 10.0),
    # blood cell counts, reference 10*9/L (= 10*3/uL; 800 /uL = 0.8 × 10⁹/L)
    Unit("10*9/L", "cell_count", 1.0),
    Unit("10*3/uL", "cell_count", 1.0),
    Unit("10*3/mm3", "cell_count", 1.0),
    Unit("/uL", "cell_count", 0.001),
    Unit("/mm3", "cell_count", 0.001),
    # enzyme activity (ALT), reference U/L; 1 µkat/L = 60 U/L
    Unit("U/L", "catalytic_concentration", 1.0),
    Unit("ukat/L", "catalytic_concentration", 60.0),
    # creatinine clearance, reference mL/min
    Unit("mL/min", "clearance", 1.0),
    Unit("mL/s", "clearance", 60.0),
    # eGFR, normalised to 1.73 m² body surface
    Unit("mL/min/{1.73_m2}", "clearance_per_area", 1.0),
    Unit("mL/s/{1.73_m2}", "clearance_per_area", 60.0),
    # rheumatoid factor titre
    Unit("[IU]/mL", "international_units", 1.0),
    Unit("k[IU]/L", "international_units", 1.0),
    Unit("[IU]/L", "international_units", 0.001),
    # anti-CCP titre: arbitrary units of the assay. Labs print "U/mL"; UCUM's U is the enzyme unit, but for an
    # anti-CCP result it can only mean the assay's arbitrary unit, so it is read as one.
    Unit("[arb'U]/mL", "arbitrary_units", 1.0),
    Unit("U/mL", "arbitrary_units", 1.0),
    # ECG intervals
    Unit("ms", "interval_ms", 1.0),
    Unit("s", "interval_ms", 1000.0),
]
UNITS: dict[str, Unit] = {u.code: u for u in _UNITS}

# Haemoglobin is also reported in mmol/L (Germany, the Netherlands). The factor
# depends on the substance (Hb monomer, 16.114 g/mol·10³), so it is declared per
# variable in the dictionary, not here.
MOLAR_HAEMOGLOBIN_G_PER_MMOL = 16.114


def convert(value: float, *, from_unit: str, to_unit: str) -> float:
    """Convert value from one UCUM unit to another of the same dimension."""
    if from_unit == to_unit:
        return value
    try:
        src, dst = UNITS[from_unit], UNITS[to_unit]
    except KeyError as exc:
        raise UnitError(f"unknown UCUM unit '{exc.args[0]}'") from None
    if src.dimension != dst.dimension:
        raise UnitError(f"'{from_unit}' cannot be converted to '{to_unit}'")
    return value * src.factor / dst.factor


def convertible_units(to_unit: str) -> list[str]:
    """Every unit accepted for a variable stored in to_unit."""
    target = UNITS.get(to_unit)
    if target is None:
        return [to_unit]
    return [u.code for u in _UNITS if u.dimension == target.dimension]
