"""gunicorn's settings, from the same environment as Django's (docker compose's web service uses this file).

    gunicorn -c clinnova/gunicorn_conf.py clinnova.wsgi:application
"""

import os

# Bound where only the TLS proxy reaches it (compose publishes the port on the host's loopback only).
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", "3"))
# Model validation in a request (no broker) is bounded by MODEL_SANDBOX_WALL_S, which settings keep below this.
timeout = int(os.environ.get("WEB_TIMEOUT_S", "30"))
# The access log leaves out the URL (a path or query string can name a patient); X-Request-ID joins it to the app log.
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
