"""The synthetic demo network: four sites, four diseases, a few hundred patients. Seeded and idempotent.

Every value is invented. Visits go through the visit service like any other
door, so the demo exercises the same validation, scores and scoring jobs.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from clinnova.access import CLINICIAN, MODEL_ADMIN, PRIVACY_OFFICER
from clinnova.audit import Actor
from patients.dictionary import CD, MS, RA, UC
from patients.drugs import candidates_for
from patients.models import Outcome, Patient, Site, Visit, VisitSource
from patients.services import PatientInput, TherapyInput, visit_ingest
from recommendations.jobs import dispatch_deferred, jobs_run_pending

SITES = [
    ("LU", "Luxembourg demo site", "LU"),
    ("FR", "Strasbourg demo site", "FR"),
    ("DE", "Saarbrücken demo site", "DE"),
    ("CH", "Basel demo site", "CH"),
]
DEMO_SYSTEM = "urn:clinnova:demo"
DEMO_ACTOR = Actor(client="demo-loader")
ACCOUNTS = [(f"clinician-{code.lower()}", CLINICIAN, code) for code, _, _ in SITES] + [
    ("modeladmin", MODEL_ADMIN, None),
    ("privacy-officer", PRIVACY_OFFICER, None),
]
FEMALE_SHARE = {CD: 0.5, UC: 0.48, RA: 0.72, MS: 0.7}
HISTORY_DRUGS = {CD: ["L04AX01"], UC: ["A07EC02", "L04AX01"], RA: ["L04AX03", "L04AK01"], MS: []}


@dataclass
class DemoSummary:
    sites: int
    patients_created: int
    visits_created: int
    accounts: list[str]


def demo_network_load(*, patients_per_site_and_disease: int = 20, seed: int = 2026, password: str,
                      today: dt.date | None = None, sites: list[str] | None = None) -> DemoSummary:
    """Create (or complete) the demo network, or the share of the given sites (a site node's). Idempotent."""
    today = today or dt.date.today()
    codes = sites or [code for code, _, _ in SITES]
    sites = _sites_ensure(codes)
    accounts = _accounts_ensure(sites, password)
    existing = set(Visit.objects.filter(source_system=DEMO_SYSTEM).values_list("source_id", flat=True))
    patients_before = Patient.objects.count()
    visits_created = 0
    # Jobs are recorded with each visit as always, then scored in vectorised batches at the end.
    with dispatch_deferred():
        for code in codes:
            for disease in (CD, UC, RA, MS):
                for n in range(1, patients_per_site_and_disease + 1):
                    ref = f"{code}-{_short(disease)}-{n:04d}"
                    # One generator per patient: adding patients never changes existing ones.
                    rng = random.Random(f"{seed}:{ref}")
                    visits_created += _patient_load(rng, sites[code], disease, ref, today, existing)
    jobs_run_pending()
    return DemoSummary(len(sites), Patient.objects.count() - patients_before, visits_created, accounts)


def demo_hub_accounts_ensure(*, password: str) -> list[str]:
    """The network hub's demo accounts: its model admin and privacy officer (the hub has no clinicians)."""
    return _accounts_ensure({}, password)


def _short(disease: str) -> str:
    return {CD: "CD", UC: "UC", RA: "RA", MS: "MS"}[disease]


def _sites_ensure(codes: list[str] | None = None) -> dict[str, Site]:
    return {code: Site.objects.get_or_create(code=code, defaults={"name": name, "country": country})[0]
            for code, name, country in SITES if codes is None or code in codes}


def _accounts_ensure(sites: dict[str, Site], password: str) -> list[str]:
    User = get_user_model()
    names = []
    for username, role, site_code in ACCOUNTS:
        if site_code and site_code not in sites:
            continue  # a site node has its own clinicians only
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        if site_code:
            sites[site_code].members.add(user)
        names.append(username)
    return names


def _patient_load(rng: random.Random, site: Site, disease: str, ref: str, today: dt.date,
                  existing: set[str]) -> int:
    n_visits = rng.randint(3, 5)
    visit_ids = [f"{ref}-v{i}" for i in range(1, n_visits + 1)]
    if all(v in existing for v in visit_ids):
        return 0
    female = rng.random() < FEMALE_SHARE[disease]
    age_at_onset = {RA: rng.randint(30, 65), MS: rng.randint(20, 45)}.get(disease, rng.randint(17, 50))
    years_ill = rng.randint(3, 18)  # diagnosed before the first demo visit
    diagnosed_on = today - dt.timedelta(days=int(years_ill * 365.25) + rng.randint(0, 300))
    birth_year = diagnosed_on.year - age_at_onset
    therapies = _therapy_history(rng, disease, diagnosed_on, today)
    severity = rng.random()  # the patient's underlying activity, 0 quiet to 1 very active
    traits = _traits(rng, disease, female)
    # The diagnosis names the same MS course as the record, so the header and the rules agree.
    patient_input = PatientInput(system=f"{DEMO_SYSTEM}:{site.code}", value=ref,
                                 sex="female" if female else "male", birth_year=birth_year,
                                 diagnosed_on=diagnosed_on, subtype=traits.get("ms_course", ""))
    # Screenings drawn from a generator of their own, so the rest of each demo patient stays as it was.
    traits |= _screenings(random.Random(f"{hash(rng.getstate())}:screenings"), disease, female,
                          today.year - birth_year)
    first_visit = today - dt.timedelta(days=rng.randint(500, 730))
    span = (today - dt.timedelta(days=rng.randint(5, 60)) - first_visit).days
    created = 0
    with transaction.atomic():
        for i, source_id in enumerate(visit_ids):
            if source_id in existing:
                continue
            visit_date = first_visit + dt.timedelta(days=span * i // max(1, n_visits - 1))
            trend = severity * (1.15 - 0.25 * i / max(1, n_visits - 1))
            visit_ingest(
                site=site, disease=disease, visit_date=visit_date,
                measurements=_measurements(rng, disease, trend, _recorded_traits(rng, traits, i), i == n_visits - 1),
                actor=DEMO_ACTOR, source=VisitSource.DEMO, patient_input=patient_input,
                therapies=[_as_known_on(t, visit_date) for t in therapies if t.started_on <= visit_date],
                source_system=DEMO_SYSTEM, source_id=source_id,
            )
            created += 1
    return created


def _therapy_history(rng: random.Random, disease: str, diagnosed_on: dt.date, today: dt.date) -> list[TherapyInput]:
    pool = [d.atc for d in candidates_for(disease)]
    history = HISTORY_DRUGS[disease][:rng.randint(0, len(HISTORY_DRUGS[disease]))]
    history += rng.sample(pool, k=min(len(pool), rng.choice([0, 1, 1, 2, 2, 3])))
    start = diagnosed_on + dt.timedelta(days=rng.randint(20, 200))
    out: list[TherapyInput] = []
    for i, atc in enumerate(history):
        last = i == len(history) - 1
        if start >= today - dt.timedelta(days=120):
            break
        # Most patients of a specialist clinic are on a therapy today.
        if last and rng.random() < 0.85:
            out.append(TherapyInput(drug=atc, started_on=start))
            break
        duration = rng.randint(90, 900)
        stop = min(start + dt.timedelta(days=duration), today - dt.timedelta(days=100))
        outcome = rng.choices([Outcome.PRIMARY_NON_RESPONSE, Outcome.SECONDARY_LOSS_OF_RESPONSE,
                               Outcome.ADVERSE_EVENT, Outcome.OTHER], weights=[3, 4, 2, 1])[0]
        out.append(TherapyInput(drug=atc, started_on=start, stopped_on=stop, outcome=outcome,
                                response_at_followup=outcome == Outcome.SECONDARY_LOSS_OF_RESPONSE))
        start = stop + dt.timedelta(days=rng.randint(14, 120))
    return out


def _as_known_on(t: TherapyInput, day: dt.date) -> TherapyInput:
    """A line as a visit on that day records it: a stop after the visit is not known yet."""
    if t.stopped_on is None or t.stopped_on <= day:
        return t
    return TherapyInput(drug=t.drug, started_on=t.started_on, dose=t.dose)


# Re-asked at later visits: smoking and weight, and at one visit in three a screening or comorbidity review.
REASKED = ("smoking_status", "smoking_pack_years", "bmi")


def _recorded_traits(rng: random.Random, traits: dict, i: int) -> dict:
    """What a visit records of the traits: everything at the first visit, then only what is asked again.

    Facts and conditions then come from the patient's record, carried forward by their validity windows
    (some screenings expire before the latest visit, as they do in clinics).
    """
    if i == 0:
        return dict(traits)
    recorded = {name: value for name, value in traits.items() if name in REASKED}
    if rng.random() < 1 / 3:
        recorded.update({name: traits[name] for name in ("tuberculosis_status", "heart_failure_nyha",
                                                         "jcv_antibody_positive", "jcv_index", "pregnancy_status")
                         if name in traits})
    return recorded


def _traits(rng: random.Random, disease: str, female: bool) -> dict:
    """What does not change between visits."""
    smoking = rng.choices(["never", "former", "current"], weights=[55, 27, 18])[0]
    traits = {
        "smoking_status": smoking,
        "bmi": round(rng.gauss(25.5, 4.2), 1),
        "heart_failure_nyha": rng.choices(["none", "II", "III"], weights=[94, 4, 2])[0],
        "tuberculosis_status": rng.choices(["none", "latent_treated", "latent_untreated"], weights=[92, 6, 2])[0],
        "vte_history": rng.random() < 0.05,
        "malignancy_history": rng.random() < 0.04,
    }
    if smoking != "never":
        traits["smoking_pack_years"] = round(rng.uniform(2, 40))
    if female and disease != RA:
        traits["pregnancy_status"] = rng.choices(["not_pregnant", "planning"], weights=[90, 10])[0]
    if disease != MS:
        traits["demyelinating_history"] = rng.random() < 0.02
    if disease == CD:
        traits |= {"montreal_location": rng.choice(["L1", "L2", "L3", "L3", "L4"]),
                   "montreal_behaviour": rng.choices(["B1", "B2", "B3"], weights=[6, 3, 2])[0],
                   "perianal_disease": rng.random() < 0.25, "prior_bowel_surgery": rng.random() < 0.3}
        traits["fistulising_disease"] = traits["montreal_behaviour"] == "B3" or traits["perianal_disease"]
    if disease == UC:
        traits["montreal_extent"] = rng.choice(["E1", "E2", "E2", "E3", "E3"])
    if disease == RA:
        traits |= {"rf_positive": rng.random() < 0.7, "anti_ccp_positive": rng.random() < 0.65}
    if disease == MS:
        traits |= {"ms_course": rng.choices(["RRMS", "SPMS", "PPMS"], weights=[8, 1, 1])[0],
                   "jcv_antibody_positive": rng.random() < 0.55}
        if traits["jcv_antibody_positive"]:
            traits["jcv_index"] = round(rng.uniform(0.4, 3.5), 2)
    return traits


def _screenings(rng: random.Random, disease: str, female: bool, age: int) -> dict:
    """The pre-treatment screenings a registry holds for some patients and not others: what is not drawn stays
    unrecorded, as in real records, and the safety rules ask for it before starting."""
    out: dict = {}

    def maybe(share: float, name: str, value) -> None:
        if rng.random() < share:
            out[name] = value

    maybe(0.8, "hbsag", rng.choices(["negative", "positive"], weights=[98, 2])[0])
    maybe(0.8, "anti_hbc", rng.choices(["negative", "positive"], weights=[92, 8])[0])
    maybe(0.6, "hcv_antibody", "negative")
    maybe(0.5, "hiv_status", "negative")
    maybe(0.7, "serious_infection_active", False)
    maybe(0.6, "immunodeficiency", False)
    maybe(0.5, "live_vaccine", "none")
    maybe(0.7, "malignancy_active", False)
    maybe(0.6, "hepatic_impairment", "none")
    maybe(0.8, "arterial_disease_history", rng.random() < 0.06)
    maybe(0.7, "lymphocytes", round(rng.gauss(1.8, 0.5), 2))
    maybe(0.7, "neutrophils", round(rng.gauss(4.2, 1.2), 1))
    maybe(0.6, "platelets", round(rng.gauss(260, 60)))
    if rng.random() < 0.6:
        out["alt"] = {"value": round(rng.lognormvariate(3.2, 0.4)), "unit": "U/L", "reference_high": 40}
    maybe(0.6, "creatinine_clearance", round(rng.gauss(95, 20), 1))
    if disease == MS:
        maybe(0.7, "vzv_igg", rng.choices(["positive", "negative"], weights=[95, 5])[0])
        maybe(0.6, "av_conduction", "none")
        maybe(0.5, "qtc", round(rng.gauss(415, 20)))
        maybe(0.5, "severe_depression", False)
    if female and 15 <= age <= 49:
        maybe(0.7, "effective_contraception", rng.random() < 0.85)
    return {k: v for k, v in out.items() if not isinstance(v, (int, float)) or isinstance(v, bool) or v > 0}


def _edss(value: float) -> float:
    """The nearest step of Kurtzke's scale: 0, then 1.0, 1.5 … (there is no 0.5)."""
    step = round(value * 2) / 2
    return 1.0 if step == 0.5 else step


def _clip(value: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, value))


def _measurements(rng: random.Random, disease: str, activity: float, traits: dict, complete: bool) -> dict:
    """One visit's values; activity 0..~1.2 drives the disease-specific components."""
    a = _clip(activity + rng.gauss(0, 0.12), 0, 1.3)
    m = dict(traits)
    m["crp"] = round(_clip(rng.lognormvariate(0.5 + 2.2 * a, 0.6), 0.2, 300), 1)
    m["albumin"] = round(_clip(rng.gauss(43 - 8 * a, 3), 18, 55), 1)
    m["haemoglobin"] = round(_clip(rng.gauss(138 - 20 * a, 10), 75, 185))
    if disease == CD:
        m |= {"hbi_general_wellbeing": round(_clip(4 * a + rng.gauss(0, 0.5), 0, 4)),
              "hbi_abdominal_pain": round(_clip(3 * a + rng.gauss(0, 0.5), 0, 3)),
              "hbi_liquid_stools": round(_clip(9 * a + rng.gauss(0, 1.5), 0, 25)),
              "hbi_abdominal_mass": round(_clip(2.5 * a - 0.8 + rng.gauss(0, 0.5), 0, 3)),
              "hbi_complications": round(_clip(2 * a - 0.4 + rng.gauss(0, 0.6), 0, 8)),
              "fecal_calprotectin": round(_clip(rng.lognormvariate(3.8 + 2.4 * a, 0.5), 10, 6000))}
    elif disease == UC:
        m |= {"mayo_stool_frequency": round(_clip(3 * a + rng.gauss(0, 0.4), 0, 3)),
              "mayo_rectal_bleeding": round(_clip(2.8 * a - 0.2 + rng.gauss(0, 0.4), 0, 3)),
              "mayo_physician_global": round(_clip(3 * a + rng.gauss(0, 0.35), 0, 3)),
              "fecal_calprotectin": round(_clip(rng.lognormvariate(3.8 + 2.5 * a, 0.5), 10, 6000))}
        if complete:
            m["mayo_endoscopic"] = round(_clip(3 * a + rng.gauss(0, 0.4), 0, 3))
    elif disease == RA:
        m |= {"tender_joint_count_28": round(_clip(16 * a + rng.gauss(0, 2), 0, 28)),
              "swollen_joint_count_28": round(_clip(11 * a + rng.gauss(0, 1.5), 0, 28)),
              "esr": round(_clip(rng.lognormvariate(2.3 + 1.3 * a, 0.4), 2, 120)),
              "patient_global": round(_clip(75 * a + rng.gauss(10, 10), 0, 100)),
              "evaluator_global": round(_clip(65 * a + rng.gauss(5, 8), 0, 100)),
              "haq_di": round(_clip(2.2 * a + rng.gauss(0, 0.3), 0, 3) * 8) / 8}
        # Drawn from a side stream seeded by this visit's values, so that every other demo value stays as it was.
        side = random.Random(f"glucocorticoid {a:.12f} {m['esr']} {m['haq_di']}")
        m["glucocorticoid"] = side.random() < 0.25 + 0.2 * a
    elif disease == MS:
        m.pop("crp", None) if rng.random() < 0.5 else None
        m |= {"edss": _edss(_clip(1 + 5 * a + rng.gauss(0, 0.5), 0, 9.5)),
              "relapses_12m": round(_clip(3 * a - 0.5 + rng.gauss(0, 0.6), 0, 6)),
              "new_t2_lesions": round(_clip(6 * a - 1 + rng.gauss(0, 1.2), 0, 30)),
              "gd_lesions": round(_clip(4 * a - 1.2 + rng.gauss(0, 0.9), 0, 20))}
    # Registries are incomplete: drop a few optional values, never at the latest visit.
    if not complete:
        for name in ("albumin", "haemoglobin", "fecal_calprotectin", "esr", "bmi"):
            if name in m and rng.random() < 0.15:
                del m[name]
    return m
