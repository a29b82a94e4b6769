"""The Celery app. Tasks carry ids only; the database holds job state."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinnova.settings")

app = Celery("clinnova")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
