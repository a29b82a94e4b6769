"""Clinnova settings: one module, read from the environment.

Defaults suit the embedded mode (`make run`: SQLite, Celery tasks in-process).
Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY and ALLOWED_HOSTS.
A secret may also come from a file named by <NAME>_FILE (Docker secrets).
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """A string from the environment, or from the file named by <name>_FILE."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = env(name, "1" if default else "0").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: use 1/0, true/false, yes/no or on/off")


def envint(name: str, default: int) -> int:
    value = env(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE)")
    SECRET_KEY = "insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# The node's public base URL as EHRs and browsers reach it (scheme, host, any path prefix): the audience CDS Hooks
# JWTs must name and the base of every link handed out (cards, FHIR fullUrl and CapabilityStatement, enrolment).
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Behind a proxy that serves one node under several names, also trust the host a request was made to (it has
# passed ALLOWED_HOSTS first): links then follow the caller, and a JWT may name either URL.
TRUST_REQUEST_HOST = envbool("TRUST_REQUEST_HOST", False)
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} must be an absolute http(s) URL, e.g. https://clinnova.example")

INSTALLED_APPS = [
    "clinnova.apps.ClinnovaAdminConfig",  # the Django admin, held to the same rules (clinnova.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # recovery codes
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, no CDN
    "corsheaders",  # CORS for browser-based CDS Hooks clients, on /cds-services only
    "clinnova",
    "patients",
    "recommendations",
    "doors",  # the doors and pages above both apps: JSON API, FHIR, CDS Hooks, clinician pages
    "doors.bulk",  # the bulk import of a site's history (its job rows live in the database)
    "network",  # site node or network hub: federated evaluation, monitoring (CLINNOVA_ROLE)
]

MIDDLEWARE = [
    "clinnova.middleware.RequestIdMiddleware",  # first, so every response and log line carries the id
    "clinnova.middleware.NoStoreMiddleware",  # every dynamic response: patient data is never cached
    "clinnova.middleware.HealthCheckMiddleware",  # the container's probe: before host checks and HTTPS redirect
    "clinnova.middleware.ChunkedBodyMiddleware",  # a chunked body without a length would be read as empty
    # Before anything that may answer: a preflight (OPTIONS, no Authorization) is answered here, without a token.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "network.hub.HubRefusesPatientDoorsMiddleware",  # the hub holds no patient data: its patient doors answer 403
    "clinnova.unavailable.DatabaseUnavailableMiddleware",  # a database outage answers 503 + Retry-After
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "clinnova.middleware.NulCharacterMiddleware",  # PostgreSQL text holds no NUL: a named 400, not a 500
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clinnova.middleware.RefusalAuditMiddleware",  # outside the gates below, so their refusals are recorded too
    "clinnova.signin.SessionLifetimeMiddleware",
    "clinnova.signin.SecondFactorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinnova.urls"
WSGI_APPLICATION = "clinnova.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinnova.context.frame",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL and a busy timeout let the in-process worker write while pages read.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # each role lands on its own page (clinnova.views.home)
LOGOUT_REDIRECT_URL = "signed_out"

# Sessions end after 30 minutes without a request (clinical workstations are shared).
SESSION_COOKIE_AGE = envint("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# ... and 12 hours after sign-in however active they were (clinnova.signin.SessionLifetimeMiddleware).
SESSION_ABSOLUTE_SECONDS = envint("SESSION_ABSOLUTE_SECONDS", 12 * 3600)

# --- Sign-in: lockout after repeated failures (django-axes, counters in the database) ---
# The account and the address are counted separately: 5 failures lock either for 15 minutes.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out attempt before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "clinnova.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "clinnova.audit.client_address"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are in the audit trail already
# --- Second factor (django-otp TOTP): required for model admins and privacy officers ---
OTP_TOTP_ISSUER = "Clinnova"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/Luxembourg"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The image runs collectstatic and sets STATIC_MANIFEST=1 for hashed, compressed files.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if envbool("STATIC_MANIFEST", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Celery: without a broker, tasks run in-process after commit (embedded mode) ---
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redelivery of an unacknowledged task after a worker dies; the sweep covers the rest.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
# Sending a job must not hold a request for long while the broker is away: the job is in the database
# already and the sweep sends it later, so one quick retry is enough.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BEAT_SCHEDULE = {
    "sweep-scoring-jobs": {"task": "recommendations.tasks.sweep_scoring_jobs", "schedule": 30.0},
    "sweep-import-jobs": {"task": "doors.bulk.tasks.sweep_import_jobs", "schedule": 60.0},
}
CELERY_TASK_ROUTES = {}
# Workers log through LOGGING below (request ids, no patient data) instead of Celery's own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
    # Every API error is {"code", "message", "errors": [{"field", "value", "message"}]}.
    "EXCEPTION_HANDLER": "doors.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"ehr_client": env("EHR_API_RATE", "600/min")},
}
# The largest JSON body the EHR API reads; anything longer is answered 413 unread.
EHR_API_MAX_BODY_BYTES = envint("EHR_API_MAX_BODY_BYTES", 256 * 1024)
# A CDS Hooks call carries the EHR's prefetch: the service's template asks for at most 100 recent observations
# (~1 KB each), so 1 MB leaves room for verbose EHRs; a larger call is answered 413 with a JSON reason.
CDS_MAX_BODY_BYTES = envint("CDS_MAX_BODY_BYTES", 1024 * 1024)
# A FHIR transaction may be a patient's whole record: Synthea writes one Bundle per patient with every Encounter,
# Claim and ExplanationOfBenefit (a few MB for 40 encounters). 16 MB holds long records; JSON this size takes
# about ten times its size in memory while it is read.
FHIR_MAX_BODY_BYTES = envint("FHIR_MAX_BODY_BYTES", 16 * 1024 * 1024)
# How far ahead a CDS client's JWT may expire. CDS Hooks 2.0 sets no maximum; its examples and the sandbox sign
# tokens for 300 s. Longer-lived tokens widen a replay window (their jti is kept until exp): raise this only for
# an EHR that signs longer lifetimes, never beyond an hour.
CDS_JWT_MAX_LIFETIME = envint("CDS_JWT_MAX_LIFETIME", 5 * 60)
if not 60 <= CDS_JWT_MAX_LIFETIME <= 3600:
    raise ImproperlyConfigured(f"CDS_JWT_MAX_LIFETIME={CDS_JWT_MAX_LIFETIME} must lie between 60 and 3600 seconds")
