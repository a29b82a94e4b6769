"""The literature the synthetic cohort follows: one table of effects on the log-odds of response, and
the response rate of each drug in each disease for a reference patient.

recommendations.cohort draws responses from these rows, docs/synthetic-cohort.md
renders them, and the tests check the cohort and the trained models against them.
Effect sizes follow the direction and rough size of the cited findings; they are
choices for a simulation, not estimates taken from those papers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patients.dictionary import BY_NAME, CD, MS, RA, UC, Kind, features_for
from patients.drugs import Drug, DrugClass

DULAI_2018 = ("Dulai PS et al. Gastroenterology 2018;155:687–695 "
              "(vedolizumab clinical decision support tool, Crohn's disease)")
DULAI_2020 = ("Dulai PS et al. Clin Gastroenterol Hepatol 2020;18:2952–2961 "
              "(vedolizumab clinical decision support tool, ulcerative colitis)")
FASANMADE_2009 = ("Fasanmade AA et al. Eur J Clin Pharmacol 2009;65:1211–1228 "
                  "(low albumin, faster infliximab clearance in UC)")
SECOND_ANTI_TNF = ("Gisbert JP, Panés J. Am J Gastroenterol 2009;104:760–767; Gisbert JP et al. Aliment Pharmacol Ther "
                   "2015;41:613–623; Rubbert-Roth A, Finckh A. Arthritis Res Ther 2009;11(Suppl 1):S1")
SWITCHING = ("Rubbert-Roth A, Finckh A. Arthritis Res Ther 2009;11(Suppl 1):S1; Hyrich KL et al. Arthritis Rheum "
             "2007;56:13–20; Gisbert JP et al. Aliment Pharmacol Ther 2015;41:613–623")
DURATION = ("Anderson JJ et al. Arthritis Rheum 2000;43:22–29 (RA); Ungaro RC et al. Aliment Pharmacol Ther "
            "2020;51:831–842 (CD); Weideman AM et al. Front Neurol 2017;8:577 (MS)")
PRIOR_THERAPIES = ("Hyrich KL et al. Arthritis Rheum 2007;56:13–20; Gisbert JP et al. Aliment Pharmacol Ther "
                   "2015;41:613–623; Prosperini L et al. Neurotherapeutics 2020;17:994–1004")
ISAACS_2013 = "Isaacs JD et al. Ann Rheum Dis 2013;72:329–336 (RF/ACPA and rituximab response, meta-analysis)"
SOKOLOVE_2016 = "Sokolove J et al. Ann Rheum Dis 2016;75:709–714 (anti-CCP concentration and abatacept, AMPLE)"
GOTTENBERG_2016 = ("Gottenberg JE et al. Arthritis Rheumatol 2016;68:1346–1352 "
                   "(RF/ACPA and abatacept, European registries)")
HYRICH_2006 = "Hyrich KL et al. Rheumatology 2006;45:1558–1565 (predictors of anti-TNF response, BSRBR)"
ROTSTEIN_2015 = "Rotstein DL et al. JAMA Neurol 2015;72:152–158 (baseline activity and NEDA-3)"
HIGHLY_ACTIVE_MS = ("Hutchinson M et al. J Neurol 2009;256:405–415 (AFFIRM/SENTINEL highly active subgroup); "
                    "Prosperini L et al. Neurotherapeutics 2020;17:994–1004 (induction vs escalation)")

# Targets that are groups rather than one drug or one DrugClass value.
TARGET_GROUPS = ("all", "high_efficacy")


@dataclass(frozen=True)
class Effect:
    """One literature effect on the log-odds of response.

    disease: a Disease value or "all" (every disease whose features include `feature`).
    target: an ATC code, a DrugClass value, "high_efficacy" (Drug.high_efficacy) or "all".
    The term multiplied by log_odds is (value - centre) / step on the linear scale,
    log2((1 + value) / (1 + centre)) on the log2 scale (per doubling), or 1 when a
    code variable holds `code`. Effects add up: a class row and an "all" row both apply.
    """

    disease: str
    target: str
    feature: str
    log_odds: float
    source: str
    scale: str = "linear"
    centre: float = 0.0
    step: float = 1.0
    code: str = ""

    @property
    def direction(self) -> str:
        return "raises response" if self.log_odds > 0 else "lowers response"

    def per(self) -> str:
        """The unit the log-odds refer to, in words."""
        var = BY_NAME[self.feature]
        if self.code:
            return f"{self.code} vs other codes"
        if var.kind == Kind.BOOLEAN:
            return "yes vs no"
        unit = "" if var.unit in ("1", "{score}", "{count}") else f" {var.display_unit}"
        if self.scale == "log2":
            return f"per doubling of (1 + value), centred at {self.centre:g}{unit}"
        step = "+1" if self.step == 1 else f"{self.step:g}{unit}"
        return f"per {step}, centred at {self.centre:g}{unit}"

    def applies(self, *, disease: str, drug: Drug) -> bool:
        if self.disease not in ("all", disease) or self.feature not in features_for(disease):
            return False
        return self.target in ("all", drug.atc, str(drug.drug_class)) or (
            self.target == "high_efficacy" and drug.high_efficacy
        )

    def term(self, values: np.ndarray) -> np.ndarray:
        if self.code:
            return (values == BY_NAME[self.feature].code_values.index(self.code)).astype(float)
        if self.scale == "log2":
            return np.log2((1.0 + values) / (1.0 + self.centre))
        return (values - self.centre) / self.step


E = Effect
VEDO, ABATACEPT, RITUXIMAB = "L04AG05", "L04AA24", "L01FA01"
ANTI_TNF = str(DrugClass.ANTI_TNF)
EFFECTS: tuple[Effect, ...] = (
    E(CD, VEDO, "prior_anti_tnf_exposure", -0.9, DULAI_2018),
    E(CD, VEDO, "prior_bowel_surgery", -0.6, DULAI_2018),
    E(CD, VEDO, "fistulising_disease", -0.6, DULAI_2018),
    E(CD, VEDO, "albumin", 0.6, DULAI_2018, centre=40, step=10),
    E(CD, VEDO, "crp", -0.35, DULAI_2018, scale="log2", centre=5),
    E(UC, VEDO, "prior_anti_tnf_exposure", -0.7, DULAI_2020),
    E(UC, VEDO, "albumin", 0.4, DULAI_2020, centre=40, step=10),
    E(UC, ANTI_TNF, "albumin", 0.5, FASANMADE_2009, centre=40, step=10),
    # A failed anti-TNF costs every next drug a little and a second anti-TNF more.
    E("all", "all", "prior_anti_tnf_failure", -0.3, SECOND_ANTI_TNF),
    E("all", ANTI_TNF, "prior_anti_tnf_failure", -0.3, SECOND_ANTI_TNF),
    # For an anti-TNF candidate this equals prior_anti_tnf_failure: -1.0 in all vs -0.3 for other mechanisms.
    E("all", "all", "prior_same_class_failure", -0.4, SWITCHING),
    E("all", "all", "disease_duration", -0.3, DURATION, centre=5, step=10),
    E("all", "all", "prior_advanced_therapies", -0.25, PRIOR_THERAPIES),
    E(RA, RITUXIMAB, "rf_positive", 0.5, ISAACS_2013),
    E(RA, RITUXIMAB, "anti_ccp_positive", 0.5, ISAACS_2013),
    E(RA, ABATACEPT, "anti_ccp_positive", 0.6, SOKOLOVE_2016),
    E(RA, ABATACEPT, "rf_positive", 0.3, GOTTENBERG_2016),
    E(RA, "all", "haq_di", -0.35, HYRICH_2006, centre=1.25),
    E(RA, ANTI_TNF, "smoking_status", -0.4, HYRICH_2006, code="current"),
    # NEDA-3 is harder to reach from an active baseline, much less so on a high-efficacy drug.
    E(MS, "all", "relapses_12m", -0.35, ROTSTEIN_2015, centre=1),
    E(MS, "high_efficacy", "relapses_12m", 0.25, HIGHLY_ACTIVE_MS, centre=1),
    E(MS, "all", "gd_lesions", -0.45, ROTSTEIN_2015, scale="log2", centre=1),
    E(MS, "high_efficacy", "gd_lesions", 0.3, HIGHLY_ACTIVE_MS, scale="log2", centre=1),
    E(MS, "all", "new_t2_lesions", -0.35, ROTSTEIN_2015, scale="log2", centre=2),
    E(MS, "high_efficacy", "new_t2_lesions", 0.25, HIGHLY_ACTIVE_MS, scale="log2", centre=2),
)


def effects_for(*, disease: str, drug: Drug) -> list[Effect]:
    return [e for e in EFFECTS if e.applies(disease=disease, drug=drug)]


@dataclass(frozen=True)
class BaseRate:
    """The response probability of a drug in a disease for the reference patient (every effect term zero:
    no prior advanced therapy, 5 years of disease, albumin 40 g/L, …), in the range its pivotal trials report."""

    disease: str
    atc: str
    rate: float
    source: str


B = BaseRate
SONIC = "SONIC: Colombel JF et al. N Engl J Med 2010;362:1383–1395"
AMPLE = "AMPLE: Weinblatt ME et al. Arthritis Rheum 2013;65:28–38"
OPERA = "OPERA I/II: Hauser SL et al. N Engl J Med 2017;376:221–234"
BASE_RATES: tuple[BaseRate, ...] = (
    B(CD, "L04AB02", 0.44, SONIC),
    B(CD, "L04AB04", 0.40, "CHARM: Colombel JF et al. Gastroenterology 2007;132:52–65"),
    B(CD, "L04AG05", 0.39, "GEMINI 2: Sandborn WJ et al. N Engl J Med 2013;369:711–721"),
    B(CD, "L04AC05", 0.42, "UNITI/IM-UNITI: Feagan BG et al. N Engl J Med 2016;375:1946–1960"),
    B(CD, "L04AC18", 0.45, "ADVANCE/MOTIVATE/FORTIFY: D'Haens G et al., Ferrante M et al. Lancet 2022;399:2015–2046"),
    B(CD, "L04AF03", 0.45, "U-EXCEL/U-EXCEED/U-ENDURE: Loftus EV Jr et al. N Engl J Med 2023;388:1966–1980"),
    B(UC, "L04AB02", 0.40, "ACT 1/2: Rutgeerts P et al. N Engl J Med 2005;353:2462–2476"),
    B(UC, "L04AB04", 0.25, "ULTRA 2: Sandborn WJ et al. Gastroenterology 2012;142:257–265"),
    B(UC, "L04AB06", 0.30, "PURSUIT: Sandborn WJ et al. Gastroenterology 2014;146:85–95, 96–109"),
    B(UC, "L04AG05", 0.40, "GEMINI 1: Feagan BG et al. N Engl J Med 2013;369:699–710"),
    B(UC, "L04AC05", 0.38, "UNIFI: Sands BE et al. N Engl J Med 2019;381:1201–1214"),
    B(UC, "L04AF01", 0.35, "OCTAVE: Sandborn WJ et al. N Engl J Med 2017;376:1723–1736"),
    B(UC, "L04AF03", 0.45, "U-ACHIEVE/U-ACCOMPLISH: Danese S et al. Lancet 2022;399:2113–2128"),
    B(UC, "L04AE02", 0.32, "True North: Sandborn WJ et al. N Engl J Med 2021;385:1280–1291"),
    B(RA, "L04AB04", 0.34, AMPLE),
    B(RA, "L04AB01", 0.36, HYRICH_2006),
    B(RA, "L04AB05", 0.33, "RAPID 1: Keystone E et al. Arthritis Rheum 2008;58:3319–3329"),
    B(RA, "L04AC07", 0.42, "ADACTA: Gabay C et al. Lancet 2013;381:1541–1550"),
    B(RA, "L04AA24", 0.34, AMPLE),
    B(RA, "L01FA01", 0.30, "REFLEX: Cohen SB et al. Arthritis Rheum 2006;54:2793–2806"),
    B(RA, "L04AF01", 0.35, "ORAL Standard: van Vollenhoven RF et al. N Engl J Med 2012;367:508–519"),
    B(RA, "L04AF02", 0.38, "RA-BEAM: Taylor PC et al. N Engl J Med 2017;376:652–662"),
    B(RA, "L04AF03", 0.42, "SELECT-COMPARE: Fleischmann R et al. Arthritis Rheumatol 2019;71:1788–1800"),
    B(RA, "L04AX03", 0.30, "SWEFOT: van Vollenhoven RF et al. Lancet 2009;374:459–466"),
    B(MS, "L03AB07", 0.25, f"{OPERA} (interferon beta-1a arm)"),
    B(MS, "L03AX13", 0.24, "CONFIRM: Fox RJ et al. N Engl J Med 2012;367:1087–1097"),
    B(MS, "L04AK02", 0.23, "TEMSO: O'Connor P et al. N Engl J Med 2011;365:1293–1303"),
    B(MS, "L04AX07", 0.28, "DEFINE: Gold R et al. N Engl J Med 2012;367:1098–1107"),
    B(MS, "L04AE01", 0.33, "FREEDOMS: Kappos L et al. N Engl J Med 2010;362:387–401"),
    B(MS, "L04AG03", 0.37, "AFFIRM: Havrdova E et al. Lancet Neurol 2009;8:254–260"),
    B(MS, "L04AG08", 0.48, OPERA),
    B(MS, "L04AG12", 0.47, "ASCLEPIOS I/II: Hauser SL et al. N Engl J Med 2020;383:546–557"),
    B(MS, "L04AG06", 0.39, "CARE-MS I: Cohen JA et al. Lancet 2012;380:1819–1828"),
    B(MS, "L04AA40", 0.44, "CLARITY: Giovannoni G et al. N Engl J Med 2010;362:416–426"),
)
BASE_RATE: dict[tuple[str, str], float] = {(b.disease, b.atc): b.rate for b in BASE_RATES}
