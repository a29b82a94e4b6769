import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinnova.settings")

application = get_wsgi_application()

# Load the URLs, and with them every view, DRF and XGBoost, when the process starts: Django would load them on
# the first request, which then waited for them (10 s on a busy 2-core machine, the p99 of a short load test).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns
