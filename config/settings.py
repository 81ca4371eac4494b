"""Settings for the union targets tracker.

Everything that differs between a laptop and production comes from the
environment. Defaults are safe for local use: DEBUG is off unless asked for,
and SQLite is used when DATABASE_URL is unset. Bad values fail loudly at start
rather than silently falling back.
"""

import datetime
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def envbool(name, default="False"):
    value = env(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name, default):
    value = env(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envlist(name, default=""):
    return [part.strip() for part in env(name, default).split(",") if part.strip()]


def database_from_url(url):
    """postgres://user:pass@host:port/name, sqlite:///relative/to/project or sqlite:////absolute/path."""
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        return {
            # Django's, batching bulk operations (config/postgresql/base.py).
            "ENGINE": "config.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # Persistent connections, checked before reuse so that a database
            # restart costs one failed request at most, not a worker restart.
            "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            # Parameters bound by the server, so that psycopg prepares a statement
            # after its fifth use on a connection: PostgreSQL then skips parsing and
            # planning it, which is most of the cost of the small queries every
            # request makes (token, data version). Off behind a pooler that cannot
            # keep prepared statements (PgBouncer in transaction mode, unless 1.21
            # or later with max_prepared_statements set).
            "OPTIONS": (
                {"server_side_binding": True, "prepare_threshold": 5}
                if envbool("DB_PREPARED_STATEMENTS", "True")
                else {}
            ),
        }
    if parts.scheme == "sqlite":
        # The third slash ends the (empty) host; a fourth starts an absolute path.
        path = unquote(parts.path)[1:]
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path if path.startswith("/") else BASE_DIR / path,
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported")


DEBUG = envbool("DEBUG")
SECRET_KEY = env("SECRET_KEY")
# A file suits Docker secrets and the compose setup, whose entrypoint generates
# the key into a volume on first start; every process reads it from there,
# including commands run with `docker compose exec`.
if not SECRET_KEY and env("SECRET_KEY_FILE"):
    try:
        SECRET_KEY = Path(env("SECRET_KEY_FILE")).read_text().strip()
    except OSError as error:
        raise ImproperlyConfigured(f"SECRET_KEY_FILE cannot be read: {error}") from None
if not SECRET_KEY:
    if not DEBUG and not envbool("LOCAL_MODE", "True"):
        raise ImproperlyConfigured("SECRET_KEY must be set when LOCAL_MODE is off")
    # Good enough for a laptop; production sets LOCAL_MODE=false and a real key.
    SECRET_KEY = "local-only-insecure-key-do-not-use-in-production-0123456789"
# LOCAL_MODE allows the demo superuser command; production turns it off.
LOCAL_MODE = envbool("LOCAL_MODE", "True")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # django.contrib.admin with the tracker's own admin site (tracking/admin_site.py).
    "tracking.apps.TrackerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "simple_history",
    "tracking",
    # Keeps a tally of failed logins and locks out password guessing (AXES_* below); named 登录安全.
    "tracking.apps.LoginRecordsConfig",
]

MIDDLEWARE = [
    # First, so that its duration covers every other middleware and static files are logged too.
    "tracking.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # NUL in a URL is a 400, not a PostgreSQL DataError.
    "tracking.middleware.RejectNulMiddleware",
    # A database or Redis outage answers 503 JSON, not a 500 page.
    "tracking.middleware.DatabaseUnavailableMiddleware",
    # Chooses the replica a request reads from, after the outage middleware so
    # that a replica's failure is retried on the primary before it becomes a 503.
    "tracking.replicas.ReplicaMiddleware",
    # Axes wants to be last, to turn its lockout flag into the 429 response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Checks the lockout first; ModelBackend (tracking.auth's, with fewer
    # queries) does the actual authentication.
    "tracking.lockout.LoginThrottleBackend",
    "tracking.auth.AccountBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {"default": database_from_url(env("DATABASE_URL", "sqlite:///db.sqlite3"))}
# Streaming replicas of that database (postgres:// URLs, comma-separated), as
# replica_0, replica_1, …: tracking.replicas routes a request's reads to one of
# them, and writes, transactions and a recent writer's reads to the primary.
for number, url in enumerate(envlist("DATABASE_REPLICA_URLS")):
    replica = database_from_url(url)
    if replica["ENGINE"] != DATABASES["default"]["ENGINE"] or replica["ENGINE"] != "config.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs PostgreSQL, as DATABASE_URL")
    # A replica that does not answer is given up quickly: the read goes to the primary.
    replica["OPTIONS"] = {**replica["OPTIONS"], "connect_timeout": envint("DB_REPLICA_CONNECT_TIMEOUT", 2)}
    # Tests read the test database through it rather than create one of its own.
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{number}"] = replica
DATABASE_ROUTERS = ["tracking.replicas.ReplicaRouter"]
# After a user's write, that user's reads go to the primary for this long, so
# that they see what they wrote whatever the replicas' lag (tracking.replicas).
TRACKING_READ_YOUR_WRITES_SECONDS = envint("TRACKING_READ_YOUR_WRITES_SECONDS", 10)
# A replica that failed is left out for this long before it is tried again.
TRACKING_REPLICA_RETRY_SECONDS = envint("TRACKING_REPLICA_RETRY_SECONDS", 5)