# Browser-based CDS clients (the CDS Hooks sandbox, an EHR's web client) call from these origins: CORS is answered
# for /cds-services only, and only to these origins or those registered with a CDS client (register_cds_client
# --origin). Origins are scheme://host[:port], e.g. https://sandbox.cds-hooks.org.
CDS_CORS_ORIGINS = envlist("CDS_CORS_ORIGINS")
# django-cors-headers, limited to the CDS Hooks door: the rest of the site is same-origin only. Bearer tokens,
# not cookies, so no credentials; a preflight may ask for Authorization and Content-Type (CDS Hooks 2.0, CORS).
CORS_URLS_REGEX = r"^/cds-services(/.*)?$"
CORS_ALLOWED_ORIGINS = CDS_CORS_ORIGINS
CORS_ALLOW_METHODS = ("GET", "POST", "OPTIONS")
CORS_ALLOW_HEADERS = ("authorization", "content-type")
CORS_ALLOW_CREDENTIALS = False
CORS_EXPOSE_HEADERS = ("WWW-Authenticate",)  # the page may read why a token was refused
# A bulk import file (POST /api/v1/imports/): a site's history, stored on disk before it is read.
BULK_IMPORT_MAX_BYTES = envint("BULK_IMPORT_MAX_BYTES", 2 * 1024**3)

SPECTACULAR_SETTINGS = {
    "TITLE": "Clinnova EHR API",
    "DESCRIPTION": "Send visits from an EHR and read them back. The data dictionary at /api/v1/dictionary/ is "
                   "the contract: variable names, units, ranges and codes. Trained on synthetic data; "
                   "not for clinical use.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set a generated client sees, wherever the set appears.
    "ENUM_NAME_OVERRIDES": {
        "DiseaseEnum": "patients.dictionary.Disease",
        "RecommendationStatusEnum": ["pending", "ready", "failed", "no_active_model"],
        "ImportStatusEnum": "doors.bulk.models.ImportStatus",
    },
}

