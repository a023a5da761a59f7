"""Chapbook settings: one module, driven by the environment.

Everything an installation keeps lives in CHAPBOOK_HOME (default ./chapbook-data):
the SQLite database, uploaded media, generated files and the secret key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


HOME = Path(env_str("CHAPBOOK_HOME", "chapbook-data")).resolve()


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in HOME.

    Generating it lazily means a fresh install needs no configuration, and keeping it
    means sessions and password-reset links survive a restart.
    """
    if key := env_str("SECRET_KEY"):
        return key
    path = HOME / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        HOME.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("CHAPBOOK_DEBUG", False)
BASE_URL = env_str("CHAPBOOK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env_list("CHAPBOOK_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]," + (urlparse(BASE_URL).hostname or ""))
CSRF_TRUSTED_ORIGINS = env_list("CHAPBOOK_CSRF_TRUSTED_ORIGINS", BASE_URL)
SITE_NAME = env_str("CHAPBOOK_SITE_NAME", "Chapbook")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    # Listed so that the API docs page serves its bundled Swagger files instead of a CDN's.
    "ninja",
    "chapbook.people",
    "chapbook.tags",
    "chapbook.works",
    "chapbook.listings",
    "chapbook.feedback",
    "chapbook.collections",
    "chapbook.search",
    "chapbook.imports",
    "chapbook.api",
    "chapbook.site",
    "chapbook.feeds",
    "chapbook.downloads",
]

MIDDLEWARE = [
    "chapbook.site.middleware.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "chapbook.site.nul.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chapbook.urls"
WSGI_APPLICATION = "chapbook.wsgi.application"
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "people:login"
LOGIN_REDIRECT_URL = "site:home"
LOGOUT_REDIRECT_URL = "site:home"

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
                "chapbook.site.context_processors.site",
                "chapbook.feedback.context_processors.inbox",
            ],
        },
    },
]


def database_from_url(url: str) -> dict[str, object]:
    """Parse postgres://user:pass@host:port/name?opt=value into a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ValueError(f"DATABASE_URL must be a postgres:// URL, not {parsed.scheme}://")
    options: dict[str, object] = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    # psycopg 3's pool: one pool per process instead of a connection per request.
    options.setdefault("pool", {"min_size": 1, "max_size": env_int("CHAPBOOK_DB_POOL_SIZE", 8)})
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 0,
        "TEST": {"NAME": env_str("CHAPBOOK_TEST_DATABASE") or None},
    }


if DATABASE_URL := env_str("DATABASE_URL"):
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": HOME / "chapbook.sqlite3",
            "OPTIONS": {
                # WAL lets readers proceed while one writer writes; IMMEDIATE takes the write
                # lock at BEGIN so two writers queue on busy_timeout instead of failing with
                # "database is locked" when a read transaction tries to upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-65536;"
                    "PRAGMA temp_store=MEMORY;"
                    "PRAGMA mmap_size=268435456;"
                ),
            },
            # Opening a SQLite connection runs the PRAGMAs above; keep it across requests.
            "CONN_MAX_AGE": None,
            "CONN_HEALTH_CHECKS": True,
            "TEST": {"NAME": env_str("CHAPBOOK_TEST_DATABASE") or None},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES: dict[str, dict[str, object]]
if REDIS_URL := env_str("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # One cache per server process; rendered work pages are its biggest users.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        },
        "hits": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "hits",
            "OPTIONS": {"MAX_ENTRIES": 200_000},
        },
    }

TASKS = {
    "default": {
        "BACKEND": env_str("CHAPBOOK_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
# whitenoise warns at every start when STATIC_ROOT is missing, even though it serves
# from the finders; an empty folder keeps `chapbook serve` quiet without collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = HOME / "media"
GENERATED_ROOT = HOME / "generated"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Without a collectstatic step the demo still serves static files: whitenoise
    # finds them through the finders when the manifest is absent.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if EMAIL_HOST := env_str("EMAIL_HOST"):
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <noreply@localhost>")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Imports: the largest file accepted, in bytes.
IMPORT_MAX_BYTES = env_int("CHAPBOOK_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
# Uploads larger than this (about 40,000 words of text) are imported by the task worker
# instead of inside the request.
IMPORT_INLINE_MAX_BYTES = env_int("CHAPBOOK_IMPORT_INLINE_MAX_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024

WORKS_PER_PAGE = 20

# The filter index (chapbook/listings/index.py): where its snapshot lives, how many
# works an archive needs before it gets one, and how many works revised since the
# snapshot make the background work build a new one.
FILTER_INDEX_DIR = Path(env_str("CHAPBOOK_FILTER_INDEX_DIR", str(HOME / "index")))
FILTER_INDEX_SNAPSHOT_MIN = env_int("CHAPBOOK_FILTER_INDEX_SNAPSHOT_MIN", 5000)
FILTER_INDEX_DELTA_MAX = env_int("CHAPBOOK_FILTER_INDEX_DELTA_MAX", 2000)

# How long a search may look for its works before the reader is told to narrow it
# (chapbook/search/backend.py, TIMEOUT_MS): the whole search on SQLite, each statement
# of it on PostgreSQL.
SEARCH_TIMEOUT_MS = env_int("CHAPBOOK_SEARCH_TIMEOUT_MS", 10_000)

# Comment limits (chapbook/feedback/ratelimit.py, spam.py): how many comments each kind of
# commenter may post per window, as AO3 limits new accounts; guests count per address.
CHAPBOOK_COMMENT_RATE_WINDOW = env_int("CHAPBOOK_COMMENT_RATE_WINDOW", 900)
CHAPBOOK_COMMENT_RATE_GUEST = env_int("CHAPBOOK_COMMENT_RATE_GUEST", 3)
CHAPBOOK_COMMENT_RATE_NEW_USER = env_int("CHAPBOOK_COMMENT_RATE_NEW_USER", 5)
CHAPBOOK_COMMENT_RATE_USER = env_int("CHAPBOOK_COMMENT_RATE_USER", 20)
CHAPBOOK_COMMENT_RATE_NEW_ACCOUNT_DAYS = env_int("CHAPBOOK_COMMENT_RATE_NEW_ACCOUNT_DAYS", 7)
# A guest comment with this many links or more waits for the creator's approval.
CHAPBOOK_COMMENT_GUEST_LINK_LIMIT = env_int("CHAPBOOK_COMMENT_GUEST_LINK_LIMIT", 3)
# The cache that remembers today's visitors per work (chapbook/feedback/hits.py): its own,
# so that a busy day's visitor keys do not push rendered pages out of the default cache.
CHAPBOOK_HITS_CACHE = "default" if REDIS_URL else "hits"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("CHAPBOOK_LOG_LEVEL", "WARNING")},
}
