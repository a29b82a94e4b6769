from django.apps import AppConfig


class ClinnovaConfig(AppConfig):
    name = "clinnova"
    verbose_name = "Clinnova platform"
