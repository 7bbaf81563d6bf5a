"""Clinic Inbox settings: one module, driven by environment variables (see .env.example).

Embedded defaults (SQLite under var/, a filesystem Celery broker) make `make run` work on a
machine with only Python; DATABASE_URL and REDIS_URL switch to Postgres and Redis.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


VAR_DIR = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

if DEBUG:
    SECRET_KEY = SECRET_KEY or "django-insecure-development-only-key-never-use-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
else:
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random string of at least 50 characters when DEBUG is off "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names when DEBUG is off.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "clinic",
    "scheduling",
    "inbox",
    "qa",
    "campaigns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "clinic.middleware.CurrentClinicMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.navigation",
                "inbox.context_processors.bell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside the writer, and
    # IMMEDIATE transactions take the write lock up front instead of failing mid-transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

CELERY_BROKER_DIR = Path(os.environ.get("CELERY_BROKER_DIR") or VAR_DIR / "broker")
# Redis redelivers an unacknowledged message after this many seconds; ETA tasks further away
# than this must not be scheduled on Redis (the periodic sweeps cover them instead).
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # Publishing gives up fast when Redis is down: the row is already in the database
        # and the periodic sweeps queue it again, so a request never hangs on the broker.
        "max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5,
    }
else:
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# A patient's message never waits behind slow work: delivery and inbound follow-ups have queues
# of their own, and media, campaigns and scoring go to "slow" (see Procfile.dev, compose).
CELERY_TASK_ROUTES = {
    "inbox.tasks.message_deliver_task": {"queue": "outbound"},
    "inbox.tasks.button_answer_task": {"queue": "inbound"},
    "inbox.tasks.media_fetch_task": {"queue": "slow"},
    "inbox.tasks.patient_wrote_task": {"queue": "inbound"},
    "inbox.tasks.queue_drain_task": {"queue": "inbound"},
    "inbox.tasks.timer_breach_task": {"queue": "inbound"},
    "qa.tasks.scorecard_build_task": {"queue": "slow"},
    "qa.tasks.scorecards_process_due_task": {"queue": "slow"},
    "campaigns.tasks.plan_all_task": {"queue": "slow"},
    "campaigns.tasks.appointment_plan_task": {"queue": "slow"},
    "campaigns.tasks.dispatches_process_due_task": {"queue": "slow"},
}
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "clinic.tasks.heartbeat_task", "schedule": 60.0},
    "outbox-sweep": {"task": "inbox.tasks.outbox_sweep_task",
                     "schedule": float(env_int("OUTBOX_SWEEP_SECONDS", 30))},
    "timers-sweep": {"task": "inbox.tasks.timers_sweep_task",
                     "schedule": float(env_int("TIMER_SWEEP_TICK_SECONDS", 10))},
    # The backstop for scorecards whose task was lost (qa.services.scoring).
    "scorecards-process-due": {"task": "qa.tasks.scorecards_process_due_task",
                               "schedule": float(env_int("SCORECARD_SWEEP_SECONDS", 60))},
    # Reminders and recall: two static entries, never one per patient (campaigns.services).
    "campaigns-plan": {"task": "campaigns.tasks.plan_all_task",
                       "schedule": float(env_int("CAMPAIGN_PLAN_SECONDS", 300))},
    "campaigns-dispatch": {"task": "campaigns.tasks.dispatches_process_due_task",
                           "schedule": float(env_int("CAMPAIGN_DISPATCH_SECONDS", 60))},
}

# --- Response timers ------------------------------------------------------------------------
# The beat checks for overdue replies this often; each clinic's own interval (at least this)
# decides whether its turn has come. The exact-time breach tasks do the real work.
TIMER_SWEEP_TICK_SECONDS = env_int("TIMER_SWEEP_TICK_SECONDS", 10)
# A breach task with an ETA is queued only for due times this near: a Redis broker redelivers
# an ETA message after its visibility timeout, so a far-away ETA could run twice or late. The
# sweep queues the task for a far due time (a Friday-night message due on Monday) once it nears.
TIMER_ETA_HORIZON_SECONDS = min(env_int("TIMER_ETA_HORIZON_SECONDS", 900),
                                CELERY_VISIBILITY_TIMEOUT // 2)
# The length of a rule's "minute"; tests shorten it to run real timers in seconds.
RESPONSE_TIMER_UNIT_SECONDS = env_int("RESPONSE_TIMER_UNIT_SECONDS", 60)

# --- Auth and access ------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Password guessing: 5 failures for one user name from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Reverse proxies in front of the app: client addresses come from X-Forwarded-For then.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_VERBOSE = False

# --- Security -------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
X_FRAME_OPTIONS = "DENY"

# No inline script, no eval: every script is a file under static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "ru")
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True
PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "RU")

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or VAR_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # A clinic's API token (Authorization: Bearer cit_…) for its MIS and other systems.
        "clinic.access.ClinicTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["clinic.access.HasClinicRole"],
    "DEFAULT_SCHEMA_CLASS": "clinic.rest.ClinicAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "clinic.rest.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic Inbox API",
    "DESCRIPTION": (
        "Patients, conversations, doctors, services, schedules, free slots and appointments "
        "of one clinic. Authenticate with a clinic API token (`Authorization: Bearer cit_…`, "
        "made by the owner under Settings → API). Errors answer `{\"code\", \"detail\"}`."),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags and operation ids from the resource ("doctors", "doctors_list"), not "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # The interactive docs' assets come from drf-spectacular-sidecar: no CDN under our CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}

# --- Channels -------------------------------------------------------------------------------
# Provider base URLs are settings so tests and the demo point the real adapters at a fake server.
TELEGRAM_API_BASE = os.environ.get("TELEGRAM_API_BASE", "https://api.telegram.org").rstrip("/")
WHATSAPP_API_BASE = os.environ.get("WHATSAPP_API_BASE", "https://graph.facebook.com").rstrip("/")
WHATSAPP_API_VERSION = os.environ.get("WHATSAPP_API_VERSION", "v25.0")
CHANNEL_HTTP_TIMEOUT = float(os.environ.get("CHANNEL_HTTP_TIMEOUT", "10"))
WEBHOOK_MAX_BYTES = 1024 * 1024
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 10)
OUTBOX_BACKOFF_SECONDS = env_int("OUTBOX_BACKOFF_SECONDS", 5)
OUTBOX_MAX_BACKOFF_SECONDS = env_int("OUTBOX_MAX_BACKOFF_SECONDS", 900)
# A "sending" row older than this belonged to a worker that died mid-delivery.
OUTBOX_STALE_SECONDS = env_int("OUTBOX_STALE_SECONDS", 120)
# A queued row this old with no delivery under way is queued again by the sweep.
OUTBOX_REQUEUE_AFTER_SECONDS = env_int("OUTBOX_REQUEUE_AFTER_SECONDS", 30)
# Website chat API limits (per address, per visitor) and the longest long-poll.
WEBCHAT_IP_RATE = os.environ.get("WEBCHAT_IP_RATE", "120/m")
WEBCHAT_SEND_RATE = os.environ.get("WEBCHAT_SEND_RATE", "20/m")
WEBCHAT_SESSION_RATE = os.environ.get("WEBCHAT_SESSION_RATE", "10/h")
# A cache (Redis) outage must not take the widget down with it.
RATELIMIT_FAIL_OPEN = True
WEBCHAT_LONGPOLL_SECONDS = float(os.environ.get("WEBCHAT_LONGPOLL_SECONDS", "20"))
# How long a link to a file in the website chat works (the widget gets fresh links on reload).
WEBCHAT_FILE_URL_SECONDS = env_int("WEBCHAT_FILE_URL_SECONDS", 24 * 3600)
# Files patients send: fetched into storage by a task on the "slow" queue.
MEDIA_MAX_BYTES = env_int("MEDIA_MAX_BYTES", 20 * 1024 * 1024)  # Telegram's getFile limit
MEDIA_ALLOWED_TYPES = env_list("MEDIA_ALLOWED_TYPES") or [
    "image/*", "application/pdf", "audio/*", "video/mp4", "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
]
MEDIA_MAX_ATTEMPTS = env_int("MEDIA_MAX_ATTEMPTS", 5)
MEDIA_RETRY_SECONDS = env_int("MEDIA_RETRY_SECONDS", 60)
# Files the clinic sends: within every provider's limits (WhatsApp images: 5 MB).
OUTBOUND_FILE_MAX_BYTES = env_int("OUTBOUND_FILE_MAX_BYTES", 5 * 1024 * 1024)
OUTBOUND_FILE_TYPES = ["image/jpeg", "image/png", "application/pdf",
                       "application/msword",
                       "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]

# Sessions read from the cache first: every open inbox asks for its live version each second.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- E-mail (campaigns' e-mail channel) -------------------------------------------------------
# Automatic e-mails go out only when EMAIL_FROM is set; without it the e-mail channel is
# "not set up" and rules use the messengers. EMAIL_HOST etc. are Django's usual settings;
# in development (DEBUG) mail is printed to the console.
EMAIL_FROM = os.environ.get("EMAIL_FROM", "")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = 10
if DEBUG and not os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
