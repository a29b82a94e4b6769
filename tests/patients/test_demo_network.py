import datetime as dt

from django.contrib.auth.models import User

from doors.demo import demo_network_load
from patients.models import Patient, Site, Visit
from patients.state import patient_state
from recommendations.selectors import recommendation_payload


def test_no_demo_accounts_exist_after_migrations_alone(db):
    assert not User.objects.filter(username__startswith="clinician-").exists()


def test_the_demo_network_loads_once_and_a_second_run_adds_nothing(db):
    first = demo_network_load(patients_per_site_and_disease=2, password="pw-for-tests", today=dt.date(2026, 6, 1))
    counts = (Patient.objects.count(), Visit.objects.count())
    second = demo_network_load(patients_per_site_and_disease=2, password="pw-for-tests", today=dt.date(2026, 6, 1))
    assert first.patients_created == 4 * 4 * 2
    assert second.patients_created == 0 and second.visits_created == 0
    assert (Patient.objects.count(), Visit.objects.count()) == counts
    assert sorted(Site.objects.values_list("code", flat=True)) == ["CH", "DE", "FR", "LU"]


def test_demo_clinicians_belong_to_one_site_each(db):
    demo_network_load(patients_per_site_and_disease=1, password="pw-for-tests", today=dt.date(2026, 6, 1))
    lu = User.objects.get(username="clinician-lu")
    assert list(lu.sites.values_list("code", flat=True)) == ["LU"]
    assert lu.check_password("pw-for-tests")
    assert not User.objects.get(username="modeladmin").sites.exists()


def test_the_demo_network_is_deterministic(db):
    demo_network_load(patients_per_site_and_disease=1, password="pw", today=dt.date(2026, 6, 1))
    first = sorted((v.source_id, v.visit_date, str(sorted(v.measurements.items()))) for v in Visit.objects.all())
    Visit.objects.all().delete()
    demo_network_load(patients_per_site_and_disease=1, password="pw", today=dt.date(2026, 6, 1))
    again = sorted((v.source_id, v.visit_date, str(sorted(v.measurements.items()))) for v in Visit.objects.all())
    assert first == again


def test_no_ppms_patient_of_the_demo_network_gets_a_drug_outside_its_licence_as_top_suggestion(db, all_models):
    demo_network_load(patients_per_site_and_disease=10, password="pw", today=dt.date(2026, 6, 1))
    ppms = []
    for patient in Patient.objects.filter(visits__disease="multiple_sclerosis").distinct():
        latest = patient.visits.order_by("-visit_date", "-created_at").first()
        if patient_state(patient, on=latest.visit_date, visit=latest).value("ms_course") == "PPMS":
            ppms.append(recommendation_payload(latest))
    assert ppms, "the demo network has primary progressive MS patients"
    for payload in ppms:
        # Either a drug licensed for this patient leads (ocrelizumab in early PPMS with MRI activity), or no drug
        # to start exists and the page shows no top suggestion.
        if payload["drugs"][0]["group"] != "start":
            assert not [d for d in payload["drugs"] if d["group"] == "start"]
        for drug in payload["drugs"]:
            if drug["name"] in ("fingolimod", "ofatumumab"):
                assert drug["group"] in ("not_licensed", "contraindicated", "current") and drug["licensed"] is not True
