"""railzpush settings: everything comes from the environment, and a bad value stops start-up.

The embedded default (no variables set) is SQLite with django-q2's ORM broker and the offline
Railz emulator; the scale setup is DATABASE_URL=postgres://…, REDIS_URL=redis://… and Railz
credentials. See README.md.
"""

import math
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from railzpush.env import env_bool, env_float, env_int, env_json_ints, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RAILZPUSH_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
# Where this app is reachable; the emulator delivers webhooks here and the client finds the
# emulator here.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "railzpush",
    "railzpush.emulator",
    "refs",
    "pushes",
    "sheets",
    "railzpush.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the path, the query string or the body.
    "railzpush.api.middleware.InputBoundsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "railzpush.urls"
WSGI_APPLICATION = "railzpush.wsgi.application"
ASGI_APPLICATION = "railzpush.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'railzpush.sqlite3'}")
try:
    # Persistent connections: a worker runs thousands of short tasks and a web thread many short
    # requests, and opening a connection (with SQLite's pragmas) cost more than a push's own
    # queries. Off in development, where runserver starts a thread per request.
    _db = dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0 if DEBUG else 60, minimum=0),
        conn_health_checks=True,
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # A web process and several workers write at once: WAL lets readers go on during a write,
    # IMMEDIATE takes the write lock at BEGIN (so no transaction fails half-way on upgrade), and
    # the busy timeout makes writers queue instead of raising "database is locked".
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30, minimum=1),
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
        ),
    }
    # Tests use a file, not shared-cache memory: in memory, SQLite locks whole tables between
    # threads (the live server, webhook deliveries) and ignores the busy timeout. One file per
    # test run, so two runs in one checkout never share it.
    _db["TEST"] = {
        "NAME": env_str("SQLITE_TEST_NAME", str(VAR_DIR / f"test-railzpush-{os.getpid()}.sqlite3"))
    }
    VAR_DIR.mkdir(parents=True, exist_ok=True)
