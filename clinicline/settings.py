"""clinicline settings: one flat file, configured from the environment.

Development works out of the box (SQLite and generated keys under the data dir).
Production (CLINICLINE_PRODUCTION=1) refuses to start with any insecure setting.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
import django_stubs_ext

from clinicline.env import (
    ConfigError,
    dev_secret,
    env_bool,
    env_int,
    env_secret,
    env_str,
    master_key_bytes,
    new_master_key,
    new_secret_key,
)

# Lets a model say what a field holds (``EncryptedJSONField[dict[str, Any]]``): Django's
# field, queryset and form classes take the type parameters the type checker reads.
django_stubs_ext.monkeypatch(include_builtins=False)

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION = env_bool("CLINICLINE_PRODUCTION", False)
DATA_DIR = Path(env_str("CLINICLINE_DATA_DIR") or BASE_DIR / "var").resolve()
# The shared reference folder (drill scenarios, data sets): ``shared/`` beside the checkout.
SHARED_DIR = Path(env_str("CLINICLINE_SHARED") or BASE_DIR.parent / "shared").resolve()
DEBUG = env_bool("CLINICLINE_DEBUG", False)

# --- secrets --------------------------------------------------------------------------
_secret = env_secret("SECRET_KEY")
_master = env_secret("CLINICLINE_MASTER_KEY")
_previous = env_secret("CLINICLINE_PREVIOUS_MASTER_KEYS") or ""
if PRODUCTION:
    _problems = []
    if not _secret or len(_secret) < 50:
        _problems.append("SECRET_KEY (or SECRET_KEY_FILE) must be set, at least 50 characters")
    if not _master:
        _problems.append("CLINICLINE_MASTER_KEY (or CLINICLINE_MASTER_KEY_FILE) must be set")
    if DEBUG:
        _problems.append("CLINICLINE_DEBUG must be off")
    if not env_bool("SESSION_COOKIE_SECURE", True) or not env_bool("CSRF_COOKIE_SECURE", True):
        _problems.append("SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE must stay on")
    if not env_str("ALLOWED_HOSTS"):
        _problems.append("ALLOWED_HOSTS must name the host names this server answers to")
    if not env_str("CLINICLINE_SITE_URL").startswith("https://"):
        _problems.append("CLINICLINE_SITE_URL must be the https:// address staff use "
                         "(links in notifications point there)")
    if _problems:
        raise ConfigError(
            "clinicline refuses to start in production with insecure settings:\n  - "
            + "\n  - ".join(_problems)
        )
else:
    _secret = _secret or dev_secret(DATA_DIR / "secret_key", new_secret_key, "SECRET_KEY")
    _master = _master or dev_secret(DATA_DIR / "master.key", new_master_key, "master key")

# Production refused to start above without them; development made them.
assert _secret is not None and _master is not None
SECRET_KEY = _secret

# The first key wraps new data keys; the others only unwrap (during master-key rotation).
MASTER_KEYS = [_master, *[k.strip() for k in _previous.replace("\n", ",").split(",") if k.strip()]]
for _key in MASTER_KEYS:
    master_key_bytes(_key)  # a malformed key stops the process here, not at the first read

ALLOWED_HOSTS = [
    h.strip() for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS").split(",") if o]

# --- applications ---------------------------------------------------------------------
INSTALLED_APPS = [
    # First, so its templates (base.html, error pages) are the ones found.
    "clinicline.apps.ClinicLineConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "clinicline.vault",
    "clinicline.audit",
    "clinicline.practices",
    "clinicline.accounts",
    "clinicline.patients",
    "clinicline.outbox",
    "clinicline.outreach",
    "clinicline.gateways",
    "clinicline.simulator",
    "clinicline.triage",
    "clinicline.intake",
    "clinicline.inbox",
    "clinicline.oncall",
    "clinicline.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "clinicline.middleware.SecurityHeadersMiddleware",
    # A view that finds the database unreachable answers the styled 503 (clinicline.outage).
    "clinicline.outage.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinicline.accounts.middleware.SessionLimitsMiddleware",
    "clinicline.accounts.middleware.RequireMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Twilio's webhooks (/gateways/twilio/) carry no cookie and no user: sessions, sign-in, MFA,
# CSRF, messages and lockouts do nothing for them but cost about a third of answering a text.
# clinicline.wsgi sends them through a handler with only what every response needs.
WEBHOOK_PATH = "/gateways/twilio/"
WEBHOOK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "clinicline.middleware.SecurityHeadersMiddleware",
    "clinicline.outage.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "clinicline.urls"
WSGI_APPLICATION = "clinicline.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],  # clinicline/templates is the clinicline app's own
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinicline.accounts.context.session_limits",
                "clinicline.navigation.nav",
                "clinicline.oncall.context.alarms",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
_database_url = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'clinicline.sqlite3'}"
# On SQLite, closing the last connection after a write costs an fsync of the WAL: keep them
# open (each sync gunicorn worker has its own). PostgreSQL: a pooler is the usual answer.
DATABASES = {
    "default": dj_database_url.parse(
        _database_url,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE",
                             600 if _database_url.startswith("sqlite") else 0),
    )
}
# Timeouts under Twilio's 15-second budget for a webhook: a database that hangs (a network
# partition) instead of refusing must not hold a web worker past it; the request answers
# 503 and the carrier retries (clinicline.outage).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "clinicline.sqlite"  # Django's, reading times faster
    # WAL lets the web server read while the worker writes; IMMEDIATE takes the write lock
    # at BEGIN so two writers queue instead of failing with "database is locked". A page
    # cache of up to 64 MiB a connection (SQLite's default is 2): the rows keyed by UUID a
    # batch of reminders writes land all over their indexes, and with 2 MiB their pages
    # were read again and again (the job's time in SQLite fell by a sixth to a fifth,
    # bench/reminders.py).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                         "PRAGMA cache_size=-65536;"),
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("DATABASE_BUSY_TIMEOUT_S", 10),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # What DATABASE_URL's own query says (?connect_timeout=…) wins.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT_S", 5))
    _options.setdefault(
        "options", f"-c statement_timeout={env_int('DATABASE_STATEMENT_TIMEOUT_MS', 10000)}")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
OTP_TOTP_ISSUER = "clinicline"

# Sessions: an idle limit (per practice, this is the default) and an absolute lifetime.
IDLE_TIMEOUT_MINUTES = env_int("CLINICLINE_IDLE_TIMEOUT_MINUTES", 15)
SESSION_ABSOLUTE_HOURS = env_int("CLINICLINE_SESSION_ABSOLUTE_HOURS", 12)
REAUTH_MINUTES = env_int("CLINICLINE_REAUTH_MINUTES", 5)
BREAK_GLASS_MINUTES = env_int("CLINICLINE_BREAK_GLASS_MINUTES", 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

AXES_FAILURE_LIMIT = env_int("CLINICLINE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("CLINICLINE_LOCKOUT_MINUTES", 30) / 60  # hours
# Either too many failures for one account, or from one address, locks.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# What people type as a username may be a password: axes stores a keyed hash of it instead.
AXES_USERNAME_CALLABLE = "clinicline.accounts.signals.hashed_username"

# --- security headers -----------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "clinicline.views.csrf_failure"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load-balancer probes speak plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
_behind_proxy = env_bool("CLINICLINE_BEHIND_TLS_PROXY", PRODUCTION)
if _behind_proxy:
    # The TLS terminator must set this header and strip it from client requests.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies in front that append the client's address to X-Forwarded-For. Audit rows and the
# login lockout use the address they report; without it every request comes from the proxy.
TRUSTED_PROXY_HOPS = env_int("CLINICLINE_TRUSTED_PROXY_HOPS", 1 if _behind_proxy else 0)
AXES_CLIENT_IP_CALLABLE = "clinicline.audit.service.client_ip"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

# Error reports never carry settings, request bodies or local variables (they hold PHI).
DEFAULT_EXCEPTION_REPORTER_FILTER = "clinicline.errors.PHISafeExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "clinicline.errors.PHISafeExceptionReporter"

# --- static files, i18n ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if PRODUCTION else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not PRODUCTION
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- telephony ------------------------------------------------------------------------
# Without a configured gateway, texts and calls go to the phone simulator (/simulator).
# Production has real patients: there a practice without a gateway sends nothing.
LOOPBACK_GATEWAY = env_bool("CLINICLINE_LOOPBACK_GATEWAY", not PRODUCTION)
DEMO_TWILIO_AUTH_TOKEN = env_secret("DEMO_TWILIO_AUTH_TOKEN") or "demo-twilio-auth-token"

# --- email (notification only, never PHI) ---------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "clinicline <no-reply@localhost>")
SITE_URL = env_str("CLINICLINE_SITE_URL", "http://127.0.0.1:8000")

# --- logging: never a decrypted field, never an exception message ---------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"safe": {"()": "clinicline.errors.PHISafeFormatter",
                            "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "safe"}},
    "root": {"handlers": ["console"], "level": env_str("CLINICLINE_LOG_LEVEL", "INFO")},
    # Django's own handlers on "django" (a plain console when DEBUG is on, mail to ADMINS)
    # print exception messages; its records go to the safe console like everyone's.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True},
                "django.db.backends": {"level": "WARNING"}},
}