# The cache holds the API's throttle counters, the bodies kept per ETag and
# the locks of scheduled jobs. With several processes or machines it must be
# shared, in Redis (REDIS_URL, e.g. redis://redis:6379/0); without it, each
# process keeps its own in memory, which suits one process or a laptop.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(f"REDIS_URL must start with redis://, rediss:// or unix://, not {REDIS_URL!r}")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Redis down fails fast (a 503, tracking.middleware) instead of holding workers.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            "KEY_PREFIX": "tracker",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "tracking" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Production -----------------------------------------------------------------
# Static files: hashed names (cacheable for ever) with pre-compressed copies,
# served by WhiteNoise from STATIC_ROOT, which collectstatic fills when the image
# is built. Laptops and test runs never run collectstatic, so there (LOCAL_MODE
# on, or DEBUG) plain storage is used and WhiteNoise serves the apps' own static
# directories; otherwise every page with a {% static %} tag would fail.
static_is_collected = not DEBUG and not LOCAL_MODE
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if static_is_collected
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Evidence and pending imports on S3-compatible storage (MinIO, a cloud's object
# store) when S3_BUCKET is set, so that every web node sees every file. Files
# are still served only through the admin's evidence view, which checks who may
# see the report and streams the file; the bucket stays private.
S3_BUCKET = env("S3_BUCKET")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env("S3_ENDPOINT_URL") or None,
            "region_name": env("S3_REGION", "us-east-1"),
            "access_key": env("S3_ACCESS_KEY"),
            "secret_key": env("S3_SECRET_KEY"),
            # MinIO and most self-hosted stores want path-style addresses.
            "addressing_style": env("S3_ADDRESSING_STYLE", "path"),
            "default_acl": None,
            "file_overwrite": False,
            # Should a URL ever be handed out (storage.url()), it is signed and short-lived.
            "querystring_auth": True,
            "querystring_expire": envint("S3_URL_SECONDS", 60),
        },
    }
WHITENOISE_USE_FINDERS = not static_is_collected
# Where collectstatic writes and WhiteNoise reads. Without collected files
# there is none (unless STATIC_ROOT says so): WhiteNoise would otherwise warn at
# every start, and in every test, that the directory does not exist.
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles"))) if static_is_collected or env("STATIC_ROOT") else None

# HTTPS. Everything is off by default so that the service works over plain
# http://localhost; .env.example gives the values for production behind TLS,
# with which `manage.py check --deploy` reports nothing.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT")
# The container healthcheck calls /healthz over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD")
# Only behind a proxy that sets X-Forwarded-Proto itself and discards the
# client's: otherwise any client could claim to be on HTTPS.
if envbool("TRUST_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# JSON lines for docker logs and log collectors: the request log (one line per
# request, from tracking.middleware.RequestLogMiddleware) on stdout, everything
# else on stderr, so that commands such as `dumpdata > file` keep a clean stdout.
LOG_LEVEL = env("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "tracking.logs.JsonLinesFormatter"}},
    "filters": {
        "request_log": {"()": "logging.Filter", "name": "tracking.requests"},
        "not_request_log": {"()": "tracking.logs.NotRequestLog"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler", "stream": "ext://sys.stdout",
            "formatter": "json", "filters": ["request_log"],
        },
        "stderr": {
            "class": "logging.StreamHandler", "stream": "ext://sys.stderr",
            "formatter": "json", "filters": ["not_request_log"],
        },
    },
    "root": {"handlers": ["stdout", "stderr"], "level": LOG_LEVEL},
    # Django's defaults print errors only with DEBUG on and otherwise mail them
    # to ADMINS (there are none); propagating sends them to stderr instead.
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        # Its only message is the "AXES: BEGIN" banner, at INFO, which every
        # manage.py command would print; warnings still come through.
        "axes.apps": {"level": "WARNING"},
    },
}

