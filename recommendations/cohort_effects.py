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

# Sources. "Seen" means the title, journal, year and the finding used were read in the abstract or a summary of
# the paper; volume and pages are given only where they were seen, otherwise "pages not checked".
DULAI_2018 = ("Dulai PS et al. Development and validation of a scoring system to predict outcomes of vedolizumab "
              "treatment in patients with Crohn's disease. Gastroenterology 2018;155(3):687–695.e10")
DULAI_2020 = ("Dulai PS et al. Development and validation of a clinical scoring tool for predicting treatment "
              "outcomes with vedolizumab in ulcerative colitis. Clin Gastroenterol Hepatol 2020 (volume and pages "
              "not checked; derivation on GEMINI 1, n = 620, seen in the ECCO 2019 abstract P631 and in the paper's "
              "abstract, PMC7899124: no prior anti-TNF +3 points, disease duration 2 years or more +3, moderate "
              "rather than severe endoscopic activity +2, albumin +0.65 points per g/L)")
LOUIS_2002 = ("Louis E et al. C-reactive protein, TNF-alpha and the TNF -308 polymorphism in the prediction of "
              "response to infliximab in Crohn's disease, PubMed 12190096 (2002; the abstract read, 226 patients; "
              "the exact title, journal and pages not checked): response 76 % with CRP > 5 mg/L vs 46 % with normal "
              "CRP")
VERMEIRE_2004 = ("Vermeire S, Van Assche G, Rutgeerts P. C-reactive protein as a marker for inflammatory bowel "
                 "disease. Inflamm Bowel Dis 2004;10:661–665 (a high CRP predicts a better response to anti-TNF)")
SMOKING_CD_2003 = ("An analysis of factors influencing short-term and sustained response to infliximab treatment for "
                   "Crohn's disease. Aliment Pharmacol Ther 2003;17(12):1451–1457, "
                   "doi:10.1046/j.1365-2036.2003.01574.x, PubMed 12823146 (smoking OR 0.24 in multiple logistic regression, 74 "
                   "patients; authors not checked)")
FASANMADE_2009 = ("Fasanmade AA et al. Eur J Clin Pharmacol 2009;65(12):1211–1228 (low albumin, faster infliximab "
                  "clearance in UC)")
SECOND_ANTI_TNF = ("Gisbert JP, Panés J. Am J Gastroenterol 2009;104(3):760–767; Gisbert JP et al. Aliment Pharmacol "
                   "Ther 2015;41(7):613–623; Rubbert-Roth A, Finckh A. Arthritis Res Ther 2009;11(Suppl 1):S1")
HYRICH_2007 = ("Hyrich KL et al. Outcomes after switching from one anti-tumor necrosis factor α agent to a second "
               "anti-tumor necrosis factor α agent in patients with rheumatoid arthritis: results from a large UK "
               "national cohort study. Arthritis Rheum 2007;56:13–20 (issue not checked; staying on the drug, not "
               "response)")
SWITCHING = ("Rubbert-Roth A, Finckh A. Arthritis Res Ther 2009;11(Suppl 1):S1; "
             f"{HYRICH_2007}; Gisbert JP et al. Aliment Pharmacol Ther 2015;41(7):613–623")
DURATION = ("Anderson JJ et al. Arthritis Rheum 2000;43(1):22–29 (RA); Ungaro RC et al. Aliment Pharmacol Ther "
            "2020;51(9):831–842 (CD)")
PRIOR_THERAPIES = (f"{HYRICH_2007}; Gisbert JP et al. Aliment Pharmacol Ther 2015;41(7):613–623; Prosperini L et "
                   "al. Neurotherapeutics 2020;17(3):994–1004")
ISAACS_2013 = "Isaacs JD et al. Ann Rheum Dis 2013;72(3):329–336 (RF/ACPA and rituximab response, meta-analysis)"
SOKOLOVE_2016 = "Sokolove J et al. Ann Rheum Dis 2016;75(4):709–714 (anti-CCP and abatacept, AMPLE)"
GOTTENBERG_2016 = ("Gottenberg JE et al. Arthritis Rheumatol 2016;68(6):1346–1352 (RF/ACPA and abatacept, European "
                   "registries)")
HYRICH_2006 = ("Hyrich KL et al. Predictors of response to anti-TNF-alpha therapy among patients with rheumatoid "
               "arthritis: results from the British Society for Rheumatology Biologics Register. Rheumatology 2006 "
               "(pages not checked): higher HAQ, lower response; methotrexate co-therapy OR 1.82 with etanercept")
