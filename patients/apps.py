from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"

    def ready(self):
        # The audit search finds a patient by the identifier an EHR uses; the core asks the record for it.
        from clinnova.auditlog import PATIENT_LOOKUPS
        from patients.selectors import patient_ids_by_identifier

        if patient_ids_by_identifier not in PATIENT_LOOKUPS:
            PATIENT_LOOKUPS.append(patient_ids_by_identifier)