USING_POSTGRES = _db["ENGINE"].startswith("django.db.backends.postgresql")
if USING_POSTGRES:
    # Django's backend with a health check that needs no round trip (railzpush/db/postgresql).
    _db["ENGINE"] = "railzpush.db.postgresql"
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shares the Railz token and rate budget between the web process and workers --------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # Django's Redis backend, reusing one client per server (see railzpush/cache.py).
    CACHES = {"default": {"BACKEND": "railzpush.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Background work (django-q2) ------------------------------------------------------------
Q_WORKERS = env_int("Q_WORKERS", 2, minimum=1)
Q_CLUSTER = {
    "name": "railzpush",
    "workers": Q_WORKERS,
    # A task that has run for `timeout` seconds is killed; `retry` must be longer so that a
    # task still running is never handed to a second worker.
    "timeout": env_int("Q_TIMEOUT", 120, minimum=5),
    "retry": env_int("Q_RETRY", 180, minimum=10),
    # Tasks are safe to re-run (they claim their rows with a conditional update), so a task
    # lost with its worker is tried again, a bounded number of times.
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3, minimum=1),
    "catch_up": False,
    "ack_failures": True,
    # Successful tasks are kept without django-q2's pruning, which reads every saved success under
    # a lock each time a task ends (its cost grows with the limit; at 1000 it was the cluster's
    # biggest cost per push); the `railzpush: purge old successful tasks` schedule keeps
    # Q_SUCCESS_KEEP_HOURS of them instead. -1 stores none. Failures are always stored.
    "save_limit": env_int("Q_SAVE_LIMIT", 0, minimum=-1),
    "poll": env_float("Q_POLL", 0.5, minimum=0.05),
    "label": "Background tasks",
}
Q_SUCCESS_KEEP_HOURS = env_int("Q_SUCCESS_KEEP_HOURS", 24, minimum=1)
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
if Q_CLUSTER["timeout"] >= Q_CLUSTER["retry"]:
    raise ImproperlyConfigured("Q_TIMEOUT must be lower than Q_RETRY")

# --- Railz ----------------------------------------------------------------------------------
RAILZ_CLIENT_ID = env_str("RAILZ_CLIENT_ID", "")
RAILZ_SECRET_KEY = env_str("RAILZ_SECRET_KEY", "")
RAILZ_WEBHOOK_SECRET = env_str("RAILZ_WEBHOOK_SECRET", "")
_has_credentials = bool(RAILZ_CLIENT_ID and RAILZ_SECRET_KEY)
_emulator_setting = env_str("RAILZ_EMULATOR")
RAILZ_EMULATOR = env_bool("RAILZ_EMULATOR", not _has_credentials)
if RAILZ_EMULATOR and _emulator_setting is None and not DEBUG:
    # In production the emulator is never switched on by the absence of credentials alone.
    raise ImproperlyConfigured(
        "No Railz credentials are set: set RAILZ_CLIENT_ID and RAILZ_SECRET_KEY, or set "
        "RAILZ_EMULATOR=1 to run against the offline emulator on purpose"
    )
if RAILZ_EMULATOR:
    # Demo credentials, so the app and its emulator always agree when none are set.
    RAILZ_CLIENT_ID = RAILZ_CLIENT_ID or "emulator-client"
    RAILZ_SECRET_KEY = RAILZ_SECRET_KEY or "SB_emulator-secret"
    RAILZ_WEBHOOK_SECRET = RAILZ_WEBHOOK_SECRET or "emulator-webhook-secret"
RAILZ_API_URL = env_str(
    "RAILZ_API_URL", f"{SITE_URL}/emulator/api" if RAILZ_EMULATOR else "https://api.railz.ai"
).rstrip("/")
RAILZ_AUTH_URL = env_str(
    "RAILZ_AUTH_URL",
    f"{SITE_URL}/emulator/auth/getAccess" if RAILZ_EMULATOR else "https://auth.railz.ai/getAccess",
)
RAILZ_CONNECT_TIMEOUT = env_float("RAILZ_CONNECT_TIMEOUT", 5.0, minimum=0.1)
RAILZ_READ_TIMEOUT = env_float("RAILZ_READ_TIMEOUT", 30.0, minimum=0.1)
RAILZ_RATE_LIMIT_PER_MINUTE = env_int("RAILZ_RATE_LIMIT_PER_MINUTE", 1000, minimum=1)
# Per-connection provider limits (requests a minute) that the client keeps under.
RAILZ_PROVIDER_LIMITS = env_json_ints("RAILZ_PROVIDER_LIMITS", {"xero": 60})
RAILZ_GET_RETRIES = env_int("RAILZ_GET_RETRIES", 4, minimum=0)
# The longest a call waits for the rate budget; past it the client raises RailzRateLimited so a
# background task is requeued instead of holding a worker.
RAILZ_MAX_WAIT_SECONDS = env_float("RAILZ_MAX_WAIT_SECONDS", 30.0, minimum=0)
RAILZ_WEBHOOK_TOLERANCE_SECONDS = env_int("RAILZ_WEBHOOK_TOLERANCE_SECONDS", 300, minimum=1)

# --- Railz emulator ---------------------------------------------------------------------------
# Seconds before an emulated push completes; 0 completes it within the request that made it
# (the answer still says pending, as Railz's does).
RAILZ_EMULATOR_PUSH_DELAY_SECONDS = env_float("RAILZ_EMULATOR_PUSH_DELAY_SECONDS", 2.0, minimum=0)
# Where the emulator delivers webhooks (signed with RAILZ_WEBHOOK_SECRET); the control endpoint
# can point a running emulator elsewhere.
RAILZ_EMULATOR_WEBHOOK_URL = env_str("RAILZ_EMULATOR_WEBHOOK_URL", f"{SITE_URL}/webhooks/railz")
RAILZ_EMULATOR_WEBHOOK_RETRY_SECONDS = env_float(
    "RAILZ_EMULATOR_WEBHOOK_RETRY_SECONDS", 1.0, minimum=0
)
RAILZ_EMULATOR_WEBHOOK_TIMEOUT_SECONDS = env_float(
    "RAILZ_EMULATOR_WEBHOOK_TIMEOUT_SECONDS", 10.0, minimum=0.1
)
# The budgets the emulator enforces (Railz's team limit, and provider limits per connection).
RAILZ_EMULATOR_RATE_LIMIT_PER_MINUTE = env_int(
    "RAILZ_EMULATOR_RATE_LIMIT_PER_MINUTE", 1000, minimum=1
)
RAILZ_EMULATOR_PROVIDER_LIMITS = env_json_ints("RAILZ_EMULATOR_PROVIDER_LIMITS", {"xero": 60})

# --- Reference data -------------------------------------------------------------------------
# How often the mirrored customers, accounts, tax rates... of every active connection are
# refreshed from Railz (written to django-q2 by `manage.py setup_schedules`).
REFS_SYNC_INTERVAL_MINUTES = env_int("REFS_SYNC_INTERVAL_MINUTES", 60, minimum=1)

# --- Records ---------------------------------------------------------------------------------
# The most lines one record (an invoice...) may have. Railz's spec sets no maxItems on `lines`;
# the accounting systems do: QuickBooks Online, the strictest of the common ones, takes at most
# 750 lines on a transaction, and a longer record would only be refused there, after a long
# push. A record at the cap is created, checked and pushed well inside the web and worker
# timeouts (`manage.py bench_lines` prints the figures).
RECORD_MAX_LINES = env_int("RECORD_MAX_LINES", 750, minimum=1)
# Spreadsheet imports: the largest file accepted, and the size above which a file is checked
# and written by a worker (the page shows its progress) instead of within the upload's request.
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 50 * 1000 * 1000, minimum=1)
IMPORT_BACKGROUND_BYTES = env_int("IMPORT_BACKGROUND_BYTES", 256 * 1000, minimum=0)