# --- Tracking -----------------------------------------------------------------
# A target is "behind" when its completion trails the share of the period
# already elapsed by more than this many percentage points.
TRACKING_BEHIND_TOLERANCE = envint("TRACKING_BEHIND_TOLERANCE", 10)
# Publishes approved progress: the 公示 pages under /gongshi/ and the public API under
# /api/v1/public/. Anonymous clients get only that public shape; the rest of the API
# always needs a user.
TRACKING_PUBLIC_READ = envbool("TRACKING_PUBLIC_READ")
# --- Follow-up (tracking.followup): the reporting calendar, reminders, closed periods ---
# A programme's reporting frequency and due rule when it names none: monthly,
# quarterly, half_yearly or once; due this many days after each period ends.
TRACKING_REPORTING_FREQUENCY = env("TRACKING_REPORTING_FREQUENCY", "monthly")
if TRACKING_REPORTING_FREQUENCY not in ("monthly", "quarterly", "half_yearly", "once"):
    raise ImproperlyConfigured(
        f"TRACKING_REPORTING_FREQUENCY must be monthly, quarterly, half_yearly or once, not {TRACKING_REPORTING_FREQUENCY!r}"
    )
TRACKING_REPORTING_DUE_DAYS = envint("TRACKING_REPORTING_DUE_DAYS", 5)
# Reminders: this many days before the due date; escalation to the city reviewer this many days after it.
TRACKING_REMIND_DAYS_BEFORE = envint("TRACKING_REMIND_DAYS_BEFORE", 3)
TRACKING_ESCALATE_AFTER_DAYS = envint("TRACKING_ESCALATE_AFTER_DAYS", 7)
# A period closes by itself this many days after its due date (DHIS2's expiry days); 0: never.
TRACKING_CLOSE_AFTER_DAYS = envint("TRACKING_CLOSE_AFTER_DAYS", 0)
# When the compose scheduler service runs send_reminders each day (HH:MM, local time).
_reminder_time = env("TRACKING_REMINDER_TIME", "08:30")
try:
    _hour, _minute = (int(part) for part in _reminder_time.split(":"))
    if not (0 <= _hour < 24 and 0 <= _minute < 60):
        raise ValueError
except ValueError:
    raise ImproperlyConfigured(f"TRACKING_REMINDER_TIME must be HH:MM, not {_reminder_time!r}") from None
TRACKING_REMINDER_TIME = (_hour, _minute)
# Webhook deliveries give up after this many seconds (the next run retries).
TRACKING_WEBHOOK_TIMEOUT = envint("TRACKING_WEBHOOK_TIMEOUT", 10)
for _name in ("TRACKING_REPORTING_DUE_DAYS", "TRACKING_REMIND_DAYS_BEFORE", "TRACKING_ESCALATE_AFTER_DAYS",
              "TRACKING_CLOSE_AFTER_DAYS"):
    if globals()[_name] < 0:
        raise ImproperlyConfigured(f"{_name} must not be negative")

# Email (reminders): Django's SMTP backend; the compose file points it at the mailpit catcher.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "tracker@localhost")

# How long (seconds) a browser, proxy or CDN may serve a public answer before revalidating it.
TRACKING_PUBLIC_MAX_AGE = envint("TRACKING_PUBLIC_MAX_AGE", 60)
if TRACKING_PUBLIC_MAX_AGE < 0:
    raise ImproperlyConfigured(f"TRACKING_PUBLIC_MAX_AGE must be 0 or more, not {TRACKING_PUBLIC_MAX_AGE}")
