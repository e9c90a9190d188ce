"""Django settings, read from the environment through `core.env` only.

DATABASE_URL (default: SQLite in ONETHING_DATA_DIR), SECRET_KEY, DEBUG, ALLOWED_HOSTS.
Tests use ONETHING_TEST_DATABASE_URL when it is set (CI runs them on PostgreSQL).
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url

from onething.core.env import data_dir, env_bool, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()

# `onething serve` refuses to start without a real key; `onething demo` and the tests
# generate one and keep it in the data folder (see cli.py).
# Without one, a random key per process: nothing runs with a key anyone could know (sessions
# then end with the process, which is why `serve` insists on a real one).
SECRET_KEY = env_str("SECRET_KEY") or secrets.token_urlsafe(50)
SECRET_KEY_CONFIGURED = env_str("SECRET_KEY") is not None
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "axes",
    "onething.core",
    "onething.accounts",
    "onething.audit",
    "onething.outbox",
    "onething.catalog",
    "onething.sharing",
    "onething.certificates",
    "onething.applications",
    "onething.notifications",
    "onething.complaints",
    "onething.ratings",
    "onething.supervision",
]

AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "onething.core.middleware.RejectNulMiddleware",
    "onething.core.middleware.ApiJsonErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "onething.core.middleware.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it locks out repeated failed logins.
    "axes.middleware.AxesMiddleware",
    "onething.core.middleware.RequestIdMiddleware",
    "onething.core.middleware.DomainErrorPageMiddleware",
]

ROOT_URLCONF = "onething.urls"
WSGI_APPLICATION = "onething.wsgi.application"

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
                "onething.notifications.context_processors.unread_count",
                "onething.accounts.context_processors.roles",
            ],
        },
    },
]


def _database() -> dict:
    test_url = env_str("ONETHING_TEST_DATABASE_URL")
    # pytest-django imports these settings before any conftest runs, so the test run is
    # recognised by pytest being loaded rather than by a variable a conftest would set.
    if test_url and "pytest" in sys.modules:
        url = test_url
    else:
        url = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'onething.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        # WAL lets the worker write while pages read; IMMEDIATE avoids upgrade deadlocks.
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
        if "pytest" in sys.modules:
            # A file, not memory, so that worker and server subprocesses started by a test
            # see the same test database (pytest-django adds a suffix per xdist worker).
            config["TEST"] = {
                "NAME": str(Path(tempfile.gettempdir()) / f"onething-test-{os.getpid()}.sqlite3")
            }
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Brute-force lock-out: 5 failures for the same username from the same address lock it for
# 15 minutes (staff log in with passwords; applicants through an identity provider later).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
LOGIN_URL = "accounts:login"
# How applicants may sign in besides a password (see accounts.identity); the demo adds its
# real-name stand-in. A production node adds its province's OIDC provider here.
ONETHING_IDENTITY_PROVIDERS = env_list("ONETHING_IDENTITY_PROVIDERS", [])
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Static files are served by WhiteNoise straight from the package (finders), so no
# collectstatic step is needed; set STATIC_ROOT to collect them for a CDN-less reverse proxy.
STATIC_ROOT = env_str("STATIC_ROOT")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
if "pytest" in sys.modules:
    # Tests create hundreds of users: a deliberately slow password hash would dominate them.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Uploads made by tests never land in the developer's data folder.
    MEDIA_ROOT = Path(tempfile.gettempdir()) / f"onething-test-media-{os.getpid()}"
# The platform's certificate signing keys (private keys; created on first use, mode 0600).
ONETHING_KEYS_DIR = DATA_DIR / "keys"
if "pytest" in sys.modules:
    # Keys made by tests never land in (or sign with) the developer's data folder.
    ONETHING_KEYS_DIR = Path(tempfile.gettempdir()) / f"onething-test-keys-{os.getpid()}"
# The hotline's category classifier (`onething hotline train`; trained on first use if absent).
# ONETHING_HOTLINE_MODEL points elsewhere: the CLI tests' demo runs share the tests' model.
ONETHING_HOTLINE_MODEL = Path(
    env_str("ONETHING_HOTLINE_MODEL") or DATA_DIR / "complaints-classifier.joblib"
)
if "pytest" in sys.modules:
    # Trained once and shared by the test processes (written atomically, same data, same model).
    ONETHING_HOTLINE_MODEL = Path(tempfile.gettempdir()) / "onething-test-hotline-model.joblib"
# Serve straight from the finders when collectstatic has not run (demo and tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
LANGUAGE_COOKIE_NAME = "onething_language"

CATALOG_DEFINITIONS_DIR = BASE_DIR / "catalog" / "definitions"
DEMO_REGISTERS_DIR = BASE_DIR / "demo_data" / "registers"
# How departments' systems reach us for callbacks (the connector sends it with each case).
ONETHING_PUBLIC_URL = env_str("ONETHING_PUBLIC_URL", "http://127.0.0.1:8000")
# Certificates' QR codes link to ONETHING_PUBLIC_URL when it is set, else to the host asked.
ONETHING_PUBLIC_URL_CONFIGURED = env_str("ONETHING_PUBLIC_URL") is not None
# How long a worker holds a dispatch before another may take it over (longer than a
# connector's timeout; tests shorten it to kill workers mid-dispatch).
ONETHING_DISPATCH_LEASE_SECONDS = float(env_str("ONETHING_DISPATCH_LEASE_SECONDS", "60"))
# How long a stage's supplement notice waits for the stage's other departments to review before
# it goes to the applicant with what it has.
SUPPLEMENT_HOLD = timedelta(hours=float(env_str("ONETHING_SUPPLEMENT_HOLD_HOURS", "24")))
# 容缺受理: the latest date an applicant may promise a deferrable material for, in days from today.
PROMISE_MAX_DAYS = int(env_str("ONETHING_PROMISE_MAX_DAYS", "30"))
# Deadlines: a case is due soon (yellow) this many working days before its due date, and its
# department's supervisors are told once it is overdue by this many working days.
DEADLINE_WARN_DAYS = int(env_str("ONETHING_DEADLINE_WARN_DAYS", "2"))
DEADLINE_ESCALATE_DAYS = int(env_str("ONETHING_DEADLINE_ESCALATE_DAYS", "3"))
# Prefill asks every granted source at once; a source that has not answered within this many
# seconds leaves its fields for the applicant to fill in.
SHARING_PREFILL_BUDGET_SECONDS = float(env_str("ONETHING_PREFILL_BUDGET_SECONDS", "2"))

# E-mail copies of notifications, sent by the outbox worker: the console in the demo (tests use
# Django's locmem backend); a real node sets an SMTP backend and its settings.
EMAIL_BACKEND = env_str("ONETHING_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("ONETHING_DEFAULT_FROM_EMAIL", "OneThing <noreply@onething.invalid>")

# One handler, on the root logger, masking personal numbers (core/logging.py); LOG_JSON=true
# writes one JSON object per line. Django's own loggers (django.request, django.security.*,
# django.server) lose the handlers Django gives them and propagate here, so nothing bypasses
# the filter; gunicorn's loggers get it in onething.server.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_numbers": {"()": "onething.core.logging.MaskPersonalNumbers"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "onething.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if env_bool("LOG_JSON", False) else "plain",
            "filters": ["mask_personal_numbers"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50