# --- Push pipeline ---------------------------------------------------------------------------
# How many times a push that Railz answered with 5xx/unreachable (before accepting it) is sent.
PUSH_MAX_ATTEMPTS = env_int("PUSH_MAX_ATTEMPTS", 6, minimum=1)
# Backoff between those attempts: base * 2^(attempt-1), capped, with jitter.
PUSH_RETRY_BASE_SECONDS = env_int("PUSH_RETRY_BASE_SECONDS", 15, minimum=1)
PUSH_RETRY_MAX_SECONDS = env_int("PUSH_RETRY_MAX_SECONDS", 900, minimum=1)
# The longest a worker waits for the shared rate budget; beyond it the push is requeued.
PUSH_RATE_LIMIT_WAIT_SECONDS = env_float("PUSH_RATE_LIMIT_WAIT_SECONDS", 2.0, minimum=0)
# A push Railz keeps pending longer than this is flagged as stuck for staff.
PUSH_STUCK_AFTER_MINUTES = env_int("PUSH_STUCK_AFTER_MINUTES", 30, minimum=1)
# A row left in `submitting` longer than this lost its worker; it becomes `unknown` and is
# reconciled, never resent. A send is one write to Railz after at most the rate-limit wait, so
# it is over once the connect and read timeouts have run out: the lease is that plus a margin,
# not the whole task timeout, so a dead worker's push surfaces within a minute or two (the
# `pushes: expire lost sends` job looks every minute). Should a live send outlast it anyway (a
# token refresh or a refused token adds a call), its answer still moves the push from unknown
# to pending when it arrives.
PUSH_LEASE_MARGIN_SECONDS = 10
_send_bound = PUSH_RATE_LIMIT_WAIT_SECONDS + RAILZ_CONNECT_TIMEOUT + RAILZ_READ_TIMEOUT
PUSH_LEASE_SECONDS = env_int(
    "PUSH_LEASE_SECONDS", math.ceil(_send_bound) + PUSH_LEASE_MARGIN_SECONDS, minimum=1
)
# Clock difference allowed between us and Railz when matching a lost answer to Railz's list.
PUSH_RECONCILE_SKEW_SECONDS = env_int("PUSH_RECONCILE_SKEW_SECONDS", 10, minimum=0)
# An unknown push Railz's push log does not list is settled as never received only when two
# checks at least this far apart (both after its request could still have been logged) find
# nothing; then, with PUSH_AUTO_REQUEUE_NOT_RECEIVED, it is queued again once, automatically.
PUSH_SETTLE_NOT_RECEIVED_SECONDS = env_int("PUSH_SETTLE_NOT_RECEIVED_SECONDS", 300, minimum=0)
PUSH_AUTO_REQUEUE_NOT_RECEIVED = env_bool("PUSH_AUTO_REQUEUE_NOT_RECEIVED", True)
# How long one run of the poll task keeps polling young pushes (every 5 s, 15 s...).
PUSH_POLL_LOOP_SECONDS = env_int("PUSH_POLL_LOOP_SECONDS", 50, minimum=0)
# A queued push nobody has sent by then is enqueued again by the dispatcher.
PUSH_DISPATCH_GRACE_SECONDS = env_int("PUSH_DISPATCH_GRACE_SECONDS", 120, minimum=1)
# The dispatcher waits while the broker holds more tasks than this (a bulk push draining).
PUSH_DISPATCH_MAX_BACKLOG = env_int("PUSH_DISPATCH_MAX_BACKLOG", 100, minimum=0)
# Many pushes queued at once (a bulk push, the dispatcher) are sent by a few tasks, each taking
# up to PUSH_SUBMIT_PER_TASK pushes in turn for at most PUSH_SUBMIT_SLICE_SECONDS; what it has
# not reached by then goes back to the queue as a task of its own.
PUSH_SUBMIT_PER_TASK = env_int("PUSH_SUBMIT_PER_TASK", 25, minimum=1)
PUSH_SUBMIT_SLICE_SECONDS = env_float("PUSH_SUBMIT_SLICE_SECONDS", 20.0, minimum=1)
# Queued pushes of a type Railz takes in batches (customers, vendors, journal entries), to one
# connection, are sent together as one batch call of at most PUSH_BATCH_MAX_ITEMS; the first of
# them waits at most PUSH_BATCH_WAIT_SECONDS for others to join. Off: one call per record (a
# connection can also be switched off on its own page).
PUSH_BATCH_ENABLED = env_bool("PUSH_BATCH_ENABLED", True)
PUSH_BATCH_MAX_ITEMS = env_int("PUSH_BATCH_MAX_ITEMS", 100, minimum=1)
PUSH_BATCH_WAIT_SECONDS = env_float("PUSH_BATCH_WAIT_SECONDS", 1.0, minimum=0)
# A connection whose accounting system answered this many server errors (5xx) to pushes
# within PUSH_PAUSE_ERROR_WINDOW_SECONDS is paused, and resumed by itself: after the last
# error's Retry-After when it named one, else after PUSH_PAUSE_FIRST_RETRY_SECONDS, a quarter
# longer for each further pause that follows within the window, up to PUSH_PAUSE_RETRY_SECONDS
# (a push then tries again; its first server error pauses it again). A short outage thus ends
# within seconds of its end, and a long one costs a probe every ten minutes.
PUSH_PAUSE_AFTER_SERVER_ERRORS = env_int("PUSH_PAUSE_AFTER_SERVER_ERRORS", 5, minimum=1)
PUSH_PAUSE_ERROR_WINDOW_SECONDS = env_int("PUSH_PAUSE_ERROR_WINDOW_SECONDS", 300, minimum=1)
PUSH_PAUSE_RETRY_SECONDS = env_int("PUSH_PAUSE_RETRY_SECONDS", 600, minimum=1)
PUSH_PAUSE_FIRST_RETRY_SECONDS = env_int("PUSH_PAUSE_FIRST_RETRY_SECONDS", 5, minimum=1)
if PUSH_PAUSE_FIRST_RETRY_SECONDS > PUSH_PAUSE_RETRY_SECONDS:
    raise ImproperlyConfigured(
        "PUSH_PAUSE_FIRST_RETRY_SECONDS must not exceed PUSH_PAUSE_RETRY_SECONDS"
    )