FIXTURE_DIRS = [BASE_DIR / "fixtures"]
# Imports are validated whole in memory before anything is written.
TRACKING_IMPORT_MAX_BYTES = envint("TRACKING_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
TRACKING_IMPORT_MAX_ROWS = envint("TRACKING_IMPORT_MAX_ROWS", 200_000)

# --- API ----------------------------------------------------------------------


def envrate(name, default):
    """A DRF throttle rate such as "120/minute", checked here rather than on the first request."""
    value = env(name, default).strip()
    count, _, period = value.partition("/")
    if not (count.isdigit() and period[:1] in ("s", "m", "h", "d")):
        raise ImproperlyConfigured(f"{name} must look like 120/minute, not {value!r}")
    return value


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Tokens for scripts and apps; the session for the browsable API and the admin's users.
        "tracking.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # The API's viewsets set their own policy (tracking.api.base.ReadPolicy and its
    # paginators; naming them here would import them while DRF is still loading);
    # this default covers any other DRF view.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's, counting per window rather than keeping every timestamp (tracking/api/throttling.py).
        "tracking.api.throttling.AnonThrottle",
        "tracking.api.throttling.UserThrottle",
    ],
    # Counted in the default cache: exactly, across processes and nodes, in
    # Redis (REDIS_URL); with the local-memory cache each process counts separately.
    "DEFAULT_THROTTLE_RATES": {
        "anon": envrate("API_THROTTLE_ANON", "120/minute"),
        "user": envrate("API_THROTTLE_USER", "1200/minute"),
    },
    "EXCEPTION_HANDLER": "tracking.api.errors.exception_handler",
    # DRF's, with Chinese errors and a too deeply nested body a 400.
    "DEFAULT_PARSER_CLASSES": [
        "tracking.api.parsers.JSONBodyParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Dashboards do arithmetic on the figures; numbers beyond 15 significant
    # digits lose precision as JSON numbers (documented in the schema).
    "COERCE_DECIMAL_TO_STRING": False,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Without it, DRF identifies anonymous clients (AnonRateThrottle, which
    # guards the token endpoint against password guessing) by whatever
    # X-Forwarded-For they send, so a fresh made-up address per request would
    # never be throttled. Trust the header only behind known proxies.
    "NUM_PROXIES": envint("TRUSTED_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "职工实事跟踪 API",
    "DESCRIPTION": (
        "Targets of district trade unions' yearly programmes and their progress reports.\n\n"
        "Authenticate with `Authorization: Token <key>` (scripts) or a session (browsable API). "
        "Reads need authentication unless TRACKING_PUBLIC_READ is on, in which case anonymous "
        "clients may read everything; writes always need a user with the right role and region.\n\n"
        "Figures (`value`, `target_value`, `progress`, `pending_value`) are JSON numbers, not strings; "
        "they are stored with 4 decimal places and lose precision beyond 15 significant digits. "
        "Lists and details send an ETag: repeat the request with If-None-Match to get 304."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components, so read-only fields such as
    # status or created_by never appear as inputs.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # The 4xx/5xx answers of every operation (400, 401, 403, 404, 409, 412, 429, 503…).
        "tracking.api.errors.document_error_responses",
        # Empty parameters, page sizes below 1 and the links between report operations.
        "tracking.api.schema.tighten_parameters",
    ],
    "ENUM_NAME_OVERRIDES": {
        "TargetStatusEnum": "tracking.models.Target.Status",
        "ReportStatusEnum": "tracking.models.ProgressReport.Status",
    },
    # The docs UI is served from our own static files: union offices' networks
    # often cannot reach public CDNs.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Password guessing ------------------------------------------------------------
# Against the admin login and the API's token endpoint: after
# AXES_FAILURE_LIMIT failures for one username from one address, that pair is
# locked out for AXES_COOLOFF_MINUTES. Locking by the pair rather than by
# username alone means a stranger cannot lock a clerk out of their account.
# The address is REMOTE_ADDR, which a client cannot forge, unless
# TRUSTED_PROXIES says how many reverse proxies append to X-Forwarded-For.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "tracking.lockout.client_ip"
AXES_USERNAME_CALLABLE = "tracking.lockout.client_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tracking.lockout.login_locked_out"
