"""Settings for the embedded default (SQLite, local media, one process), overridable by environment.

Environment variables:
    DATABASE_URL     e.g. postgres://user:pass@host:5432/vis2sound (default: SQLite under VIS2SOUND_DATA_DIR)
    SECRET_KEY       default: generated once into VIS2SOUND_DATA_DIR/secret_key
    DEBUG            default off
    ALLOWED_HOSTS    comma-separated (default: localhost, 127.0.0.1, [::1])
    CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. https://study.example.org
    MEDIA_ROOT       default: VIS2SOUND_DATA_DIR/media
    HTTPS_ONLY       behind TLS in production: redirect to https, secure cookies, HSTS (default off)
    MEDIA_ACCEL_REDIRECT  behind nginx: an internal location (e.g. /protected-media/) that serves
                     MEDIA_ROOT; stimulus files are then sent by nginx (X-Accel-Redirect) once the app
                     has checked the participant's token (default: the app streams them itself)
    RATELIMIT_ENABLE  rate limits on (default) or off (0), e.g. for a load test from one address
    RATE_CONSENT, RATE_ANSWER, RATE_MEDIA, RATE_LOGIN, RATE_API_AUTH  limits as N/s|m|h (see RATE_LIMITS)
    RATELIMIT_IP_META_KEY  behind a proxy: the header with the client's address, e.g. HTTP_X_REAL_IP
    VIS2SOUND_DATA_DIR  where local state lives (default: ./data, git-ignored)
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from studyapp.env import env_bool, env_list, secret_key_from_file

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("VIS2SOUND_DATA_DIR", BASE_DIR / "data")).resolve()

SECRET_KEY = os.environ.get("SECRET_KEY") or secret_key_from_file(DATA_DIR)
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_ratelimit",
    "studyapp.apps.StudyAppConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",  # an exceeded limit answers 429
]

ROOT_URLCONF = "studyapp.urls"
WSGI_APPLICATION = "studyapp.wsgi.application"
ASGI_APPLICATION = "studyapp.asgi.application"

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

SQLITE_PATH = DATA_DIR / "db.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # Participants answer concurrently; WAL lets readers proceed while an answer is written, and the
    # timeout makes a writer wait instead of failing with "database is locked" (a burst of 200
    # participants on 2 cores queues writers for well over 20 s; PostgreSQL is the setup for a crowd).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 120,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media")).resolve()
MEDIA_ACCEL_REDIRECT = os.environ.get("MEDIA_ACCEL_REDIRECT", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed but not manifest-hashed: pages render even before `collectstatic` has run.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# One process serves pages and static files in the embedded default; in DEBUG, straight from the
# source folders so edits show without `collectstatic`.
WHITENOISE_USE_FINDERS = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
    # The researcher API is used from a signed-in admin session (browser) or with HTTP Basic (scripts).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "studyapp.rate_limits.RateLimitedBasicAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "vis2sound researcher API",
    "DESCRIPTION": "Studies, their live progress and their results (staff accounts only).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# The rate limits' counters (studyapp.rate_limits), in files every worker process on this machine shares.
# Increments there are not atomic, so under a burst a limit may let a few more through: fine for
# abuse limits, and it needs no cache server (django-ratelimit's checks prefer memcached or Redis).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }
}
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_VIEW = "studyapp.rate_limits.rate_limited"
if os.environ.get("RATELIMIT_IP_META_KEY"):
    RATELIMIT_IP_META_KEY = os.environ["RATELIMIT_IP_META_KEY"]
RATE_LIMITS = {
    "consent": os.environ.get("RATE_CONSENT", "30/m"),  # new participants per address
    "answer": os.environ.get("RATE_ANSWER", "120/m"),  # answers and trial fetches per participant
    "media": os.environ.get("RATE_MEDIA", "600/m"),  # video requests (ranges) per participant
    "login": os.environ.get("RATE_LOGIN", "10/m"),  # admin sign-in attempts per address
    "api_auth": os.environ.get("RATE_API_AUTH", "10/m"),  # failed API Basic auth per address
}

# Who may show participant pages in a frame (MTurk's ExternalQuestion iframe); studyapp.framing.
PARTICIPANT_FRAME_ANCESTORS = os.environ.get(
    "PARTICIPANT_FRAME_ANCESTORS", "https://www.mturk.com https://workersandbox.mturk.com"
).split()
PARTICIPANT_TOKEN_MAX_AGE = 7 * 24 * 3600  # seconds a participant page's signed token stays valid

HTTPS_ONLY = env_bool("HTTPS_ONLY", default=False)
if HTTPS_ONLY:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
