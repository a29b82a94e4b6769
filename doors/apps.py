from django.apps import AppConfig


class DoorsConfig(AppConfig):
    name = "doors"

    def ready(self):
        from doors.cds.cors import cors_check_connect

        cors_check_connect()
