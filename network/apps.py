from django.apps import AppConfig
from django.db.models.signals import pre_save


class NetworkConfig(AppConfig):
    name = "network"
    verbose_name = "Network: site nodes, hub, federated evaluation and monitoring"

    def ready(self):
        from network.hub import patient_row_refuse
        from patients.models import Patient, Visit

        for model in (Patient, Visit):
            pre_save.connect(patient_row_refuse, sender=model, dispatch_uid=f"hub-refuses-{model.__name__}")