SERGEANT_2018 = ("Sergeant JC et al. Prediction of primary non-response to methotrexate therapy (RAMS). Arthritis "
                 "Res Ther 2018;20:147: tender joints OR 1.06 per joint and RF negativity raise non-response")
SCHAFER_2020 = ("Schäfer M et al. Obesity reduces the real-world effectiveness of cytokine-targeted but not "
                "cell-targeted disease-modifying agents in rheumatoid arthritis (RABBIT). Rheumatology "
                "2020;59:1916–1926")
JAWAHEER_2012 = ("Jawaheer D, Olsen J, Hetland ML. Sex differences in response to anti-TNF therapy in early and "
                 "established RA (DANBIO). J Rheumatol 2012;39(1):46–53: men respond better in early RA")
ADACTA = ("ADACTA: Gabay C et al. Tocilizumab monotherapy versus adalimumab monotherapy for treatment of "
          "rheumatoid arthritis. Lancet 2013;381(9877):1541–1550: DAS28 change at week 24 -3.3 vs -1.8")
GLUCOCORTICOID_RA = ("The impact of glucocorticoid use on the outcomes of rheumatoid arthritis in a multicenter "
                     "ultrasound cohort study, 2024, PubMed 38487995 (journal and pages not checked): of 307 patients "
                     "starting a b/tsDMARD, the 160 on glucocorticoids (median 5 mg/day prednisolone) reached "
                     "remission less often at 12 months, also after inverse probability weighting")
ROTSTEIN_2015 = "Rotstein DL et al. JAMA Neurol 2015;72(2):152–158 (baseline activity and NEDA-3)"
HIGHLY_ACTIVE_MS = ("Hutchinson M et al. J Neurol 2009;256(3):405–415 (AFFIRM/SENTINEL highly active subgroup); "
                    "Prosperini L et al. Neurotherapeutics 2020;17(3):994–1004 (induction vs escalation)")
WEIDEMAN_2017 = ("Weideman AM et al. Meta-analysis of the age-dependent efficacy of multiple sclerosis treatments. "
                 "Front Neurol 2017;8:577: efficacy falls with age; high-efficacy drugs outperform others only "
                 "below about 40.5 years")
ORATORIO = ("ORATORIO: Montalban X et al. Ocrelizumab versus placebo in primary progressive multiple sclerosis. "
            "N Engl J Med 2017;376(3):209–220: 12-week CDP 32.9 % vs 39.3 %; post hoc NEPAD at week 120 "
            "29.9 % vs 9.4 % (J Neurol Neurosurg Psychiatry 2017;88(5):e1 abstract)")
AGA_2021 = ("AGA clinical practice guidelines on the medical management of moderate to severe luminal and "
            "perianal fistulizing Crohn's disease. Gastroenterology 2021;160(7):2512–2556.e9, Table 5 (network "
            "meta-analysis, biologic-naive patients, clinical remission vs infliximab: adalimumab OR 0.64, "
            "vedolizumab 0.46, ustekinumab 0.47)")
BARBERIO_2023 = ("Barberio B, Gracie DJ, Black CJ, Ford AC. Efficacy of biological therapies and small molecules in "
                 "induction and maintenance of remission in luminal Crohn's disease: network meta-analysis. Gut "
                 "2023;72(2):264 (risankizumab 600 mg first in biologic-naive and biologic-exposed patients, "
                 "infliximab first overall, upadacitinib third)")
SINGH_CD_2018 = ("Singh S, Fumery M, Sandborn WJ, Murad MH. Systematic review and network meta-analysis: first- and "
                 "second-line biologic therapies for moderate-severe Crohn's disease. Aliment Pharmacol Ther 2018, "
                 "doi:10.1111/apt.14852, PubMed 29920733 (volume and pages not checked): ustekinumab the preferred "
                 "second-line agent (SUCRA 0.71 after anti-TNF exposure; adalimumab 0.91 only in patients with prior "
                 "response or intolerance to anti-TNF)")
UC_EXPOSED_NMA = ("Singh S, Murad MH, Fumery M, Dulai PS, Sandborn WJ. First- and second-line pharmacotherapies for "
                  "patients with moderate to severely active ulcerative colitis: an updated network meta-analysis. "
                  "Clin Gastroenterol Hepatol 2020;18(10):2179–2191.e6, Table 3: after anti-TNF exposure, clinical "
                  "remission OR ustekinumab vs vedolizumab 5.99, tofacitinib vs vedolizumab 6.18, ustekinumab vs "
                  "adalimumab 10.71")

