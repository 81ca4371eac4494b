"""Settings for the union targets tracker.

Everything that differs between a laptop and production comes from the
environment. Defaults are safe for local use: DEBUG is off unless asked for,
and SQLite is used when DATABASE_URL is unset. Bad values fail loudly at start
rather than silently falling back.
"""

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
    """postgres://user:pass@host:port/name or sqlite:///path (relative to the project)."""
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # Persistent connections, checked before reuse so that a database
            # restart costs one failed request at most, not a worker restart.
            "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
        }
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path if path.startswith("/") else BASE_DIR / path,
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported")


DEBUG = envbool("DEBUG")
SECRET_KEY = env("SECRET_KEY")
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
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "import_export",
    "simple_history",
    "tracking",
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
    "simple_history.middleware.HistoryRequestMiddleware",
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
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Tracking -----------------------------------------------------------------
# A target is "behind" when its completion trails the share of the period
# already elapsed by more than this many percentage points.
TRACKING_BEHIND_TOLERANCE = envint("TRACKING_BEHIND_TOLERANCE", 10)
# Opens read-only anonymous access to the API for public dashboards.
TRACKING_PUBLIC_READ = envbool("TRACKING_PUBLIC_READ")
FIXTURE_DIRS = [BASE_DIR / "fixtures"]
# Imports are validated whole in memory before anything is written.
TRACKING_IMPORT_MAX_BYTES = envint("TRACKING_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
TRACKING_IMPORT_MAX_ROWS = envint("TRACKING_IMPORT_MAX_ROWS", 200_000)
