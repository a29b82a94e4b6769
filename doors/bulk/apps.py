from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "doors.bulk"
    label = "bulk"
    verbose_name = "Bulk import"