# Targets that are groups rather than one drug or one DrugClass value.
TARGET_GROUPS = ("all", "high_efficacy", "advanced")


@dataclass(frozen=True)
class Effect:
    """One literature effect on the log-odds of response.

    disease: a Disease value or "all" (every disease whose features include `feature`).
    target: an ATC code, a DrugClass value, "high_efficacy" (Drug.high_efficacy) or "all".
    The term multiplied by log_odds is (value - centre) / step on the linear scale,
    log2((1 + value) / (1 + centre)) on the log2 scale (per doubling), 1 when value >= centre on the
    "at_least" scale (a published cut-off), or 1 when a code variable holds `code`. Effects add up: a
    class row and an "all" row both apply.
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
    cap: float | None = None  # linear scale only: the term stops growing at this many steps (a plateau)

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
        if self.scale == "at_least":
            return f"{self.centre:g}{unit} or more vs less"
        step = "+1" if self.step == 1 else f"{self.step:g}{unit}"
        flat = "" if self.cap is None else f", flat beyond ±{self.cap * self.step:g}{unit}"
        return f"per {step}, centred at {self.centre:g}{unit}{flat}"

    def applies(self, *, disease: str, drug: Drug) -> bool:
        if self.disease not in ("all", disease) or self.feature not in features_for(disease):
            return False
        return self.target in ("all", drug.atc, str(drug.drug_class)) or (
            self.target == "high_efficacy" and drug.high_efficacy
        ) or (self.target == "advanced" and drug.drug_class != DrugClass.CSDMARD)

    def term(self, values: np.ndarray) -> np.ndarray:
        if self.code:
            return (values == BY_NAME[self.feature].code_values.index(self.code)).astype(float)
        if self.scale == "log2":
            return np.log2((1.0 + values) / (1.0 + self.centre))
        if self.scale == "at_least":
            return (values >= self.centre).astype(float)
        term = (values - self.centre) / self.step
        return term if self.cap is None else np.clip(term, -self.cap, self.cap)


E = Effect
VEDO, ABATACEPT, RITUXIMAB, TOCILIZUMAB, METHOTREXATE = "L04AG05", "L04AA24", "L01FA01", "L04AC07", "L04AX03"
ANTI_TNF, ANTI_CD20 = str(DrugClass.ANTI_TNF), str(DrugClass.ANTI_CD20)
# Sizes: where the source reports an odds ratio the log-odds stay at or below it (single-centre and registry
# estimates are optimistic); where it reports points of a score, they are scaled to the score's weight.
EFFECTS: tuple[Effect, ...] = (
    # Crohn's disease. Vedolizumab: the CDST's items (no prior anti-TNF 3 points, no surgery 2, no fistula 2,
    # 0.4 points per g/L of albumin, CRP 3–10 mg/L -0.5 and > 10 mg/L -3), at 0.3 log-odds per point, which puts the
    # prior-anti-TNF item at the -0.9 log-odds of the tool's largest single item.
    E(CD, VEDO, "prior_anti_tnf_exposure", -0.9, DULAI_2018),
    E(CD, VEDO, "prior_bowel_surgery", -0.6, DULAI_2018),
    E(CD, VEDO, "fistulising_disease", -0.6, DULAI_2018),
    E(CD, VEDO, "albumin", 1.2, DULAI_2018, centre=40, step=10),
    E(CD, VEDO, "crp", -0.15, DULAI_2018, scale="at_least", centre=3),
    E(CD, VEDO, "crp", -0.75, DULAI_2018, scale="at_least", centre=10),
    # Anti-TNF in Crohn's: an inflammatory (high-CRP) disease responds better (odds ratio ~3.7 for CRP > 5 mg/L),
    # current smokers worse (odds ratio 0.24); both kept below the reported size.
    E(CD, ANTI_TNF, "crp", 0.5, f"{LOUIS_2002}; {VERMEIRE_2004}", scale="log2", centre=5),
    E(CD, ANTI_TNF, "smoking_status", -1.0, SMOKING_CD_2003, code="current"),
    # After anti-TNF exposure the IL-12/23 and IL-23 antibodies keep more of their effect than other mechanisms.
    E(CD, "L04AC05", "prior_anti_tnf_exposure", 0.4, SINGH_CD_2018),
    E(CD, "L04AC18", "prior_anti_tnf_exposure", 0.4, BARBERIO_2023),
    # Ulcerative colitis. Vedolizumab CDST: no prior anti-TNF, disease for 2 years or more, moderate rather than
    # severe endoscopic activity, and albumin are favourable.
    E(UC, VEDO, "prior_anti_tnf_exposure", -0.7, DULAI_2020),
    E(UC, VEDO, "disease_duration", 0.5, DULAI_2020, scale="at_least", centre=2),
    E(UC, VEDO, "mayo_endoscopic", -0.5, DULAI_2020, scale="at_least", centre=3),
    E(UC, VEDO, "albumin", 0.4, DULAI_2020, centre=40, step=10),
    E(UC, ANTI_TNF, "albumin", 0.5, FASANMADE_2009, centre=40, step=10),
    # After anti-TNF exposure ustekinumab and the JAK inhibitors keep their effect; vedolizumab (above) and a second
    # anti-TNF (below) lose most of theirs. Half the reported odds ratio of ~6 against vedolizumab comes from these
    # rows, the rest from the vedolizumab and anti-TNF rows.
    E(UC, "L04AC05", "prior_anti_tnf_exposure", 0.6, UC_EXPOSED_NMA),
    E(UC, str(DrugClass.JAK), "prior_anti_tnf_exposure", 0.6, UC_EXPOSED_NMA),
    # A failed anti-TNF costs every next drug a little and a second anti-TNF more.
    E("all", "all", "prior_anti_tnf_failure", -0.3, SECOND_ANTI_TNF),
    E("all", ANTI_TNF, "prior_anti_tnf_failure", -0.3, SECOND_ANTI_TNF),
    # For an anti-TNF candidate this equals prior_anti_tnf_failure: -1.0 in all vs -0.3 for other mechanisms.
    E("all", "all", "prior_same_class_failure", -0.4, SWITCHING),
    E(CD, "all", "disease_duration", -0.3, DURATION, centre=5, step=10),
    E(RA, "all", "disease_duration", -0.3, DURATION, centre=5, step=10),
    E("all", "all", "prior_advanced_therapies", -0.25, PRIOR_THERAPIES),
    # Rheumatoid arthritis. Seropositivity favours the cell-targeted drugs.
    E(RA, RITUXIMAB, "rf_positive", 0.5, ISAACS_2013),
    E(RA, RITUXIMAB, "anti_ccp_positive", 0.5, ISAACS_2013),
    E(RA, ABATACEPT, "anti_ccp_positive", 0.6, SOKOLOVE_2016),
    E(RA, ABATACEPT, "rf_positive", 0.3, GOTTENBERG_2016),
    E(RA, METHOTREXATE, "rf_positive", 0.45, SERGEANT_2018),  # OR 0.62 for non-response when RF-positive
    # Baseline activity and disability lower the chance of a good response on every drug.
    E(RA, "all", "haq_di", -0.35, HYRICH_2006, centre=1.25),
    E(RA, "all", "tender_joint_count_28", -0.05, SERGEANT_2018, centre=8),
    # Anti-TNF works better with methotrexate (BSRBR OR 1.82); tocilizumab works as well alone (ADACTA: DAS28
    # -3.3 on tocilizumab vs -1.8 on adalimumab, both without methotrexate), so it carries no such term.
    # The anti-TNF base rates come from trials with methotrexate (AMPLE), so the term is centred there: -0.6 off it.
    E(RA, ANTI_TNF, "concomitant_methotrexate", 0.6, f"{HYRICH_2006}; {ADACTA}", centre=1),
    # Obesity lowers the response to cytokine-targeted drugs (anti-TNF, tocilizumab), not to abatacept or rituximab.
    E(RA, ANTI_TNF, "bmi", -0.45, SCHAFER_2020, scale="at_least", centre=30),
    E(RA, TOCILIZUMAB, "bmi", -0.35, SCHAFER_2020, scale="at_least", centre=30),
    E(RA, ANTI_TNF, "sex", -0.25, JAWAHEER_2012, code="female"),
    E(RA, ANTI_TNF, "smoking_status", -0.4, HYRICH_2006, code="current"),
    # On a glucocorticoid when a biologic or targeted synthetic drug starts: remission less often, beyond the higher
    # activity that goes with it (the source's weighted comparison). It gives no odds ratio; the size is a choice,
    # below HAQ's, and methotrexate (not a b/tsDMARD) carries no term.
    E(RA, "advanced", "glucocorticoid", -0.3, GLUCOCORTICOID_RA),
    # Multiple sclerosis (NEDA-3). An active baseline costs platform therapies more than high-efficacy drugs.
    E(MS, "all", "relapses_12m", -0.35, ROTSTEIN_2015, centre=1),
    E(MS, "high_efficacy", "relapses_12m", 0.25, HIGHLY_ACTIVE_MS, centre=1),
    E(MS, "all", "gd_lesions", -0.45, ROTSTEIN_2015, scale="log2", centre=1),
    E(MS, "high_efficacy", "gd_lesions", 0.3, HIGHLY_ACTIVE_MS, scale="log2", centre=1),
    E(MS, "all", "new_t2_lesions", -0.35, ROTSTEIN_2015, scale="log2", centre=2),
    E(MS, "high_efficacy", "new_t2_lesions", 0.25, HIGHLY_ACTIVE_MS, scale="log2", centre=2),
    # The advantage of high-efficacy drugs shrinks with age and is gone by ~40.5 years: -0.6 per decade from 30,
    # flat from 40.5 on (cap 1.05 decades), which takes away the ~0.6 log-odds by which ocrelizumab leads
    # fingolimod at the reference and no more (the source says the advantage is gone, not reversed).
    E(MS, "high_efficacy", "age", -0.6, WEIDEMAN_2017, centre=30, step=10, cap=1.05),
    # Progressive courses rarely reach NEDA (progression counts); only anti-CD20 has shown an effect in PPMS.
    E(MS, "all", "ms_course", -0.8, ORATORIO, code="SPMS"),
    E(MS, "all", "ms_course", -1.2, ORATORIO, code="PPMS"),
    E(MS, ANTI_CD20, "ms_course", 0.9, ORATORIO, code="PPMS"),
)


def effects_for(*, disease: str, drug: Drug) -> list[Effect]:
    return [e for e in EFFECTS if e.applies(disease=disease, drug=drug)]


# One comparable time point per disease, intention-to-treat (every randomised patient in the denominator): never a
# maintenance rate among responders re-randomised after induction, which would count only the patients the drug
# already helped.
ENDPOINTS: dict[str, str] = {
    CD: ("clinical remission in biologic-naive patients, intention-to-treat: infliximab's week-26 rate in SONIC, the "
         "others at the network meta-analysis odds ratios against it"),
    UC: "clinical remission (Mayo-based) at the end of induction (weeks 6–10), intention-to-treat",
    RA: "EULAR good response or the nearest reported response at week 24 (month 6), intention-to-treat",
    MS: "NEDA-3 over about two years (weeks 96–104), intention-to-treat",
}


@dataclass(frozen=True)
class BaseRate:
    """The response probability of a drug in a disease for the reference patient (every effect term zero:
    no prior advanced therapy, 5 years of disease, albumin 40 g/L, …), at the disease's ENDPOINTS time point.

    checked: whether the rate was read in the source for this table; False means the value is carried over
    from the trial as remembered by the authors of this table and still needs checking.
    """

    disease: str
    atc: str
    rate: float
    source: str
    checked: bool = False


B = BaseRate
BASE_RATES: tuple[BaseRate, ...] = (
    # Crohn's disease: one anchor (infliximab monotherapy in SONIC, a biologic-naive population, week 26) and
    # the others placed by the biologic-naive network meta-analysis odds ratios against infliximab.
    B(CD, "L04AB02", 0.44, "SONIC: Colombel JF et al. N Engl J Med 2010;362:1383–1395 (issue not checked; "
                           "infliximab monotherapy, steroid-free remission week 26, biologic-naive: 44.4 %, 75 of 169, "
                           "as reported in a news summary of the paper)"),
    B(CD, "L04AB04", 0.335, f"{AGA_2021}: infliximab's 0.44 at OR 0.64", checked=True),
    B(CD, "L04AG05", 0.265, f"{AGA_2021}: infliximab's 0.44 at OR 0.46", checked=True),
    B(CD, "L04AC05", 0.27, f"{AGA_2021}: infliximab's 0.44 at OR 0.47", checked=True),
    B(CD, "L04AC18", 0.45, f"{BARBERIO_2023}: ranked above infliximab in biologic-naive patients", checked=True),
    B(CD, "L04AF03", 0.42, f"{BARBERIO_2023}: ranked below infliximab and risankizumab; U-EXCEL: Loftus EV Jr et "
                           "al. N Engl J Med 2023;388(21):1966–1980, CDAI remission week 12 49.5 % vs 29.1 % placebo",
      checked=True),
    B(UC, "L04AB02", 0.39, "ACT 1: Rutgeerts P et al. N Engl J Med 2005 (5 mg/kg, remission week 8)"),
    B(UC, "L04AB04", 0.17, "ULTRA 2: Sandborn WJ et al. Gastroenterology 2012 (remission week 8)"),
    B(UC, "L04AB06", 0.18, "PURSUIT-SC: Sandborn WJ et al. Gastroenterology 2014 (200/100 mg, remission week 6)"),
    B(UC, "L04AG05", 0.17, "GEMINI 1: Feagan BG et al. N Engl J Med 2013 (remission week 6)"),
    B(UC, "L04AC05", 0.16, "UNIFI: Sands BE et al. N Engl J Med 2019 (6 mg/kg, remission week 8)"),
    B(UC, "L04AF01", 0.19, "OCTAVE Induction 1: Sandborn WJ et al. N Engl J Med 2017 (10 mg bid, remission week 8)"),
    B(UC, "L04AF03", 0.26, "U-ACHIEVE induction: Danese S et al. Lancet 2022 (45 mg, remission week 8)"),
    B(UC, "L04AE02", 0.18, "True North: Sandborn WJ et al. N Engl J Med 2021 (remission week 10)"),
    # The three anti-TNFs share one rate: the BSRBR found no difference between etanercept and infliximab.
    B(RA, "L04AB04", 0.34, "AMPLE: Weinblatt ME et al. Arthritis Rheum 2013;65(1):28–38 (rate not read; adalimumab + "
                           f"MTX); one rate for the class per {HYRICH_2006}"),
    B(RA, "L04AB01", 0.34, f"{HYRICH_2006}: no difference between etanercept and infliximab", checked=True),
    B(RA, "L04AB05", 0.34, f"RAPID 1: Keystone E et al. Arthritis Rheum 2008; one rate for the class per {HYRICH_2006}"),
    B(RA, "L04AC07", 0.42, f"{ADACTA} (tocilizumab monotherapy; the rate itself not read)"),
    B(RA, "L04AA24", 0.34, "AMPLE: Weinblatt ME et al. Arthritis Rheum 2013;65(1):28–38 (rate not read; abatacept + "
                           "MTX)"),
    B(RA, "L01FA01", 0.30, "REFLEX: Cohen SB et al. Arthritis Rheum 2006;54:2793–2806 (issue not checked)"),
    B(RA, "L04AF01", 0.35, "ORAL Standard: van Vollenhoven RF et al. N Engl J Med 2012"),
    B(RA, "L04AF02", 0.38, "RA-BEAM: Taylor PC et al. N Engl J Med 2017"),
    B(RA, "L04AF03", 0.42, "SELECT-COMPARE: Fleischmann R et al. Arthritis Rheumatol 2019"),
    B(RA, "L04AX03", 0.30, "SWEFOT: van Vollenhoven RF et al. Lancet 2009"),
    B(MS, "L03AB07", 0.25, "OPERA I/II: Hauser SL et al. N Engl J Med 2017 (interferon beta-1a arm)"),
    B(MS, "L03AX13", 0.24, "CONFIRM: Fox RJ et al. N Engl J Med 2012"),
    B(MS, "L04AK02", 0.23, "TEMSO: O'Connor P et al. N Engl J Med 2011"),
    B(MS, "L04AX07", 0.28, "DEFINE: Gold R et al. N Engl J Med 2012"),
    B(MS, "L04AE01", 0.33, "FREEDOMS: Kappos L et al. N Engl J Med 2010"),
    B(MS, "L04AG03", 0.37, "AFFIRM: Havrdova E et al. Lancet Neurol 2009"),
    B(MS, "L04AG08", 0.48, "OPERA I/II: Hauser SL et al. N Engl J Med 2017 (ocrelizumab arm)"),
    # Both anti-CD20 antibodies share ocrelizumab's rate: no trial has compared them.
    B(MS, "L04AG12", 0.48, "ASCLEPIOS I/II: Hauser SL et al. N Engl J Med 2020; OPERA's anti-CD20 rate"),
    B(MS, "L04AG06", 0.39, "CARE-MS I: Cohen JA et al. Lancet 2012"),
    B(MS, "L04AA40", 0.44, "CLARITY: Giovannoni G et al. N Engl J Med 2010"),
)
BASE_RATE: dict[tuple[str, str], float] = {(b.disease, b.atc): b.rate for b in BASE_RATES}
