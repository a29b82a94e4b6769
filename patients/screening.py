"""The variables of the pre-treatment screenings and of the conditions the safety rules read
(recommendations/smpc): serology, blood counts and liver and renal tests, cardiac events and conduction, live
vaccines, immune status, malignancy, liver function, contraception. Part of the data dictionary
(patients/dictionary.py appends them to VARIABLES); none is a model feature.

Each says what a clinician records to know it (`ask`), which "check before starting" flags name.
"""

from __future__ import annotations

from patients.diseases import ALL, MS
from patients.variables import Variable
from patients.variables import boolean as _b
from patients.variables import coded as _c
from patients.variables import date as _date
from patients.variables import quantity as _q
from patients.windows import (
    CARDIAC_1_YEAR, CHILDBEARING, CLINICAL_STATE_6_MONTHS, CLINICAL_STATE_90_DAYS, COMORBIDITY_1_YEAR, CONDITION,
    EVENT_DATE, INFECTION_1_MONTH, LIVE_VACCINE_1_MONTH, PRETREATMENT_TEST_90_DAYS, SEROLOGY_1_YEAR, VZV_IMMUNITY,
)

SEROLOGY = [("positive", "Positive", "10828004"), ("negative", "Negative", "260385009")]

SCREENING_VARIABLES: tuple[Variable, ...] = (
    # Serology: positive or negative; SNOMED 10828004/260385009 accepted as values through FHIR.
    _c("hbsag", "HBsAg", SEROLOGY, ALL, "safety", loinc="5196-1", feature=False, ask="HBsAg",
       persistence=CONDITION, validity=SEROLOGY_1_YEAR),
    _c("anti_hbc", "Anti-HBc (total)", SEROLOGY, ALL, "safety", loinc="16933-4", other_loinc=("13952-7",),
       feature=False, ask="anti-HBc", persistence=CONDITION, validity=SEROLOGY_1_YEAR),
    _c("hcv_antibody", "Hepatitis C antibody", SEROLOGY, ALL, "safety", loinc="13955-0", feature=False,
       ask="hepatitis C antibody test", persistence=CONDITION, validity=SEROLOGY_1_YEAR),
    _c("hiv_status", "HIV test (HIV-1/2 antibody and p24 antigen)", SEROLOGY, ALL, "safety", loinc="56888-1",
       feature=False, ask="HIV test", persistence=CONDITION, validity=SEROLOGY_1_YEAR),
    _c("vzv_igg", "Varicella zoster immunity (VZV IgG)", SEROLOGY, ALL, "safety", loinc="19162-7",
       other_loinc=("15410-4",), feature=False, ask="varicella zoster IgG",
       help="Positive also when a health-care professional confirmed chickenpox or two vaccine doses were given.",
       persistence=CONDITION, validity=VZV_IMMUNITY),
    _c("live_vaccine", "Live attenuated vaccine", [("none", "None planned, none in the last 6 weeks"),
                                                   ("planned", "Planned"),
                                                   ("recent", "Given in the last 6 weeks")], ALL, "safety",
       feature=False, ask="live vaccine plans", persistence=CONDITION, validity=LIVE_VACCINE_1_MONTH),
    _b("serious_infection_active", "Active serious infection", ALL, "safety", feature=False,
       ask="active serious infection (sepsis, abscess, opportunistic or uncontrolled chronic infection)",
       help="Sepsis, abscess, an opportunistic infection or an uncontrolled chronic infection, now.",
       persistence=CONDITION, validity=INFECTION_1_MONTH),
    _b("immunodeficiency", "Immunodeficiency or severely immunocompromised", ALL, "safety", feature=False,
       ask="immune status (immunodeficiency, immunosuppressive treatment)",
       help="Primary immunodeficiency, HIV with immunosuppression, or immunosuppressive or myelosuppressive "
            "treatment now.", persistence=CONDITION, validity=CLINICAL_STATE_90_DAYS),
    _b("malignancy_active", "Active malignancy", ALL, "safety", feature=False,
       ask="active malignancy", help="A cancer under treatment or not in remission (basal cell carcinoma of the "
                                     "skin excepted).", persistence=CONDITION, validity=CLINICAL_STATE_6_MONTHS),
    _c("hepatic_impairment", "Hepatic impairment (Child-Pugh)", [("none", "No cirrhosis or hepatic impairment"),
                                                                 ("A", "Child-Pugh A (mild)"),
                                                                 ("B", "Child-Pugh B (moderate)"),
                                                                 ("C", "Child-Pugh C (severe)")], ALL, "safety",
       feature=False, ask="liver function class (Child-Pugh)", persistence=CONDITION,
       validity=CLINICAL_STATE_6_MONTHS),
    _b("severe_depression", "Severe depression or suicidal ideation", {MS}, "safety", feature=False,
       ask="severe depression or suicidal ideation", persistence=CONDITION, validity=CLINICAL_STATE_90_DAYS),
    _b("childbearing_potential", "Child-bearing potential", ALL, "safety", feature=False,
       ask="child-bearing potential",
       help="Record no after menopause (12 months without menses) or permanent sterilisation, yes for a woman who "
            "can still conceive at 50 or older; otherwise women of 15–49 years count as of child-bearing age.",
       persistence=CONDITION, validity=CHILDBEARING),
    _b("effective_contraception", "Effective contraception", ALL, "safety", feature=False,
       ask="effective contraception", help="For women of child-bearing age.",
       persistence=CONDITION, validity=CLINICAL_STATE_90_DAYS),
    _b("arterial_disease_history", "History of atherosclerotic cardiovascular disease", ALL, "safety",
       feature=False, ask="cardiovascular history (myocardial infarction, stroke, TIA, angina)",
       help="Myocardial infarction, angina, stroke, TIA or peripheral arterial disease, ever.",
       persistence=CONDITION, validity=COMORBIDITY_1_YEAR),
    _date("arterial_event_on", "Last myocardial infarction, unstable angina, stroke or TIA", ALL, "safety",
          feature=False, ask="date of the last myocardial infarction, unstable angina, stroke or TIA",
          help="SNOMED CT 22298006, 4557003, 230690007, 266257000.", persistence=CONDITION, validity=EVENT_DATE),
    _c("av_conduction", "Cardiac conduction", [("none", "No conduction disorder"),
                                               ("first_degree", "First-degree AV block", "270492004"),
                                               ("mobitz_i", "Second-degree AV block, Mobitz I", "54016002"),
                                               ("mobitz_ii", "Second-degree AV block, Mobitz II", "28189009"),
                                               ("third_degree", "Third-degree AV block", "27885002"),
                                               ("sick_sinus", "Sick sinus syndrome", "36083008"),
                                               ("sa_block", "Sino-atrial block"),
                                               ("paced", "Conduction disorder with a functioning pacemaker")],
       ALL, "safety", feature=False, ask="ECG (AV conduction)", persistence=CONDITION, validity=CARDIAC_1_YEAR),
    _q("qtc", "QTc interval", "ms", 250, 700, ALL, "safety", loinc="8636-3", other_loinc=("76635-2",), step=1,
       feature=False, ask="baseline ECG (QTc)", validity=PRETREATMENT_TEST_90_DAYS),
    # Laboratory values the rules read against SmPC thresholds.
    _q("lymphocytes", "Lymphocytes", "10*9/L", 0, 100, ALL, "labs", loinc="731-0", step=0.01, feature=False,
       ask="lymphocyte count", validity=PRETREATMENT_TEST_90_DAYS),
    _q("neutrophils", "Neutrophils", "10*9/L", 0, 100, ALL, "labs", loinc="751-8", step=0.01, feature=False,
       ask="neutrophil count", validity=PRETREATMENT_TEST_90_DAYS),
    _q("platelets", "Platelets", "10*9/L", 0, 2000, ALL, "labs", loinc="777-3", step=1, feature=False,
       ask="platelet count", validity=PRETREATMENT_TEST_90_DAYS),
    _q("alt", "ALT", "U/L", 0, 10000, ALL, "labs", loinc="1742-6", other_loinc=("1743-4",), step=1, feature=False,
       reference_high="alt_uln", ask="ALT", validity=PRETREATMENT_TEST_90_DAYS,
       help='Send with the lab\'s upper reference limit: {"value": 80, "unit": "U/L", "reference_high": 40}.'),
    _q("alt_uln", "ALT upper reference limit", "U/L", 5, 500, ALL, "labs", step=1, feature=False,
       ask="ALT upper reference limit of the lab", validity=PRETREATMENT_TEST_90_DAYS),
    _q("creatinine_clearance", "Creatinine clearance (Cockcroft-Gault)", "mL/min", 0, 300, ALL, "labs",
       loinc="35591-7", step=0.1, feature=False, ask="creatinine clearance (or eGFR)", validity=PRETREATMENT_TEST_90_DAYS),
    _q("egfr", "eGFR", "mL/min/{1.73_m2}", 0, 200, ALL, "labs", loinc="98979-8", other_loinc=("62238-1",),
       step=0.1, feature=False, ask="eGFR", validity=PRETREATMENT_TEST_90_DAYS),
)
