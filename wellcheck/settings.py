"""WellCheck settings: one module, driven by the environment.

Zero-setup default: SQLite in the data folder (``WELLCHECK_DATA_DIR``, default ``./data``).
``WELLCHECK_DATABASE_URL`` selects another database (``postgres://user@host:5432/name``).
Secrets come from the environment or from files in ``<data>/secrets/`` created on first use with
mode 0600; none is kept in the repository. CJIS values are the defaults (see THREAT_MODEL.md).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("WELLCHECK_DATA_DIR", Path.cwd() / "data")).resolve()
SECRETS_DIR = DATA_DIR / "secrets"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def read_secret(name: str, *, nbytes: int = 48) -> str:
    """A secret from ``WELLCHECK_<NAME>``, else ``<data>/secrets/<name>`` (created if missing)."""
    from_env = os.environ.get(f"WELLCHECK_{name.upper()}")
    if from_env:
        return from_env
    path = SECRETS_DIR / name
    if not path.exists():
        SECRETS_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


SECRET_KEY = read_secret("secret_key")
DEBUG = env_bool("WELLCHECK_DEBUG", False)
# The demo runs on the loopback address; production lists its host names.
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("WELLCHECK_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "wellcheck.core",
    "wellcheck.accounts",
    "wellcheck.audit",
    "wellcheck.checks",
    "wellcheck.crypto",  # issue 5: data keys (encryption at rest)
    "wellcheck.retention",  # issue 5: retention reviews, seal/restrict/expunge, health segments
    "wellcheck.rights",  # issue 5: the person's rights (subject access, rectification, erasure)
    "wellcheck.people",
    "wellcheck.demo",
    "wellcheck.intake",
    "wellcheck.insights",
    "wellcheck.transparency",
    "wellcheck.administration",
    # --- access control (issue 3): lockout and TOTP multi-factor sign-in ---
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "wellcheck.core.context.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # access control (issue 3): the verified second factor, then the idle lock, single session
    # and MFA gate (ActorContextMiddleware), the CSP header, and axes' lockout responses (last).
    "django_otp.middleware.OTPMiddleware",
    "wellcheck.core.context.ActorContextMiddleware",
    "wellcheck.accounts.middleware.DeniedAccessAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wellcheck.accounts.middleware.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wellcheck.urls"
WSGI_APPLICATION = "wellcheck.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "checks:list"
LOGOUT_REDIRECT_URL = "accounts:login"

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
                "wellcheck.core.context.template_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get(
    "WELLCHECK_DATABASE_URL", f"sqlite:///{DATA_DIR / 'wellcheck.sqlite3'}"
)
_db = dj_database_url.parse(DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + synchronous=FULL: no acknowledged commit is lost on power failure (NORMAL can lose the
    # last ones). IMMEDIATE transactions make concurrent writers wait (busy timeout) instead of
    # failing with "database is locked". secure_delete overwrites freed pages with zeros.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
            "PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON;"
        ),
    }
else:
    _db["CONN_MAX_AGE"] = int(os.environ.get("WELLCHECK_CONN_MAX_AGE", "60"))
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Passwords and sign-in (CJIS 5.6.2.1 / v6.0 IA-5) ---------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # access control (issue 3): our offline list of words a police system's users reach for.
    {"NAME": "wellcheck.accounts.validators.BannedWordsValidator"},
]

# --- Access control (issue 3): lockout, MFA, sessions (CJIS 5.5.3, 5.5.5, 5.5.2.2, IA-2) -------
# AxesBackend first: it refuses a locked username+IP before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("WELLCHECK_LOCKOUT", True)
AXES_FAILURE_LIMIT = 5  # the 6th attempt is refused, even with the right password
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # one client cannot lock out every officer
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("WELLCHECK_LOCKOUT_MINUTES", "10")))
# Each failure expires on its own, COOLOFF after it; the lock ends 10 minutes after the last
# counted failure (attempts while locked are not counted, so retrying does not extend it).
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the lock lasts 10 minutes, not "10 quiet"
AXES_RESET_ON_SUCCESS = True  # "5 in a row": a success clears the count
AXES_LOCKOUT_CALLABLE = "wellcheck.accounts.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# TOTP for every signed-in role. The demo may switch it off (a banner says so on every page).
WELLCHECK_MFA_REQUIRED = env_bool("WELLCHECK_MFA_REQUIRED", True)
OTP_TOTP_ISSUER = "WellCheck"
# Idle lock: the middleware checks this server-side on each request; SESSION_COOKIE_AGE below
# expires the cookie too.
WELLCHECK_SESSION_IDLE_SECONDS = int(os.environ.get("WELLCHECK_SESSION_IDLE_SECONDS", str(30 * 60)))
WELLCHECK_BREAK_GLASS_MINUTES = int(os.environ.get("WELLCHECK_BREAK_GLASS_MINUTES", "60"))
WELLCHECK_LOOK_REASON_MINUTES = int(os.environ.get("WELLCHECK_LOOK_REASON_MINUTES", "30"))
WELLCHECK_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)

# Session lock after 30 minutes idle (CJIS 5.5.5).
# access control (issue 3): the server-side idle check (accounts/middleware.py) ends the session
# at WELLCHECK_SESSION_IDLE_SECONDS and audits it; the cookie outlives it by 5 minutes so that the
# check, not a silent cookie expiry, is what signs the user out.
SESSION_COOKIE_AGE = WELLCHECK_SESSION_IDLE_SECONDS + 5 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE = env_bool("WELLCHECK_SECURE", False)  # behind TLS in production
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
# access control (issue 3): production (WELLCHECK_SECURE=1) also pins the CSRF cookie to the
# session and names the trusted origins, so `wellcheck check --deploy` passes.
if SECURE:
    SESSION_COOKIE_NAME = "__Host-wellcheck-session"
    CSRF_COOKIE_NAME = "__Host-wellcheck-csrftoken"
    CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS if h not in {"testserver"}]

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("WELLCHECK_TIME_ZONE", "America/Los_Angeles")
USE_I18N = True
USE_TZ = True

# --- Static files: vendored, served by WhiteNoise (air-gapped networks: no CDN) --------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the project's own vendored CSS/JS (wellcheck/static/)
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "wellcheck.accounts.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "wellcheck.core.api.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WellCheck API",
    "DESCRIPTION": "Records of police wellness checks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Background jobs (django-tasks with the database worker) --------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Caches: local memory only; identifying data is never cached ----------------------------
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Logging: structured lines without request bodies; no sensitive plaintext ---------------
LOG_LEVEL = os.environ.get("WELLCHECK_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "wellcheck.core.context.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- WellCheck ------------------------------------------------------------------------------
WELLCHECK_DEMO = env_bool("WELLCHECK_DEMO", False)

# --- Encryption at rest (issue 5, docs/adr/0006-encryption-and-keys.md) ----------------------
# Key-encryption keys and the blind-index root key: files in this directory (0600, created on
# first use), unless WELLCHECK_KEKS / WELLCHECK_KEK_CURRENT / WELLCHECK_INDEX_KEY are set.
WELLCHECK_KEY_DIR = Path(os.environ.get("WELLCHECK_KEY_DIR", SECRETS_DIR / "keys")).resolve()
# After a person is erased, wrap every remaining data key under a new KEK and destroy the old
# one, so the erased key is unreadable in backups too ("immediate"), or leave it to the daily job.
WELLCHECK_SHRED_KEK_ROLL = os.environ.get("WELLCHECK_SHRED_KEK_ROLL", "immediate")

# --- Audit trail (issue 4, docs/adr/0004-audit-chain.md) -------------------------------------
# Ed25519 key that signs checkpoints: a file outside the database, created (0600) on first use.
WELLCHECK_AUDIT_SIGNING_KEY_FILE = Path(
    os.environ.get("WELLCHECK_AUDIT_SIGNING_KEY_FILE", SECRETS_DIR / "audit_signing_key")
)
WELLCHECK_AUDIT_ORIGIN = os.environ.get("WELLCHECK_AUDIT_ORIGIN", "wellcheck/audit")
# A checkpoint is queued every N events; `wellcheck audit checkpoint` from a timer covers time.
WELLCHECK_AUDIT_CHECKPOINT_EVERY = int(os.environ.get("WELLCHECK_AUDIT_CHECKPOINT_EVERY", "1000"))
WELLCHECK_AUDIT_CHECKPOINT_MINUTES = int(os.environ.get("WELLCHECK_AUDIT_CHECKPOINT_MINUTES", "60"))
# Events stay in the database at least this long (CJIS: 1 year); older ones may be archived.
WELLCHECK_AUDIT_RETENTION_DAYS = max(
    365, int(os.environ.get("WELLCHECK_AUDIT_RETENTION_DAYS", "365"))
)
WELLCHECK_AUDIT_ARCHIVE_DIR = Path(
    os.environ.get("WELLCHECK_AUDIT_ARCHIVE_DIR", DATA_DIR / "audit_archive")
)
# PostgreSQL: a read event that is its own transaction may commit without waiting for the WAL
# flush (faster reads; after a database crash the last ~0.6 s of read events can be missing).
WELLCHECK_AUDIT_ASYNC_READ_COMMIT = env_bool("WELLCHECK_AUDIT_ASYNC_READ_COMMIT", False)
# PostgreSQL: a read's event is committed on a side connection (one per app process) while the
# read's remaining queries run; the read still waits for it (wellcheck/audit/side.py).
WELLCHECK_AUDIT_SIDE_WRITER = env_bool("WELLCHECK_AUDIT_SIDE_WRITER", True)
