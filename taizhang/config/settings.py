"""Settings, read from TAIZHANG_* environment variables with safe defaults."""

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def default_var_dir(base: Path) -> Path:
    """`var/` of a source checkout (as `make demo` uses it). An installed package has no place of its own for
    data: beside site-packages a reinstall would delete the database and the uploads."""
    if (base / "pyproject.toml").is_file():
        return base / "var"
    raise ImproperlyConfigured(
        "Set TAIZHANG_VAR_DIR to the directory for Taizhang's data (SQLite database, uploaded files, static "
        "files, secret key), e.g. TAIZHANG_VAR_DIR=/var/lib/taizhang.")


VAR_DIR = Path(given) if (given := os.environ.get("TAIZHANG_VAR_DIR")) else default_var_dir(BASE_DIR)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("TAIZHANG_DEBUG")


def load_secret_key() -> str:
    """TAIZHANG_SECRET_KEY, else a random key kept in var/secret_key (created once, mode 0600)."""
    if key := os.environ.get("TAIZHANG_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        # Write a private temporary file, then link it into place: concurrent first starts (test workers,
        # web and task worker) all end up reading the same complete key.
        fd, temporary = tempfile.mkstemp(dir=VAR_DIR, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(64))
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


SECRET_KEY = load_secret_key()
ALLOWED_HOSTS = env_list("TAIZHANG_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("TAIZHANG_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "taizhang.accounts.admin_apps.TaizhangAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "taizhang.core",
    "taizhang.accounts",
    "taizhang.orgs",
    "taizhang.audit",
    "taizhang.sla",
    "taizhang.cases",
    "taizhang.followup",
    "taizhang.search",
    "taizhang.notifications",
    "taizhang.documents",
    "taizhang.ledger",
    "taizhang.supervision",
    "taizhang.kpis",
    "taizhang.api",
    "taizhang.web",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "taizhang.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "taizhang.config.urls"
WSGI_APPLICATION = "taizhang.config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "taizhang.web.context_processors.workspace",
                "taizhang.notifications.context_processors.inbox",
                "taizhang.followup.context_processors.lookback",
                "taizhang.kpis.context_processors.kpis",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("TAIZHANG_DATABASE_URL", f"sqlite:///{VAR_DIR / 'taizhang.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TAIZHANG_TEST_SQLITE_NAME", "")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "taizhang.core.postgresql"  # health checks only after idling
    # Parameters bound by the server, and a statement run a few times on a connection prepared once: the
    # queries of every request (token, audit head, idempotency, …) are then neither parsed nor planned again.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "taizhang" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# `manage.py collectstatic` fills STATIC_ROOT; WhiteNoise serves it from the application (hashed, compressed).
STATIC_ROOT = Path(os.environ.get("TAIZHANG_STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "taizhang.core.staticfiles.CompressOnceManifestStorage"},
}
# Evidence files live here; this directory is never served directly by the web server.
MEDIA_ROOT = Path(os.environ.get("TAIZHANG_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/files/"

TAIZHANG_MAX_UPLOAD_BYTES = int(os.environ.get("TAIZHANG_MAX_UPLOAD_MB", "20")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = TAIZHANG_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Seconds after which a process reloads the working-day calendar (core.workdays; its default is 30).
if ttl := os.environ.get("TAIZHANG_CALENDAR_TTL_SECONDS"):
    TAIZHANG_CALENDAR_TTL_SECONDS = float(ttl)

# django.tasks: "database" (default, no broker; `taizhang serve` runs the worker) or "celery" (scale-out:
# `celery -A taizhang.config.celery worker` on any number of hosts), or a dotted backend path.
TASK_BACKENDS = {"database": "django_tasks_db.DatabaseBackend", "celery": "django_tasks_celery.CeleryBackend"}
TASK_BACKEND_NAME = os.environ.get("TAIZHANG_TASK_BACKEND", "database").strip() or "database"
TASKS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": TASK_BACKENDS.get(TASK_BACKEND_NAME, TASK_BACKEND_NAME),
        "QUEUES": ["default"],
    }
}
if TASKS["default"]["BACKEND"] == TASK_BACKENDS["celery"]:
    TASKS["default"]["OPTIONS"] = {"CELERY_APP": "taizhang.config.celery.app"}
# Celery (only with TAIZHANG_TASK_BACKEND=celery): Redis `redis://host:6379/0` or RabbitMQ `amqp://user:pw@host//`.
CELERY_BROKER_URL = os.environ.get("TAIZHANG_CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.environ.get(
    "TAIZHANG_CELERY_RESULT_BACKEND", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "") or None
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("TAIZHANG_CELERY_QUEUE", "taizhang")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Acknowledge after the run: a task of a worker that dies is given to another (taizhang's tasks are idempotent).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

MAILER_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def mailer_from_environment() -> dict[str, Any]:
    """The default mailer: TAIZHANG_EMAIL_BACKEND (a short name above or a dotted path) and its options."""
    name = os.environ.get("TAIZHANG_EMAIL_BACKEND", "smtp").strip()
    backend = MAILER_BACKENDS.get(name, name)
    options: dict[str, Any] = {}
    if backend == MAILER_BACKENDS["smtp"]:
        user = os.environ.get("TAIZHANG_EMAIL_USER", "")
        # Credentials never travel in clear text unless explicitly asked for.
        security = os.environ.get("TAIZHANG_EMAIL_SECURITY", "starttls" if user else "none").strip().lower()
        if security not in {"starttls", "ssl", "none"}:
            raise ImproperlyConfigured("TAIZHANG_EMAIL_SECURITY must be starttls, ssl or none.")
        options = {
            "host": os.environ.get("TAIZHANG_EMAIL_HOST", "localhost"),
            "username": user,
            "password": os.environ.get("TAIZHANG_EMAIL_PASSWORD", ""),
            "use_tls": security == "starttls",
            "use_ssl": security == "ssl",
            "timeout": int(os.environ.get("TAIZHANG_EMAIL_TIMEOUT", "10")),
        }
        if port := os.environ.get("TAIZHANG_EMAIL_PORT"):
            options["port"] = int(port)
    elif backend == MAILER_BACKENDS["file"]:
        options = {"file_path": os.environ.get("TAIZHANG_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))}
    return {"BACKEND": backend, "OPTIONS": options}


MAILERS = {"default": mailer_from_environment()}
DEFAULT_FROM_EMAIL = os.environ.get("TAIZHANG_DEFAULT_FROM_EMAIL", "taizhang@localhost")
SERVER_EMAIL = os.environ.get("TAIZHANG_SERVER_EMAIL", DEFAULT_FROM_EMAIL)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "taizhang.web.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("TAIZHANG_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("TAIZHANG_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = int(os.environ.get("TAIZHANG_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("TAIZHANG_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "taizhang.api.authentication.TokenAuthentication",
        "taizhang.api.authentication.BrowserSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "taizhang.api.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "taizhang.api.schema.TaizhangAutoSchema",
    "EXCEPTION_HANDLER": "taizhang.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_VERSIONING_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Taizhang API",
    "DESCRIPTION": "Cases, workflow actions, evidence and reference data of the Taizhang rectification ledger.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DocumentKindEnum": "taizhang.documents.models.DocumentKind",
        "RecommendationKindEnum": "taizhang.supervision.models.RecommendationKind",
        "MeetingKindEnum": "taizhang.supervision.models.MeetingKind",
    },
    "PREPROCESSING_HOOKS": ["taizhang.api.schema.only_v1"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Each line names its request, so an operator finds the error a user quotes the request id of.
    "filters": {"request_id": {"()": "taizhang.core.middleware.RequestIdFilter"}},
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "line"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TAIZHANG_LOG_LEVEL", "INFO")},
    # WeasyPrint reports every layout step at INFO; keep its warnings (missing fonts, bad CSS) only.
    "loggers": {"weasyprint": {"level": "WARNING"}},
}

# Labels used in the admin header.
SITE_TITLE = _("Taizhang rectification ledger")