# Throttle counters (and any other cache use) live in Redis when there is one, shared by all workers.
REDIS_URL = env("REDIS_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Where the shipped model packages live and how big an uploaded one may be.
PRETRAINED_DIR = BASE_DIR / "recommendations" / "pretrained"
MODEL_UPLOAD_MAX_BYTES = envint("MODEL_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
MODEL_STORE_DIR = Path(env("MODEL_STORE_DIR", str(MEDIA_ROOT / "models")))
# The child process that parses an uploaded booster (recommendations.sandbox): its address space, CPU time and
# wall clock. The wall clock stays below gunicorn's worker timeout (WEB_TIMEOUT_S), so a validation that runs
# inside a request (no broker) still answers before the worker would be killed.
WEB_TIMEOUT_S = envint("WEB_TIMEOUT_S", 30)
MODEL_SANDBOX_MEMORY_MB = envint("MODEL_SANDBOX_MEMORY_MB", 1024)
MODEL_SANDBOX_CPU_S = envint("MODEL_SANDBOX_CPU_S", 15)
MODEL_SANDBOX_WALL_S = envint("MODEL_SANDBOX_WALL_S", 20)
if MODEL_SANDBOX_WALL_S >= WEB_TIMEOUT_S:
    raise ImproperlyConfigured(f"MODEL_SANDBOX_WALL_S ({MODEL_SANDBOX_WALL_S}) must stay below WEB_TIMEOUT_S "
                               f"({WEB_TIMEOUT_S}), gunicorn's worker timeout")

# --- HTTPS and cookies: on in production, where a TLS proxy sits in front ---
HTTPS = envbool("HTTPS", not DEBUG and bool(env("DATABASE_URL")))
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
# Proxies in front whose X-Forwarded-For (and X-Request-ID) are believed; the client address is read past them.
# Never assumed: with HTTPS on and no count set, a client that reached gunicorn directly could otherwise write its
# own address into the lockout counters and the audit trail. TRUSTED_PROXY_NETWORKS narrows it further: the headers
# are believed only from a peer in those networks (docker compose's proxy-only network).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
TRUSTED_PROXY_NETWORKS = envlist("TRUSTED_PROXY_NETWORKS")
for _network in TRUSTED_PROXY_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXY_NETWORKS: {_network!r} is not an address or network") from None
# No inline script or style anywhere; /api/docs/ (Swagger UI's inline start-up script) relaxes this itself.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Every line carries the request id; no line carries patient data (clinnova/logging.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "clinnova.logging.RequestIdFilter"},
        "patient_data": {"()": "clinnova.logging.PatientDataFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["request_id", "patient_data"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own handlers (console in DEBUG, mail_admins) would bypass the filters: use ours only.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"filters": ["patient_data"]},
        "axes": {"level": "WARNING"},  # failures and lockouts; not a line per sign-in
    },
}

# --- The network: the same code runs as one site's node or as the network hub (no patient data) ---
def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env(name, default).strip()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r}: use one of {', '.join(choices)}")
    return value


# "site" is today's single deployment (every site's patients when CLINNOVA_SITE is empty, as `make run`);
# "hub" holds model versions, evaluations and monitoring summaries and refuses patient data.
CLINNOVA_ROLE = envchoice("CLINNOVA_ROLE", "site", ("site", "hub"))
CLINNOVA_SITE = env("CLINNOVA_SITE").strip().upper()
if CLINNOVA_ROLE == "hub" and CLINNOVA_SITE:
    raise ImproperlyConfigured("CLINNOVA_SITE must be empty when CLINNOVA_ROLE=hub: the hub holds no site's patients")
CLINNOVA_NETWORK_SITES = envlist("CLINNOVA_NETWORK_SITES", "LU,FR,DE,CH")
# How long the hub waits for the sites' answers in one federated evaluation or monitoring round.
NETWORK_ROUND_TIMEOUT = envint("NETWORK_ROUND_TIMEOUT", 120)
# A site node trains in a federated round only with at least this many training rows of its own; the hub may ask
# for more, never for fewer (network.training_data.min_site_rows).
NETWORK_TRAIN_MIN_ROWS = envint("NETWORK_TRAIN_MIN_ROWS", 200)
# Whether the site nodes' patients are synthetic (the demo network): a federated model's manifest says so.
NETWORK_SITES_SYNTHETIC = envbool("NETWORK_SITES_SYNTHETIC", True)
# The hub's SuperLink (host:port) for `flwr run`, and the CA that signed its certificate. Without a CA the
# connection is insecure, which only a network on one machine (make network, tests) may use.
NETWORK_SUPERLINK = env("NETWORK_SUPERLINK")
NETWORK_TLS_ROOT_CERT = env("NETWORK_TLS_ROOT_CERT")
# Sections the model card shows below its own (callables of the version returning a template and its context).
MODEL_CARD_SECTIONS = ["network.pages.model_card_federated", "network.pages.model_card_distribution"]
# Sections the model list shows above the versions (callables without arguments), named for the same reason.
MODEL_LIST_SECTIONS = ["network.pages.model_list_training"]
CELERY_BEAT_SCHEDULE["network-monitoring"] = {"task": "network.tasks.monitoring_refresh", "schedule": 6 * 3600.0}
CELERY_BEAT_SCHEDULE["network-training-sweep"] = {"task": "network.tasks.sweep_federated_training", "schedule": 60.0}

CLINNOVA_DEMO_PASSWORD = env("CLINNOVA_DEMO_PASSWORD", "clinnova-demo")
SYNTHETIC_NOTICE = "Trained on synthetic data · not for clinical use"
# Federated evaluations asked for on the model card whose submission or ServerApp was lost (network.evaluation).
CELERY_BEAT_SCHEDULE["network-evaluation-sweep"] = {"task": "network.tasks.sweep_federated_evaluations",
                                                    "schedule": 60.0}
