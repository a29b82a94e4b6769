"""Patient vignettes written from the EU SmPCs: a patient's record and, per candidate drug, the flags and licence
status a drug-safety pharmacist expects.

Each vignette starts from a fully screened patient of its disease (every screening the SmPCs ask for is on record
and clear, so a drug without an expectation gets no flag and no check) and changes what the statement it tests
is about. `expect` maps an ATC code (or "*", every candidate of the disease) to:
- fired: the rules that must hold (contraindications, warnings, "not recommended"), exactly;
- licensed: True, False (outside SmPC 4.1) or None (the licence cannot be confirmed: a check names why);
- checks: the inputs "check before starting" flags must ask for, exactly (variable names, or the words of what
  only the record's history or a clinician can tell).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

TODAY = dt.date.today()
CD, UC, RA, MS = "crohns_disease", "ulcerative_colitis", "rheumatoid_arthritis", "multiple_sclerosis"

INFLIXIMAB, ADALIMUMAB, GOLIMUMAB, ETANERCEPT, CERTOLIZUMAB = "L04AB02", "L04AB04", "L04AB06", "L04AB01", "L04AB05"
VEDOLIZUMAB, USTEKINUMAB, RISANKIZUMAB, GUSELKUMAB, MIRIKIZUMAB = "L04AG05", "L04AC05", "L04AC18", "L04AC16", "L04AC24"
TOCILIZUMAB, SARILUMAB, ABATACEPT, RITUXIMAB, METHOTREXATE = "L04AC07", "L04AC14", "L04AA24", "L01FA01", "L04AX03"
TOFACITINIB, BARICITINIB, UPADACITINIB, FILGOTINIB = "L04AF01", "L04AF02", "L04AF03", "L04AF04"
FINGOLIMOD, OZANIMOD, SIPONIMOD, PONESIMOD, ETRASIMOD = "L04AE01", "L04AE02", "L04AE03", "L04AE04", "L04AE05"
NATALIZUMAB, OCRELIZUMAB, OFATUMUMAB, UBLITUXIMAB, ALEMTUZUMAB = "L04AG03", "L04AG08", "L04AG12", "L04AG14", "L04AG06"
CLADRIBINE, TERIFLUNOMIDE, DMF, DRF = "L04AA40", "L04AK02", "L04AX07", "L04AX09"
IFN_B1A, PEG_IFN, IFN_B1B, GLATIRAMER = "L03AB07", "L03AB13", "L03AB08", "L03AX13"
AZATHIOPRINE = "L04AX01"

TNF = (INFLIXIMAB, ADALIMUMAB, GOLIMUMAB, ETANERCEPT, CERTOLIZUMAB)
JAK = (TOFACITINIB, BARICITINIB, UPADACITINIB, FILGOTINIB)
S1P_MS = (FINGOLIMOD, OZANIMOD, SIPONIMOD, PONESIMOD)
RMS = (OCRELIZUMAB, OFATUMUMAB, UBLITUXIMAB, PONESIMOD)
CANDIDATES = {
    CD: (INFLIXIMAB, ADALIMUMAB, VEDOLIZUMAB, USTEKINUMAB, RISANKIZUMAB, GUSELKUMAB, MIRIKIZUMAB, UPADACITINIB),
    UC: (INFLIXIMAB, ADALIMUMAB, GOLIMUMAB, VEDOLIZUMAB, USTEKINUMAB, RISANKIZUMAB, GUSELKUMAB, MIRIKIZUMAB,
         TOFACITINIB, UPADACITINIB, FILGOTINIB, OZANIMOD, ETRASIMOD),
    RA: TNF + (TOCILIZUMAB, SARILUMAB, ABATACEPT, RITUXIMAB, METHOTREXATE) + JAK,
    MS: (OCRELIZUMAB, OFATUMUMAB, UBLITUXIMAB, PONESIMOD, OZANIMOD, SIPONIMOD, FINGOLIMOD, NATALIZUMAB, ALEMTUZUMAB,
         CLADRIBINE, TERIFLUNOMIDE, DMF, DRF, PEG_IFN, IFN_B1A, IFN_B1B, GLATIRAMER),
}


@dataclass(frozen=True)
class E:
    fired: tuple[str, ...] = ()
    licensed: bool | None = True
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Earlier:
    days_ago: int
    values: dict


@dataclass(frozen=True)
class Vignette:
    name: str
    disease: str
    statement: str  # the SmPC statement it is written from
    changes: dict = field(default_factory=dict)  # None removes a value of the screened record
    sex: str = "male"
    age: int = 45
    diagnosed_years: float = 6
    therapies: tuple | None = None  # None: the disease's usual history
    earlier: tuple[Earlier, ...] = ()
    expect: dict = field(default_factory=dict)

    def expected(self, atc: str) -> E:
        base = {SIPONIMOD: E(licensed=False)} if self.disease == MS else {}
        return self.expect.get(atc) or self.expect.get("*") or base.get(atc) or E()


def alt(value, uln=40):
    return {"value": value, "unit": "U/L", "reference_high": uln}


SCREENED = {
    "smoking_status": "never", "tuberculosis_status": "none", "hbsag": "negative", "anti_hbc": "negative",
    "hcv_antibody": "negative", "hiv_status": "negative", "vzv_igg": "positive", "live_vaccine": "none",
    "serious_infection_active": False, "immunodeficiency": False, "malignancy_active": False,
    "malignancy_history": False, "hepatic_impairment": "none", "vte_history": False, "heart_failure_nyha": "none",
    "arterial_disease_history": False, "av_conduction": "none", "qtc": 410, "lymphocytes": 1.8, "neutrophils": 4.0,
    "platelets": 250, "haemoglobin": 140, "alt": alt(25), "creatinine_clearance": 95, "crp": 6.0, "albumin": 40.0,
    "bmi": 24.0,
}
BY_DISEASE = {
    CD: {"demyelinating_history": False, "hbi_general_wellbeing": 2, "hbi_abdominal_pain": 2, "hbi_liquid_stools": 6,
         "hbi_abdominal_mass": 1, "hbi_complications": 1, "fecal_calprotectin": 600, "montreal_location": "L3",
         "montreal_behaviour": "B1", "perianal_disease": False},
    UC: {"demyelinating_history": False, "mayo_stool_frequency": 2, "mayo_rectal_bleeding": 2,
         "mayo_physician_global": 2, "mayo_endoscopic": 2, "fecal_calprotectin": 800, "montreal_extent": "E3"},
    RA: {"demyelinating_history": False, "tender_joint_count_28": 9, "swollen_joint_count_28": 6, "esr": 35,
         "patient_global": 60, "evaluator_global": 55, "rf_positive": True, "anti_ccp_positive": True},
    MS: {"severe_depression": False, "cyp2c9_genotype": "*1/*1", "jcv_antibody_positive": False, "ms_course": "RRMS",
         "relapses_12m": 1, "gd_lesions": 1, "new_t2_lesions": 2, "edss": 2.5},
}
WOMAN = {"pregnancy_status": "not_pregnant", "effective_contraception": True}


def therapy(atc, start, stop=None, outcome="ongoing", detail=""):
    return {"drug": atc, "start": start, "stop": stop, "outcome": outcome, "stop_detail": detail}


SLR = "secondary_loss_of_response"
HISTORY = {
    RA: (therapy(METHOTREXATE, "2019-01-01", "2021-01-01", SLR), therapy(ADALIMUMAB, "2021-02-01", "2023-01-01", SLR)),
    MS: (therapy(IFN_B1A, "2019-01-01", "2022-06-01", SLR),),
    CD: (therapy(AZATHIOPRINE, "2018-01-01", "2020-01-01", "other"),),
    UC: (therapy(AZATHIOPRINE, "2018-01-01", "2020-01-01", "other"),),
}
EVERY = "*"
ALL_RA = TNF + (TOCILIZUMAB, SARILUMAB, ABATACEPT, RITUXIMAB, METHOTREXATE) + JAK


def each(atcs, e: E) -> dict:
    return {atc: e for atc in atcs}


def days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


PREGNANCY_46_RA = (INFLIXIMAB, ADALIMUMAB, GOLIMUMAB, ETANERCEPT, CERTOLIZUMAB, TOCILIZUMAB, SARILUMAB, ABATACEPT,
                   RITUXIMAB)
HA_JUDGEMENT = "at least 9 T2 lesions on MRI, or a relapse rate not lower than the year before (not recorded)"
SPMS_JUDGEMENT = "whether SPMS with MRI activity but no relapse is a relapsing form"

VIGNETTES: tuple[Vignette, ...] = (
    # --- rheumatoid arthritis ---
    Vignette("ra_fully_screened", RA, "every screening clear: no flag for any candidate"),
    Vignette("ra_active_tuberculosis", RA, "SmPC 4.3 of every RA candidate: active TB / severe chronic infection",
             {"tuberculosis_status": "active"}, expect={EVERY: E(("active_tuberculosis",))}),
    Vignette("ra_latent_tb_untreated", RA, "SmPC 4.4: latent TB is treated before starting",
             {"tuberculosis_status": "latent_untreated"},
             expect=each(TNF + (TOCILIZUMAB, SARILUMAB, ABATACEPT) + JAK, E(("latent_tuberculosis_untreated",)))),
    Vignette("ra_tb_screening_missing", RA, "SmPC 4.4: TB screening before starting (unknown is not safe)",
             {"tuberculosis_status": None}, expect={EVERY: E(checks=("tuberculosis_status",))}),
    Vignette("ra_tb_screening_expired", RA, "a TB screen older than its one-year window is unknown",
             {"tuberculosis_status": None}, earlier=(Earlier(400, {"tuberculosis_status": "none"}),),
             expect={EVERY: E(checks=("tuberculosis_status",))}),
    Vignette("ra_heart_failure_nyha_iii", RA, "anti-TNF SmPC 4.3: NYHA III/IV; etanercept 4.4 only",
             {"heart_failure_nyha": "III"},
             expect={**each((INFLIXIMAB, ADALIMUMAB, GOLIMUMAB, CERTOLIZUMAB), E(("heart_failure_severe",))),
                     ETANERCEPT: E(("heart_failure_etanercept",))}),
    Vignette("ra_heart_failure_nyha_iv", RA, "MabThera 4.3: NYHA IV in RA",
             {"heart_failure_nyha": "IV"},
             expect={**each((INFLIXIMAB, ADALIMUMAB, GOLIMUMAB, CERTOLIZUMAB), E(("heart_failure_severe",))),
                     ETANERCEPT: E(("heart_failure_etanercept",)), RITUXIMAB: E(("heart_failure_nyha_iv",))}),
    Vignette("ra_heart_failure_nyha_ii", RA, "anti-TNF SmPC 4.4: mild heart failure with caution",
             {"heart_failure_nyha": "II"},
             expect={**each((INFLIXIMAB, ADALIMUMAB, GOLIMUMAB, CERTOLIZUMAB), E(("heart_failure_mild",))),
                     ETANERCEPT: E(("heart_failure_etanercept",))}),
    Vignette("ra_hepatitis_b_carrier", RA, "SmPC 4.4: HBV reactivation; rituximab: active HBV not treated",
             {"hbsag": "positive", "anti_hbc": "positive"},
             expect={**each(TNF + (ABATACEPT, TOCILIZUMAB) + JAK, E(("hepatitis_b_carrier",))),
                     RITUXIMAB: E(("hepatitis_b_active",))}),
    Vignette("ra_past_hepatitis_b", RA, "anti-HBc positive, HBsAg negative: reactivation risk",
             {"anti_hbc": "positive"},
             expect={**each(TNF + (ABATACEPT, TOCILIZUMAB) + JAK, E(("hepatitis_b_carrier",))),
                     RITUXIMAB: E(("hepatitis_b_past_infection",))}),
    Vignette("ra_hepatitis_b_unknown", RA, "SmPC 4.4: test for HBV before starting",
             {"hbsag": None, "anti_hbc": None},
             expect=each(TNF + (ABATACEPT, RITUXIMAB, TOCILIZUMAB) + JAK, E(checks=("hbsag", "anti_hbc")))),
    Vignette("ra_older_current_smoker", RA, "EMA 2023 JAK measures: age 65 or more, current smokers",
             {"smoking_status": "current", "smoking_pack_years": 30}, age=70,
             expect=each(JAK, E(("jak_age", "jak_current_smoker")))),
    Vignette("ra_former_smoker_pack_years_unknown", RA, "EMA 2023: past long-time smokers (unknown is not safe)",
             {"smoking_status": "former"}, expect=each(JAK, E(checks=("smoking_pack_years",)))),
    Vignette("ra_former_heavy_smoker", RA, "EMA 2023: past long-time smokers",
             {"smoking_status": "former", "smoking_pack_years": 25}, expect=each(JAK, E(("jak_long_time_smoker",)))),
    Vignette("ra_vte_and_past_cancer", RA, "EMA 2023: VTE and malignancy risk; anti-TNF 4.4 malignancy",
             {"vte_history": True, "malignancy_history": True},
             expect={**each(JAK, E(("jak_vte", "malignancy_history"))),
                     **each((INFLIXIMAB, ADALIMUMAB, GOLIMUMAB), E(("malignancy_history",)))}),
    Vignette("ra_atherosclerotic_disease", RA, "EMA 2023: history of atherosclerotic cardiovascular disease",
             {"arterial_disease_history": True, "arterial_event_on": days_ago(1100)},
             expect=each(JAK, E(("jak_cardiovascular",)))),
    Vignette("ra_haemoglobin_70", RA, "JAK 4.2: Hb below 8 g/dL (9 g/dL for tofacitinib): do not start",
             {"haemoglobin": 70},
             expect={TOFACITINIB: E(("anaemia_tofacitinib",)), **each(JAK[1:], E(("anaemia_jak",)))}),
    Vignette("ra_haemoglobin_85", RA, "Xeljanz 4.2: Hb below 9 g/dL", {"haemoglobin": 85},
             expect={TOFACITINIB: E(("anaemia_tofacitinib",))}),
    Vignette("ra_lymphocytes_0_6", RA, "Xeljanz 4.2: lymphocytes below 0.75 × 10⁹/L", {"lymphocytes": 0.6},
             expect={TOFACITINIB: E(("lymphopenia_tofacitinib",))}),
    Vignette("ra_neutrophils_1_5", RA, "Kevzara 4.2 and RoActemra 4.4: neutrophils below 2 × 10⁹/L",
             {"neutrophils": 1.5},
             expect={SARILUMAB: E(("neutropenia_il6",)), TOCILIZUMAB: E(("neutropenia_tocilizumab",))}),
    Vignette("ra_creatinine_clearance_25", RA, "methotrexate 4.3 CrCl < 30; baricitinib 4.2; dose reductions",
             {"creatinine_clearance": 25},
             expect={METHOTREXATE: E(("renal_methotrexate", "renal_dose")),
                     BARICITINIB: E(("renal_baricitinib", "renal_dose")), FILGOTINIB: E(("renal_dose",)),
                     TOFACITINIB: E(("renal_tofacitinib",))}),
    Vignette("ra_egfr_in_place_of_clearance", RA, "eGFR read when no creatinine clearance is recorded",
             {"creatinine_clearance": None, "egfr": 25},
             expect={METHOTREXATE: E(("renal_methotrexate", "renal_dose")),
                     BARICITINIB: E(("renal_baricitinib", "renal_dose")), FILGOTINIB: E(("renal_dose",)),
                     TOFACITINIB: E(("renal_tofacitinib",))}),
    Vignette("ra_alt_six_times_uln", RA, "RoActemra 4.4: ALT > 5 × ULN not recommended; Kevzara > 1.5 × ULN",
             {"alt": alt(250)},
             expect={TOCILIZUMAB: E(("alt_above_5_uln",)), SARILUMAB: E(("alt_sarilumab",))}),
    Vignette("ra_alt_without_reference_limit", RA, "an ALT without the lab's limit cannot be read in × ULN",
             {"alt": 80}, expect=each((TOCILIZUMAB, SARILUMAB), E(checks=("alt_uln",)))),
    Vignette("ra_rituximab_without_tnf_inhibitor", RA, "MabThera 4.1: RA after one or more TNF inhibitors",
             therapies=(therapy(METHOTREXATE, "2019-01-01", "2021-01-01", SLR),),
             expect={RITUXIMAB: E(licensed=False)}),
    Vignette("ra_no_therapy_history", RA, "4.1 'after one or more DMARDs' cannot be confirmed without a history",
             therapies=(), expect=each(JAK + (SARILUMAB, RITUXIMAB), E(licensed=None, checks=("therapy history",)))),
    Vignette("ra_pregnant", RA, "each drug's own 4.3/4.6: methotrexate and JAK inhibitors contraindicated",
             {**WOMAN, "pregnancy_status": "pregnant"}, sex="female", age=30,
             expect={**each((METHOTREXATE,) + JAK, E(("pregnancy_contraindicated",))),
                     **each(PREGNANCY_46_RA, E(("pregnancy_caution",)))}),
    Vignette("ra_woman_without_contraception", RA, "4.6: effective contraception with methotrexate and JAK",
             {**WOMAN, "effective_contraception": False}, sex="female", age=30,
             expect=each((METHOTREXATE,) + JAK, E(("contraception_needed",)))),
    Vignette("ra_breastfeeding", RA, "methotrexate and Xeljanz 4.3: breast-feeding",
             {**WOMAN, "pregnancy_status": "breastfeeding"}, sex="female", age=30,
             expect=each((METHOTREXATE, TOFACITINIB), E(("breastfeeding",)))),
    Vignette("ra_woman_pregnancy_status_unknown", RA, "pregnancy status of a woman of child-bearing age is asked",
             {"pregnancy_status": None}, sex="female", age=30, expect={EVERY: E(checks=("pregnancy_status",))}),
    Vignette("ra_woman_of_62", RA, "pregnancy rules apply to women of child-bearing age only", sex="female", age=62),
    Vignette("ra_hypersensitivity_to_adalimumab", RA, "SmPC 4.3: hypersensitivity to the active substance",
             therapies=(therapy(METHOTREXATE, "2019-01-01", "2021-01-01", SLR),
                        therapy(ADALIMUMAB, "2021-02-01", "2021-03-01", "adverse_event", "anaphylaxis")),
             expect={ADALIMUMAB: E(("hypersensitivity",))}),
    Vignette("ra_adverse_event_on_etanercept", RA, "a recorded adverse event is shown before re-treatment",
             therapies=HISTORY[RA] + (therapy(ETANERCEPT, "2023-02-01", "2023-08-01", "adverse_event",
                                               "injection-site reactions"),),
             expect={ETANERCEPT: E(("prior_adverse_event",))}),
    Vignette("ra_primary_non_response_to_tocilizumab", RA, "SmPC 4.2 stop rule: not recommended, not contraindicated",
             therapies=HISTORY[RA] + (therapy(TOCILIZUMAB, "2023-02-01", "2023-06-01", "primary_non_response"),),
             expect={TOCILIZUMAB: E(("primary_non_response",))}),
    Vignette("ra_live_vaccine_planned", RA, "SmPC 4.4/4.5: no live vaccines; methotrexate 4.3",
             {"live_vaccine": "planned"},
             expect={**each(TNF + (TOCILIZUMAB, SARILUMAB, ABATACEPT, RITUXIMAB) + JAK, E(("live_vaccine",))),
                     METHOTREXATE: E(("live_vaccine_methotrexate",))}),
    Vignette("ra_serious_infection", RA, "SmPC 4.3: active severe infection", {"serious_infection_active": True},
             expect={EVERY: E(("serious_infection",))}),
    Vignette("ra_hiv_positive", RA, "Jylamvo 4.3: HIV", {"hiv_status": "positive"},
             expect={METHOTREXATE: E(("hiv_infection",))}),
    Vignette("ra_severe_hepatic_impairment", RA, "Child-Pugh C: Rinvoq/Xeljanz/methotrexate 4.3, Olumiant/Jyseleca 4.2",
             {"hepatic_impairment": "C"},
             expect={**each((TOFACITINIB, UPADACITINIB, METHOTREXATE), E(("hepatic_impairment_severe",))),
                     **each((BARICITINIB, FILGOTINIB), E(("hepatic_impairment_not_recommended",)))}),
    Vignette("ra_on_tofacitinib_tb_missing", RA, "a current drug is not re-screened; the others are",
             {"tuberculosis_status": None}, therapies=HISTORY[RA] + (therapy(TOFACITINIB, "2023-03-01"),),
             expect={EVERY: E(checks=("tuberculosis_status",)), TOFACITINIB: E(licensed=None)}),
    # --- multiple sclerosis ---
    Vignette("ms_highly_active_rrms_fully_screened", MS, "active RRMS after a year of interferon: licensed for all "
                                                         "but siponimod (active SPMS only)"),
    Vignette("ms_ppms_not_early", MS, "only Ocrevus 4.1 covers PPMS, and early PPMS with MRI activity only",
             {"ms_course": "PPMS", "edss": 7.0, "relapses_12m": 0, "gd_lesions": 0, "new_t2_lesions": 0},
             expect={EVERY: E(licensed=False)}),
    Vignette("ms_early_ppms_with_mri_activity", MS, "Ocrevus 4.1: early PPMS with inflammatory imaging",
             {"ms_course": "PPMS", "edss": 4.0, "relapses_12m": 0, "gd_lesions": 0, "new_t2_lesions": 2},
             diagnosed_years=5, expect={EVERY: E(licensed=False), OCRELIZUMAB: E()}),
    Vignette("ms_course_unknown", MS, "the licence needs the MS course: unknown asks for it",
             {"ms_course": None}, expect={EVERY: E(licensed=None, checks=("ms_course",))}),
    Vignette("ms_active_spms_without_relapse", MS, "Mayzent 4.1: active SPMS; 'relapsing forms' needs judgement",
             {"ms_course": "SPMS", "relapses_12m": 0, "gd_lesions": 1, "new_t2_lesions": 1},
             expect={EVERY: E(licensed=False), SIPONIMOD: E(),
                     **each(RMS, E(licensed=None, checks=(SPMS_JUDGEMENT,)))}),
    Vignette("ms_inactive_rrms_treatment_naive", MS, "4.1 'active disease' and 'highly active' not met",
             {"relapses_12m": 0, "gd_lesions": 0, "new_t2_lesions": 0}, therapies=(),
             expect=each(RMS + (OZANIMOD, SIPONIMOD, FINGOLIMOD, NATALIZUMAB, ALEMTUZUMAB, CLADRIBINE),
                         E(licensed=False))),
    Vignette("ms_rapidly_evolving_severe", MS, "4.1 highly active: two relapses in a year with MRI activity",
             {"relapses_12m": 2, "gd_lesions": 2}, therapies=()),
    Vignette("ms_one_relapse_treatment_naive", MS, "highly active after a DMT cannot be confirmed without a history",
             therapies=(), expect=each((FINGOLIMOD, NATALIZUMAB, ALEMTUZUMAB, CLADRIBINE),
                                       E(licensed=None, checks=("therapy history",)))),
    Vignette("ms_relapse_without_gd_after_dmt", MS, "5.1: nine T2 lesions are not recorded: a clinician's judgement",
             {"gd_lesions": 0}, expect=each((FINGOLIMOD, NATALIZUMAB, ALEMTUZUMAB, CLADRIBINE),
                                            E(licensed=None, checks=(HA_JUDGEMENT,)))),
    Vignette("ms_myocardial_infarction_two_months_ago", MS, "S1P 4.3: MI within 6 months; Lemtrada 4.3: MI ever",
             {"arterial_disease_history": True, "arterial_event_on": days_ago(60)},
             expect={**each(S1P_MS, E(("recent_arterial_event",))),
                     SIPONIMOD: E(("recent_arterial_event",), licensed=False),
                     ALEMTUZUMAB: E(("arterial_disease_alemtuzumab",))}),
    Vignette("ms_myocardial_infarction_three_years_ago", MS, "S1P 4.3 looks back 6 months only",
             {"arterial_disease_history": True, "arterial_event_on": days_ago(1100)},
             expect={ALEMTUZUMAB: E(("arterial_disease_alemtuzumab",))}),
    Vignette("ms_myocardial_infarction_date_unknown", MS, "'within 6 months' needs the date",
             {"arterial_disease_history": True},
             expect={**each(S1P_MS, E(checks=("arterial_event_on",))),
                     SIPONIMOD: E(licensed=False, checks=("arterial_event_on",)),
                     ALEMTUZUMAB: E(("arterial_disease_alemtuzumab",))}),
    Vignette("ms_mobitz_ii_block", MS, "S1P 4.3: Mobitz II or third-degree AV block without a pacemaker",
             {"av_conduction": "mobitz_ii"},
             expect={**each((FINGOLIMOD, OZANIMOD, PONESIMOD), E(("av_block",))),
                     SIPONIMOD: E(("av_or_sa_block",), licensed=False)}),
    Vignette("ms_sino_atrial_block", MS, "Mayzent 4.3 names sino-atrial block", {"av_conduction": "sa_block"},
             expect={SIPONIMOD: E(("av_or_sa_block",), licensed=False)}),
    Vignette("ms_conduction_disorder_paced", MS, "a functioning pacemaker lifts the S1P contraindication",
             {"av_conduction": "paced"}),
    Vignette("ms_jcv_index_high", MS, "Tysabri 4.4: anti-JCV index above 1.5",
             {"jcv_antibody_positive": True, "jcv_index": 2.1}, expect={NATALIZUMAB: E(("natalizumab_jcv_high",))}),
    Vignette("ms_jcv_positive_index_unknown", MS, "Tysabri 4.4: the index grades the PML risk",
             {"jcv_antibody_positive": True},
             expect={NATALIZUMAB: E(("natalizumab_jcv_positive",), checks=("jcv_index",))}),
    Vignette("ms_jcv_status_unknown", MS, "Tysabri 4.4: anti-JCV status before starting",
             {"jcv_antibody_positive": None},
             expect={NATALIZUMAB: E(checks=("jcv_antibody_positive", "jcv_index"))}),
    Vignette("ms_pregnant", MS, "each drug's own 4.3/4.6", {**WOMAN, "pregnancy_status": "pregnant"},
             sex="female", age=30,
             expect={**each((TERIFLUNOMIDE, CLADRIBINE, FINGOLIMOD, OZANIMOD, PONESIMOD),
                            E(("pregnancy_contraindicated",))),
                     SIPONIMOD: E(("pregnancy_contraindicated",), licensed=False),
                     **each((OCRELIZUMAB, OFATUMUMAB, UBLITUXIMAB, ALEMTUZUMAB, NATALIZUMAB, DMF, GLATIRAMER),
                            E(("pregnancy_caution",)))}),
    Vignette("ms_woman_without_contraception", MS, "S1P and Aubagio 4.3: no effective contraception",
             {**WOMAN, "effective_contraception": False}, sex="female", age=28,
             expect={**each((TERIFLUNOMIDE, FINGOLIMOD, OZANIMOD, PONESIMOD), E(("contraception_contraindicated",))),
                     SIPONIMOD: E(("contraception_contraindicated",), licensed=False),
                     CLADRIBINE: E(("contraception_needed",))}),
    Vignette("ms_spms_with_relapses_cyp2c9_3_3", MS, "Mayzent 4.3: CYP2C9*3/*3",
             {"ms_course": "SPMS", "cyp2c9_genotype": "*3/*3"},
             expect={**each((FINGOLIMOD, NATALIZUMAB, ALEMTUZUMAB, OZANIMOD, TERIFLUNOMIDE, DMF, DRF, PEG_IFN,
                             GLATIRAMER), E(licensed=False)),
                     SIPONIMOD: E(("cyp2c9_poor_metaboliser",))}),
    Vignette("ms_severe_depression", MS, "interferon beta 4.3: current severe depression",
             {"severe_depression": True},
             expect=each((IFN_B1A, PEG_IFN, IFN_B1B), E(("severe_depression",)))),
    Vignette("ms_clearance_50", MS, "Mavenclad 4.3: creatinine clearance below 60 mL/min",
             {"creatinine_clearance": 50}, expect={CLADRIBINE: E(("renal_cladribine",))}),
    Vignette("ms_lymphocytes_0_7", MS, "Mavenclad 4.2: 0.8 × 10⁹/L; Tecfidera 4.4: look for the cause below normal",
             {"lymphocytes": 0.7},
             expect={CLADRIBINE: E(("lymphopenia_cladribine",)),
                     **each((DMF, DRF), E(("lymphocytes_low_fumarate",)))}),
    Vignette("ms_active_hepatitis_b", MS, "anti-CD20 4.4 and Mavenclad 4.3: active hepatitis B",
             {"hbsag": "positive", "anti_hbc": "positive"},
             expect={**each((OCRELIZUMAB, OFATUMUMAB, UBLITUXIMAB, CLADRIBINE), E(("hepatitis_b_active",))),
                     ALEMTUZUMAB: E(("hepatitis_b_carrier",))}),
    Vignette("ms_varicella_non_immune", MS, "S1P, Mavenclad, Lemtrada 4.4: vaccinate VZV-negative patients first",
             {"vzv_igg": "negative"},
             expect={**each((FINGOLIMOD, OZANIMOD, PONESIMOD, CLADRIBINE, ALEMTUZUMAB), E(("varicella_non_immune",))),
                     SIPONIMOD: E(("varicella_non_immune",), licensed=False)}),
    Vignette("ms_active_malignancy", MS, "4.3: known active malignancies",
             {"malignancy_active": True, "malignancy_history": True},
             expect={**each((FINGOLIMOD, OZANIMOD, PONESIMOD, NATALIZUMAB, OCRELIZUMAB, OFATUMUMAB, UBLITUXIMAB,
                             CLADRIBINE), E(("malignancy_active",))),
                     SIPONIMOD: E(("malignancy_active",), licensed=False)}),
    # --- inflammatory bowel disease ---
    Vignette("cd_fully_screened", CD, "every screening clear: no flag for any candidate"),
    Vignette("cd_demyelinating_disease", CD, "anti-TNF 4.4: demyelinating disease", {"demyelinating_history": True},
             expect=each((INFLIXIMAB, ADALIMUMAB), E(("demyelination",)))),
    Vignette("cd_tb_screening_missing", CD, "SmPC 4.4: TB screening before a biologic or JAK inhibitor",
             {"tuberculosis_status": None}, expect={EVERY: E(checks=("tuberculosis_status",))}),
    Vignette("cd_primary_non_response_to_ustekinumab", CD, "Stelara 4.2 stop rule: not recommended",
             therapies=HISTORY[CD] + (therapy(USTEKINUMAB, "2022-01-01", "2022-05-01", "primary_non_response"),),
             expect={USTEKINUMAB: E(("primary_non_response",))}),
    Vignette("uc_third_degree_av_block", UC, "Zeposia and Velsipity 4.3: AV block without a pacemaker",
             {"av_conduction": "third_degree"},
             expect={OZANIMOD: E(("av_block",)), ETRASIMOD: E(("av_or_sa_block",))}),
    Vignette("uc_stroke_a_month_ago", UC, "S1P 4.3: stroke within 6 months; EMA 2023 for JAK inhibitors",
             {"arterial_disease_history": True, "arterial_event_on": days_ago(30)},
             expect={**each((OZANIMOD, ETRASIMOD), E(("recent_arterial_event",))),
                     **each((TOFACITINIB, UPADACITINIB, FILGOTINIB), E(("jak_cardiovascular",)))}),
    Vignette("uc_pregnant", UC, "each drug's own 4.3/4.6", {**WOMAN, "pregnancy_status": "pregnant"},
             sex="female", age=29,
             expect={**each((TOFACITINIB, UPADACITINIB, FILGOTINIB, OZANIMOD, ETRASIMOD),
                            E(("pregnancy_contraindicated",))),
                     **each((INFLIXIMAB, ADALIMUMAB, GOLIMUMAB, VEDOLIZUMAB, USTEKINUMAB, RISANKIZUMAB, GUSELKUMAB,
                             MIRIKIZUMAB), E(("pregnancy_caution",)))}),
    Vignette("uc_anaphylaxis_to_infliximab_coded", UC, "Remicade 4.3: hypersensitivity, recorded as a SNOMED code",
             therapies=HISTORY[UC] + (therapy(INFLIXIMAB, "2021-01-01", "2021-02-15", "adverse_event",
                                              "SNOMED 39579001"),),
             expect={INFLIXIMAB: E(("hypersensitivity",))}),
)