if PUSH_LEASE_SECONDS <= _send_bound:
    raise ImproperlyConfigured(
        "PUSH_LEASE_SECONDS must be longer than a send can take: PUSH_RATE_LIMIT_WAIT_SECONDS + "
        f"RAILZ_CONNECT_TIMEOUT + RAILZ_READ_TIMEOUT = {_send_bound:g} s"
    )
if PUSH_SUBMIT_SLICE_SECONDS + PUSH_LEASE_SECONDS >= Q_CLUSTER["timeout"]:
    # The last send a task starts within its slice must end before the cluster kills it.
    raise ImproperlyConfigured(
        "PUSH_SUBMIT_SLICE_SECONDS + PUSH_LEASE_SECONDS must be shorter than Q_TIMEOUT"
    )
if PUSH_POLL_LOOP_SECONDS >= Q_CLUSTER["timeout"]:
    raise ImproperlyConfigured("PUSH_POLL_LOOP_SECONDS must be shorter than Q_TIMEOUT")

# --- Alerts: email and the outgoing webhook ---------------------------------------------------
# The person who asked for a push is emailed when it fails, is refused, or stays unknown past
# PUSH_ALERT_UNKNOWN_AFTER_MINUTES (at most one message a push); approvers when something waits.
# Under `make run` (DEBUG) messages are printed by the console backend; otherwise SMTP.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "railzpush@localhost")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
PUSH_ALERT_UNKNOWN_AFTER_MINUTES = env_int("PUSH_ALERT_UNKNOWN_AFTER_MINUTES", 60, minimum=1)
# The global outgoing webhook for the same events (a connection may have its own URL too).
ALERT_WEBHOOK_URL = env_str("ALERT_WEBHOOK_URL", "")
ALERT_WEBHOOK_SECRET = env_str("ALERT_WEBHOOK_SECRET", "")
ALERT_WEBHOOK_MAX_ATTEMPTS = env_int("ALERT_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)

# --- Auth, i18n, static ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
LOGIN_URL = "admin:login"

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "railzpush.api.schema.ApiAutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "railzpush.api.filters.NamedSearchFilter",
    ],
    # Tokens first: their scheme is what a 401 names (the session alone would answer 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "railzpush.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Staff, with the admin's model permissions on the resource (view to read, add, change,
    # delete): the API grants nothing the admin would refuse.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAdminUser",
        "railzpush.api.permissions.ModelPermissions",
    ],
    # DRF's parsers, reading within railzpush.api.bounds (depth, numbers, characters, size).
    "DEFAULT_PARSER_CLASSES": [
        "railzpush.api.parsers.BoundedJSONParser",
        "railzpush.api.parsers.BoundedFormParser",
        "railzpush.api.parsers.BoundedMultiPartParser",
    ],
    # JSON only: a browser asking for HTML gets the same JSON, so no API answer is ever a page.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["railzpush.api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "railzpush.api.pagination.PagePagination",
    "EXCEPTION_HANDLER": "railzpush.api.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "railzpush API",
    "DESCRIPTION": "Compose accounting records and push them through Railz.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    # Swagger UI's assets are served from this app, not a CDN: the docs work offline and no
    # third-party script runs on a page of a staff session.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status`; each choice set gets a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "ConnectionStatusEnum": "refs.models.Connection.Status",
        "RefStatusEnum": "refs.models.RefRecord.Status",
        "InvoiceStatusEnum": "pushes.models.PushableStatus",
        "PushRequestSourceEnum": "pushes.models.PushRequest.Source",
        "SheetImportStateEnum": "sheets.models.SheetImport.State",
        "StateEnum": "pushes.models.PushRequest.State",
        "PushEventSourceEnum": "pushes.models.PushEvent.Source",
        "OperationEnum": "pushes.models.PushRequest.Operation",
        "ValidatedOperationEnum": "pushes.models.ProviderPushOptions.Operation",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "railzpush.api.schema.add_error_answers",
    ],
    # Swagger UI's assets come from drf-spectacular's default CDN (the sidecar package that
    # would serve them locally is not a dependency).
}
# How long a request holding an Idempotency-Key is presumed alive: a key still without an answer
# after this is taken over by a retry. Keep it above the longest a request takes (granian puts no
# limit of its own on one; gunicorn's --timeout is 30 s unless set), or a retry waits for
# nothing; a shorter lease never runs a request twice (the late request's work is rolled back),
# it only wastes that work.
API_IDEMPOTENCY_LEASE_SECONDS = env_int("API_IDEMPOTENCY_LEASE_SECONDS", 60, minimum=1)
# Requests per token (per user on the session) and period: "600/min", "10/s", "20000/day".
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/min")
if not re.fullmatch(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", API_THROTTLE_RATE):
    raise ImproperlyConfigured(
        f"API_THROTTLE_RATE must look like 600/min (a count, then s, min, hour or day); "
        f"got {API_THROTTLE_RATE!r}"
    )

# --- Production hardening (all on unless DEBUG) ---------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
