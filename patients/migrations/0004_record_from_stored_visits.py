"""Existing visits keep their meaning: the patient's facts and conditions become dated record entries.

Before this, every value lived only in its visit, and a value missing from the latest visit was forgotten.
Each fact or condition a stored visit recorded becomes an entry dated on that visit (patients.state then
carries it forward by its validity window). An MS course known only from the diagnosis becomes an entry on
the diagnosis date. Therapy lines stopped without a reason say the reason was not recorded.

The lists are frozen here as they were when the migration was written: the dictionary may change later.
"""

from django.db import migrations

PERSISTENT = (
    # facts
    "montreal_location", "montreal_behaviour", "perianal_disease", "prior_bowel_surgery", "fistulising_disease",
    "montreal_extent", "rf_positive", "anti_ccp_positive", "ms_course",
    # conditions and screenings
    "smoking_status", "smoking_pack_years", "heart_failure_nyha", "demyelinating_history", "tuberculosis_status",
    "vte_history", "malignancy_history", "pregnancy_status", "jcv_antibody_positive", "jcv_index",
)
MS_COURSES = ("RRMS", "SPMS", "PPMS")
BATCH = 2000


def forwards(apps, schema_editor):
    Visit = apps.get_model("patients", "Visit")
    Diagnosis = apps.get_model("patients", "Diagnosis")
    RecordEntry = apps.get_model("patients", "RecordEntry")
    TherapyExposure = apps.get_model("patients", "TherapyExposure")

    TherapyExposure.objects.filter(stopped_on__isnull=False, outcome="ongoing").update(outcome="not_recorded")
    TherapyExposure.objects.filter(stopped_on__isnull=True).exclude(outcome="ongoing").update(outcome="ongoing")

    entries = []
    with_course = set()
    visits = Visit.objects.order_by("pk").values_list("pk", "patient_id", "visit_date", "measurements", "source",
                                                      "source_id", "created_at")
    for pk, patient_id, visit_date, measurements, source, source_id, created_at in visits.iterator(chunk_size=BATCH):
        for name in PERSISTENT:
            if name in (measurements or {}):
                entries.append(RecordEntry(patient_id=patient_id, variable=name, value=measurements[name],
                                           effective_on=visit_date, source=source, visit_id=pk,
                                           source_ref=source_id or "", recorded_at=created_at))
                if name == "ms_course":
                    with_course.add(patient_id)
        if len(entries) >= BATCH:
            RecordEntry.objects.bulk_create(entries)
            entries = []
    for d in Diagnosis.objects.filter(disease="multiple_sclerosis", subtype__in=MS_COURSES):
        if d.patient_id not in with_course:
            entries.append(RecordEntry(patient_id=d.patient_id, variable="ms_course", value=d.subtype,
                                       effective_on=d.diagnosed_on, source="migration"))
    RecordEntry.objects.bulk_create(entries)


def backwards(apps, schema_editor):
    apps.get_model("patients", "RecordEntry").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_therapy_lines_and_record_entries")]

    operations = [migrations.RunPython(forwards, backwards)]
