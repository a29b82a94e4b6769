"""How long a recorded value describes the patient (Variable.validity), and the source of each choice.

The data dictionary (patients/dictionary.py) gives each fact, condition and measurement one of these windows;
patients/state.py reads them. A window without a published source says "project choice", for a clinician or
pharmacist to sign off.
"""

from patients.variables import Persistence, Validity

# Choices for a decision-support system, each following the cited monitoring or screening recommendation.
FACT = Persistence.FACT
CONDITION = Persistence.CONDITION
PHENOTYPE = Validity(None, "A fact of the patient's disease: it stays until a new dated entry changes it "
                           "(Montreal classification, Satsangi J et al., Gut 2006;55:749–753; MS course, Lublin FD "
                           "et al., Neurology 2014;83:278–286; ACR/EULAR 2010 serology, Aletaha D et al., Ann Rheum Dis "
                           "2010;69:1580–1588).")
ACTIVITY_90_DAYS = Validity(90, "Activity is re-assessed every 1–3 months while active (EULAR RA recommendations "
                                "2022 update, Smolen JS et al., Ann Rheum Dis 2023;82:3–18; STRIDE-II, Turner D et "
                                "al., Gastroenterology 2021;160:1570–1583): an older value does not describe today.")
LAB_90_DAYS = Validity(90, "Inflammatory and blood markers are monitored every 1–3 months in active disease "
                           "(Smolen JS et al., Ann Rheum Dis 2023;82:3–18; STRIDE-II, Turner D et al., "
                           "Gastroenterology 2021;160:1570–1583); an older value is not current.")
ENDOSCOPY_1_YEAR = Validity(365, "Endoscopic healing is assessed as a long-term target, not at every visit "
                                 "(STRIDE-II, Turner D et al., Gastroenterology 2021;160:1570–1583).")
MRI_1_YEAR = Validity(365, "Monitoring MRI on disease-modifying therapy is yearly (MAGNIMS–CMSC–NAIMS 2021, Wattjes "
                           "MP et al., Lancet Neurol 2021;20:653–670).")
MS_CLINICAL_1_YEAR = Validity(365, "Disability (EDSS) is re-assessed at least yearly in treated MS (ECTRIMS/EAN "
                                   "guideline, Montalban X et al., Mult Scler 2018;24:96–120).")
RELAPSES_90_DAYS = Validity(90, "A count over the 12 months before its visit: three months later it misses a "
                                "quarter of the window (project choice).")
BODY_1_YEAR = Validity(365, "Weight and smoking change slowly; recorded at least yearly (project choice following "
                            "ESC prevention guidelines, Visseren FLJ et al., Eur Heart J 2021;42:3227–3337).")
COMORBIDITY_1_YEAR = Validity(365, "Comorbidities are reviewed before each new advanced therapy and at least yearly; "
                                   "a recorded history stays a history (project choice following ECCO infections "
                                   "guideline, Kucharzik T et al., J Crohns Colitis 2021;15:879–913).",
                              lasting=(True,))
HEART_FAILURE_1_YEAR = Validity(365, "NYHA class can change; re-assess before an anti-TNF or S1P modulator and at "
                                     "least yearly (ESC heart failure guideline, McDonagh TA et al., Eur Heart J "
                                     "2021;42:3599–3726; project choice).")
TB_SCREEN_1_YEAR = Validity(365, "Screen for tuberculosis (IGRA or TST with chest X-ray) before starting, and again "
                                 "when the last screen is over a year old or exposure is possible (ECCO infections "
                                 "guideline, Kucharzik T et al., J Crohns Colitis 2021;15:879–913).")
JCV_6_MONTHS = Validity(180, "Anti-JCV antibody status and index are re-tested every 6 months (Tysabri SmPC, "
                             "section 4.4, EMA).")
PREGNANCY_1_MONTH = Validity(30, "A pregnancy status describes one menstrual cycle; ask again before starting a drug "
                                 "contraindicated in pregnancy (project choice).")
# Windows of the pre-treatment screenings the safety rules read (recommendations/rules). The SmPCs ask for these
# "before starting" without a window; where none is published the choice is the project's, marked as such, for a
# pharmacist to sign off.
SEROLOGY_1_YEAR = Validity(365, "Hepatitis B, hepatitis C and HIV are screened before starting an immunosuppressant "
                                "(ECCO infections guideline, Kucharzik T et al., J Crohns Colitis 2021;15:879–913; "
                                "EULAR 2022 screening recommendations, Fragoulis GE et al., Ann Rheum Dis "
                                "2023;82:742–753), which give no re-test interval: a negative result is asked again "
                                "after a year (project choice); a positive one stays.", lasting=("positive",))
VZV_IMMUNITY = Validity(365, "Varicella immunity, once shown, stays; a negative result is asked again after a year or "
                             "after vaccination (project choice; S1P modulator, cladribine and alemtuzumab SmPCs 4.4 "
                             "ask for VZV antibodies before starting).", lasting=("positive",))
PRETREATMENT_TEST_90_DAYS = Validity(90, "Blood counts, liver and renal tests and the ECG are asked 'before starting' "
                                         "by the SmPCs without a window; 3 months is a project choice, inside the 6 "
                                         "months the S1P modulator SmPCs accept for a recent blood count and liver "
                                         "tests (Zeposia SmPC 4.4).")
CARDIAC_1_YEAR = Validity(365, "Conduction disorders are re-assessed by ECG before an S1P modulator and at least "
                               "yearly (project choice; fingolimod, siponimod, ozanimod, ponesimod, etrasimod SmPCs "
                               "4.3/4.4).")
EVENT_DATE = Validity(None, "The date of an event does not change; rules measure its distance from the day asked.")
LIVE_VACCINE_1_MONTH = Validity(30, "Vaccination plans change: ask again within a month of starting (project choice; "
                                    "S1P modulator SmPCs 4.4: live vaccines at least one month before starting).")
INFECTION_1_MONTH = Validity(30, "An active infection is judged at the visit; a month later it must be judged again "
                                 "(project choice).")
CLINICAL_STATE_90_DAYS = Validity(90, "A clinical state that can change (immunosuppression, depression, contraception); "
                                      "confirmed again within 3 months of starting (project choice).")
CLINICAL_STATE_6_MONTHS = Validity(183, "Active cancer and liver function class change over months; confirmed again "
                                        "within 6 months of starting (project choice).")
GENOTYPE = Validity(None, "A germline genotype does not change (Mayzent SmPC 4.2: CYP2C9 genotype before starting).")
CHILDBEARING = Validity(365, "Menopause and sterilisation are lasting; a woman recorded as still able to conceive "
                            "is asked again after a year (project choice).", lasting=(False,))
