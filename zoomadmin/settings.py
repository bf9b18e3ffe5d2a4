"""zoomadmin settings: everything comes from the environment (see .env.example).

A bad value raises ``ConfigError`` naming the variable, and start-up stops.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.utils.csp import CSP

from zoomadmin import env

BASE_DIR = Path(__file__).resolve().parent.parent
# KEY=VALUE lines from .env (or DOTENV_FILE; empty reads none) fill in what the real
# environment leaves unset.
if _dotenv := env.get_str("DOTENV_FILE", ".env"):
    env.load_dotenv(BASE_DIR / _dotenv)

DEBUG = env.get_bool("DEBUG", default=False)

# Only ever used with DEBUG on; production must bring its own.
_DEV_SECRET_KEY = "django-insecure-zoomadmin-development-key-never-use-in-production-0123456789"  # noqa: S105
_DEV_TOKEN_KEY = "ZGV2LW9ubHktem9vbWFkbWluLXRva2VuLWtleS0wMDE="  # noqa: S105

SECRET_KEY = env.get_str("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise env.ConfigError("SECRET_KEY: required when DEBUG is off")
if not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise env.ConfigError("SECRET_KEY: use a random value of at least 50 characters")

_DEV_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", _DEV_HOSTS if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("https://", "http://")):
        raise env.ConfigError(
            f"CSRF_TRUSTED_ORIGINS: {_origin!r} must start with https:// (or http://)"
        )

INSTALLED_APPS = [
    "zoomadmin.apps.ZoomadminAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "zoomadmin.accounts",
    "zoomadmin.audit",
    "zoomadmin.zoom",
    "zoomadmin.helpdesk",
    "django.contrib.postgres",  # the directory's trigram index (inert on SQLite)
    "django_tasks_db",
    "zoomadmin.directory",
]

MIDDLEWARE = [
    "zoomadmin.middleware.HealthCheckMiddleware",
    "zoomadmin.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "zoomadmin.accounts.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "zoomadmin.urls"
WSGI_APPLICATION = "zoomadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zoomadmin.accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.database_from_url(
        "DATABASE_URL", env.get_str("DATABASE_URL", "sqlite:///db.sqlite3"), BASE_DIR
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The force-logout view commits its audit intent before calling Zoom: a request-wide
# transaction would roll that evidence back if the process died mid-call.
ATOMIC_REQUESTS = False
# An intent this old without a result gets an "unknown, check Zoom" one from
# `manage.py audit_reconcile` (README, "The audit log as evidence"). Far longer than any
# Zoom call may take, so an attempt still in flight is never called unknown.
AUDIT_RECONCILE_AFTER_SECONDS = 10 * 60

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "helpdesk:search"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (zoomadmin/accounts/throttle.py): this many failed sign-ins for one
# username from one address, and that pair waits this many minutes after the last one.
SIGN_IN_MAX_FAILURES = env.get_int("SIGN_IN_MAX_FAILURES", 5, minimum=1, maximum=1000)
SIGN_IN_LOCKOUT_MINUTES = env.get_int("SIGN_IN_LOCKOUT_MINUTES", 15, minimum=1, maximum=1440)

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.get_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
# Hashed, compressed files (long cache lifetimes) once `collectstatic` has run, as the
# Docker image does. Before that (a checkout run with DEBUG off), whitenoise serves the
# files straight from the app folders instead of every page failing on a missing manifest.
_collecting = len(sys.argv) > 1 and sys.argv[1] == "collectstatic"
_collected = (STATIC_ROOT / "staticfiles.json").is_file()
_hashed = not DEBUG and (_collecting or _collected)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _hashed
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not _hashed

# Background work (the directory sync) runs in `manage.py zoom_worker`, which reads this
# queue from the database; no broker to deploy.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- Browser security -------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working shift
CSRF_COOKIE_HTTPONLY = True  # the token reaches htmx through the page, not the cookie
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = not DEBUG
CSRF_FAILURE_VIEW = "zoomadmin.views.csrf_failure"

# Redirect to https, except when the app answers only to loopback names: traffic to
# 127.0.0.1 never leaves the machine, and a local check with DEBUG off must still work.
_only_loopback = bool(ALLOWED_HOSTS) and all(
    env.is_loopback_host(host.split(":")[0] if host.count(":") == 1 else host)
    for host in ALLOWED_HOSTS
)
SECURE_SSL_REDIRECT = env.get_bool("SECURE_SSL_REDIRECT", default=not DEBUG and not _only_loopback)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env.get_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else 365 * 24 * 60 * 60
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
# Search boxes and reasons are small; anything bigger is an attack or a mistake (400).
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# --- Zoom -------------------------------------------------------------------------

ZOOM_SANDBOX = env.get_bool("ZOOM_SANDBOX", default=False)
# The run command starts the sandbox here; tests reach the same core through `responses`.
ZOOM_SANDBOX_DEFAULT_ORIGIN = "http://127.0.0.1:8010"
_zoom_api_default = (
    f"{ZOOM_SANDBOX_DEFAULT_ORIGIN}/v2" if ZOOM_SANDBOX else "https://api.zoom.us/v2"
)
_zoom_oauth_default = ZOOM_SANDBOX_DEFAULT_ORIGIN if ZOOM_SANDBOX else "https://zoom.us"
ZOOM_API_BASE_URL = env.check_zoom_url(
    "ZOOM_API_BASE_URL", env.get_str("ZOOM_API_BASE_URL", _zoom_api_default)
)
ZOOM_OAUTH_BASE_URL = env.check_zoom_url(
    "ZOOM_OAUTH_BASE_URL", env.get_str("ZOOM_OAUTH_BASE_URL", _zoom_oauth_default)
)

# The sandbox accepts exactly these; real Zoom never sees them.
SANDBOX_ACCOUNT_ID = "sandbox-account"
SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - a fixed credential of the fake Zoom
ZOOM_ACCOUNT_ID = env.get_str("ZOOM_ACCOUNT_ID", SANDBOX_ACCOUNT_ID if ZOOM_SANDBOX else "")
ZOOM_CLIENT_ID = env.get_str("ZOOM_CLIENT_ID", SANDBOX_CLIENT_ID if ZOOM_SANDBOX else "")
ZOOM_CLIENT_SECRET = env.get_str(
    "ZOOM_CLIENT_SECRET", SANDBOX_CLIENT_SECRET if ZOOM_SANDBOX else ""
)
if bool(ZOOM_CLIENT_ID) != bool(ZOOM_CLIENT_SECRET):
    _missing = "ZOOM_CLIENT_SECRET" if ZOOM_CLIENT_ID else "ZOOM_CLIENT_ID"
    raise env.ConfigError(f"{_missing}: required when the other half of the client pair is set")
if ZOOM_ACCOUNT_ID and not ZOOM_CLIENT_ID:
    raise env.ConfigError(
        "ZOOM_ACCOUNT_ID: set ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET too (Server-to-Server OAuth)"
    )
if ZOOM_ACCOUNT_ID:
    ZOOM_AUTH_MODE = "server_to_server"
elif ZOOM_CLIENT_ID:
    ZOOM_AUTH_MODE = "oauth_app"
else:
    ZOOM_AUTH_MODE = "unconfigured"

ZOOM_PLAN = env.get_choice("ZOOM_PLAN", ["free", "pro", "business"], default="pro")
# (connect, read) seconds per attempt; a whole call, retries included, gets about 10 s
# (zoomadmin/zoom/transport.py), so an agent has an answer while the caller is on the phone.
ZOOM_TIMEOUT = (3.05, 5.0)
# Zoom calls in flight per process, kept below the server's threads (gunicorn runs 8 by
# default) so a slow Zoom cannot occupy every thread and starve the audit page.
ZOOM_MAX_CONCURRENCY = env.get_int("ZOOM_MAX_CONCURRENCY", 4, minimum=1, maximum=64)

_keys = env.get_list("TOKEN_ENCRYPTION_KEYS", [_DEV_TOKEN_KEY] if DEBUG else [])
if not _keys:
    raise env.ConfigError("TOKEN_ENCRYPTION_KEYS: required when DEBUG is off")
TOKEN_ENCRYPTION_KEYS = env.check_fernet_keys("TOKEN_ENCRYPTION_KEYS", _keys)
if not DEBUG and _DEV_TOKEN_KEY in TOKEN_ENCRYPTION_KEYS:
    raise env.ConfigError("TOKEN_ENCRYPTION_KEYS: the development key is not allowed in production")

# --- Logging ----------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "zoomadmin.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # requests-oauthlib and oauthlib log whole tokens at DEBUG: keep them above it.
        "requests_oauthlib": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
