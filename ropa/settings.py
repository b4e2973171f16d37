"""Settings for the register.

Every difference between environments is an environment variable read through django-environ. With
nothing set, the app runs on embedded defaults (SQLite, a file-system Celery broker) so that one
command on a fresh machine serves it. With ``DJANGO_DEBUG=false`` it refuses to start without a
secret key and allowed hosts.
"""

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ropa.access.groups import AUDITOR_GROUP, DPO_GROUP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Embedded defaults keep their state here: the SQLite database, the broker's folders, static files.
VAR_DIR = Path(env.str("ROPA_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to at least 32 characters when DJANGO_DEBUG=false.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG=false.")
# Former secret keys, still accepted (signed links, sessions, the authenticators' encrypted secrets) while a new
# DJANGO_SECRET_KEY takes over; docs/operations.md "Rotating the secret key".
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])

INSTALLED_APPS = [
    "ropa.apps.RegisterAdminConfig",  # django.contrib.admin, with the register's index (ropa/site/index.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "django_countries",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "knox",
    "simple_history",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.usersessions",
    "django.contrib.humanize",  # the sessions page (allauth.usersessions) shows "3 minutes ago"
    "axes",
    "csp",
    "ropa",
    "processing",
    "retention",
    "subjects",
    "retention.breaches",
    "ropa.api",
    "ropa.audit",
    "ropa.access",  # last: its post_migrate refreshes the role groups once every app's permissions exist
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ropa.api.middleware.ApiBodyLimitMiddleware",  # a JSON 413 before an oversized API body is read
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "ropa.i18n.middleware.UserLanguageMiddleware",  # a logged-in user's stored language wins
    "django.contrib.messages.middleware.MessageMiddleware",
    "ropa.access.middleware.MfaRequiredMiddleware",  # who must have a second factor goes nowhere without it
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "ropa.audit.middleware.AuditActorMiddleware",
    # Last, as django-axes asks: it turns a lock-out into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ropa.urls"
WSGI_APPLICATION = "ropa.wsgi.application"

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

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ropa.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes. A transaction takes the write lock when it
    # begins (IMMEDIATE), so that concurrent writers queue for up to ``timeout`` seconds; a DEFERRED one
    # that read first cannot wait for the lock, and fails at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("nl", _("Dutch")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language the register's own text (names, purposes, sources, notes) is written in. Where a field has
# no translation in the language a reader asks for, English is shown, else this one, marked "[nl]".
ROPA_CONTENT_LANGUAGE = env.str("ROPA_CONTENT_LANGUAGE", default="nl")
FORMAT_MODULE_PATH = ["ropa.i18n.formats"]  # English dates as in Europe (day/month, 24 h); nl and fr are Django's
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Europe/Brussels")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# Mail: the DPO is told of flagged records and due requests by e-mail.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="register@localhost")
ROPA_DPO_EMAILS = env.list("ROPA_DPO_EMAILS", default=[])

# --- Security: HTTPS, headers, sessions, login lock-out, Content Security Policy -------------------------
# With DJANGO_DEBUG=false every value below defaults to its production setting, so that
# ``manage.py check --deploy`` passes on the defaults; each one can be overridden by its variable.
# Behind a TLS-terminating proxy, the proxy must set X-Forwarded-Proto (or the header named here).
_proxy_header = env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=["HTTP_X_FORWARDED_PROTO", "https"])
if len(_proxy_header) not in (0, 2):
    raise ImproperlyConfigured(
        "DJANGO_SECURE_PROXY_SSL_HEADER is a header and a value, e.g. HTTP_X_FORWARDED_PROTO,https (empty: none)."
    )
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header) or None
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP inside the network
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env.str("DJANGO_SECURE_REFERRER_POLICY", default="same-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# An admin session ends after this many seconds without a request (the expiry moves on with every
# request), and when the browser closes.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)

# Passwords: at least ROPA_PASSWORD_MIN_LENGTH characters, not like the user's name, not common, not digits only.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": max(12, env.int("ROPA_PASSWORD_MIN_LENGTH", default=12))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login lock-out (django-axes): after ROPA_LOGIN_FAILURE_LIMIT failed logins for one username (the
# admin's login included) further attempts are refused, the right password too, for
# ROPA_LOGIN_COOLOFF_MINUTES (0: until ``manage.py axes_reset_username USERNAME``). Failures are kept in
# the database, so every web worker sees them.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AXES_ENABLED = env.bool("ROPA_LOGIN_LOCKOUT", default=True)
AXES_FAILURE_LIMIT = env.int("ROPA_LOGIN_FAILURE_LIMIT", default=5)
_cooloff = env.int("ROPA_LOGIN_COOLOFF_MINUTES", default=30)
AXES_COOLOFF_TIME = dt.timedelta(minutes=_cooloff) if _cooloff > 0 else None
# Independent criteria, comma-separated: by default a username is locked after the failures from any
# address (so that changing address buys no guesses) and an address after failures on any usernames.
# "username+ip_address" is a combination: a username locked per address.
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item
    for item in env.list("ROPA_LOGIN_LOCKOUT_PARAMETERS", default=["username", "ip_address"])
]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner in every process's log
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "new_password1", "new_password2", "code"]
# The login form's field is ``login`` (a username or an e-mail address): both count against the account's username,
# and so do wrong codes at the second-factor step (ropa/access/mfa.py).
AXES_USERNAME_CALLABLE = "ropa.access.mfa.lockout_username"
# Proxies of our own in front of the app: the client's address is then read from X-Forwarded-For, the same
# way by the lock-out, allauth (rate limits, the session list) and the API's throttles (ropa/access/client_ip.py).
ROPA_PROXY_COUNT = env.int("ROPA_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "ropa.access.client_ip.client_ip"
ALLAUTH_TRUSTED_PROXY_COUNT = ROPA_PROXY_COUNT

# Logins (django-allauth): every login, the admin's included, goes through /accounts/login/. There is no
# sign-up: accounts are made by a DPO (or by single sign-on, when configured).
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "admin:index"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "ropa.access.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
USERSESSIONS_TRACK_ACTIVITY = True

# --- Single sign-on (OpenID Connect) ----------------------------------------------------------------------
# Off unless ROPA_OIDC_ISSUER is set (README "Single sign-on"). The identity provider (IdP) decides who logs
# in and with which role: its roles claim maps to the DPO and Auditor groups at every login, and a login
# whose claim maps to no role is refused. Accounts are created at the first SSO login, never by a form.
ROPA_OIDC_ISSUER = env.str("ROPA_OIDC_ISSUER", default="")
ROPA_OIDC_PROVIDER_ID = env.str("ROPA_OIDC_PROVIDER_ID", default="sso")  # in the redirect URI; keep it once used
ROPA_OIDC_NAME = env.str("ROPA_OIDC_NAME", default="") or _("single sign-on")  # on the button: "Log in with …"
ROPA_OIDC_ROLES_CLAIM = env.str("ROPA_OIDC_ROLES_CLAIM", default="groups")
ROPA_OIDC_CONTROLLERS_CLAIM = env.str("ROPA_OIDC_CONTROLLERS_CLAIM", default="")  # empty: scopes kept as set here
ROPA_OIDC_REQUIRE_AMR = env.list("ROPA_OIDC_REQUIRE_AMR", default=[])  # one of these in the ID token's amr
ROPA_OIDC_REQUIRE_ACR = env.list("ROPA_OIDC_REQUIRE_ACR", default=[])  # the ID token's acr is one of these
# Link an SSO login to the local account with the same, IdP-verified, e-mail address. Only for an IdP that
# verifies every address it asserts: otherwise whoever sets a victim's address there takes over the account.
ROPA_OIDC_TRUST_EMAIL = env.bool("ROPA_OIDC_TRUST_EMAIL", default=False)
_oidc_client_id = env.str("ROPA_OIDC_CLIENT_ID", default="")
_oidc_client_secret = env.str("ROPA_OIDC_CLIENT_SECRET", default="")
if ROPA_OIDC_ISSUER and not (_oidc_client_id and _oidc_client_secret):
    raise ImproperlyConfigured("ROPA_OIDC_ISSUER is set: ROPA_OIDC_CLIENT_ID and ROPA_OIDC_CLIENT_SECRET must be too.")
if not ROPA_OIDC_ISSUER and (_oidc_client_id or _oidc_client_secret):
    raise ImproperlyConfigured("ROPA_OIDC_CLIENT_ID is set without ROPA_OIDC_ISSUER, the IdP's issuer URL.")
_issuer_url = urlsplit(ROPA_OIDC_ISSUER)
_issuer_local = _issuer_url.scheme == "http" and _issuer_url.hostname in ("127.0.0.1", "localhost")
if ROPA_OIDC_ISSUER and not (_issuer_url.scheme == "https" or _issuer_local):
    raise ImproperlyConfigured("ROPA_OIDC_ISSUER must be an https:// URL (plain http only on this machine).")
ROPA_OIDC_SCOPES = re.split(r"[\s,]+", env.str("ROPA_OIDC_SCOPES", default="openid profile email").strip())
if ROPA_OIDC_ISSUER and "openid" not in ROPA_OIDC_SCOPES:
    raise ImproperlyConfigured("ROPA_OIDC_SCOPES must include openid (default: openid profile email).")
ROPA_OIDC_ROLE_MAP = {}  # claim value -> group, e.g. ROPA_OIDC_ROLE_MAP=ropa-dpo=DPO,ropa-auditor=Auditor
for _item in env.list("ROPA_OIDC_ROLE_MAP", default=[]):
    _value, _, _group = (part.strip() for part in _item.partition("="))
    if not _value or _group not in (DPO_GROUP, AUDITOR_GROUP):
        raise ImproperlyConfigured(
            f"ROPA_OIDC_ROLE_MAP: {_item!r} is not CLAIM_VALUE=DPO or CLAIM_VALUE=Auditor "
            "(comma-separated, e.g. ropa-dpo=DPO,ropa-auditor=Auditor)."
        )
    ROPA_OIDC_ROLE_MAP.setdefault(_value, []).append(_group)
if ROPA_OIDC_ISSUER and not ROPA_OIDC_ROLE_MAP:
    raise ImproperlyConfigured("ROPA_OIDC_ISSUER is set: ROPA_OIDC_ROLE_MAP must map a claim value to DPO or Auditor.")
SOCIALACCOUNT_ADAPTER = "ropa.access.sso.adapter.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        # allauth's provider, plus a nonce and an ID token signature checked at every login (ropa/access/sso).
        "provider_class": "ropa.access.sso.provider.RegisterOIDCProvider",
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": ROPA_OIDC_PROVIDER_ID,
                "name": ROPA_OIDC_NAME,
                "client_id": _oidc_client_id,
                "secret": _oidc_client_secret,
                "settings": {
                    "server_url": ROPA_OIDC_ISSUER,
                    "scope": ROPA_OIDC_SCOPES,
                    "oauth_pkce_enabled": True,
                },
            }
        ]
        if ROPA_OIDC_ISSUER
        else [],
    }
}
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_STORE_TOKENS = False  # the IdP's tokens serve the login only
SOCIALACCOUNT_EMAIL_AUTHENTICATION = ROPA_OIDC_TRUST_EMAIL
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = ROPA_OIDC_TRUST_EMAIL

# Two-factor authentication (django-allauth's MFA, ropa/access/mfa.py): an authenticator app (TOTP), a security key
# or passkey (WebAuthn) and one-use recovery codes. Superusers and the members of ROPA_MFA_REQUIRED_GROUPS must
# have one: after the password they set it up, and no page opens before. Others may.
ROPA_MFA_REQUIRED_GROUPS = env.list("ROPA_MFA_REQUIRED_GROUPS", default=["DPO"])
MFA_ADAPTER = "ropa.access.adapters.MfaAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = "Register of processing activities"  # the name authenticator apps show
MFA_RECOVERY_CODES_SHOW_ONCE = True  # shown once after they are made; never again, never as a download
MFA_PASSKEY_LOGIN_ENABLED = False  # a key is a second factor after the password, not a login without one
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG  # browsers allow WebAuthn on http://localhost only
MFA_FORMS = {
    "authenticate": "ropa.access.mfa.AuthenticateForm",
    "reauthenticate": "ropa.access.mfa.ReauthenticateForm",
}
# No sign-up: an account is made by a DPO, so an unconfirmed e-mail address is no stranger's claim on it.
MFA_ALLOW_UNVERIFIED_EMAIL = True
# Removing an authenticator or making new recovery codes asks for a second factor given in the last 5 minutes.
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300

# Content Security Policy (django-csp 4): scripts, frames, fonts and connections from this origin only,
# never inline script. Styles also allow inline <style> blocks, which Django's own change list and the
# register's admin pages use. The API's ReDoc page adds what it needs itself (ropa/api_urls.py).
_csp = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if env.str("ROPA_CSP_REPORT_URI", default=""):
    _csp["DIRECTIVES"]["report-uri"] = [env.str("ROPA_CSP_REPORT_URI")]
if env.bool("ROPA_CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp
else:
    CONTENT_SECURITY_POLICY = _csp

# Celery. With no broker URL, a file-system broker: worker and beat on one machine need no server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Where kombu keeps its exchange tables (remote control, broadcast); its default is ./control.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Time limits stay below the visibility timeout so that an unacknowledged task is redelivered
    # only after its first attempt can no longer be running.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=900)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "ropa.api.schema.ApiAutoSchema",  # error responses, blank choices (ropa/api/schema.py)
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.DjangoModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "NUM_PROXIES": ROPA_PROXY_COUNT,  # the throttles' client address, as ropa/access/client_ip.py reads it
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Register of processing activities API",
    "DESCRIPTION": "GDPR Art. 30 register, personal-data records, retention and erasure feed.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# Retention enforcement (retention/services.py, docs/retention.md): the beat sweep, its batches, its limits.
ROPA_RETENTION_CRON = env.str("ROPA_RETENTION_CRON", default="30 2 * * *")  # minute hour day month weekday
ROPA_RETENTION_BEAT_EXPIRES = env.int("ROPA_RETENTION_BEAT_EXPIRES", default=6 * 60 * 60)  # seconds
ROPA_RETENTION_BATCH_SIZE = env.int("ROPA_RETENTION_BATCH_SIZE", default=2000)
# A task sweeps this long at most, then re-enqueues itself: below CELERY_TASK_SOFT_TIME_LIMIT (a check says so).
ROPA_RETENTION_TASK_MAX_SECONDS = env.int("ROPA_RETENTION_TASK_MAX_SECONDS", default=300)
# A run silent for this long died with its worker and is marked interrupted by the next sweep.
ROPA_RETENTION_STALE_AFTER = env.int("ROPA_RETENTION_STALE_AFTER", default=2 * CELERY_TASK_TIME_LIMIT)
ROPA_RETENTION_TIME_ZONE = env.str("ROPA_RETENTION_TIME_ZONE", default=TIME_ZONE)
# Data-subject requests: when the DPO is mailed the deadlines due within 7 days and overdue.
# Personal-data breaches: the authority is notified within this many hours of becoming aware (Art. 33(1));
# the Belgian authority's Part 2 follows within this many days of Part 1.
ROPA_BREACH_NOTIFY_HOURS = env.int("ROPA_BREACH_NOTIFY_HOURS", default=72)
ROPA_BREACH_COMPLEMENT_DAYS = env.int("ROPA_BREACH_COMPLEMENT_DAYS", default=21)
# Breach deadline reminders: how often beat looks for a deadline 24 h or 6 h away, or missed (each mailed once).
ROPA_BREACH_REMINDER_CRON = env.str("ROPA_BREACH_REMINDER_CRON", default="*/15 * * * *")
ROPA_BREACH_REMINDER_EXPIRES = env.int("ROPA_BREACH_REMINDER_EXPIRES", default=10 * 60)  # seconds
ROPA_REQUESTS_REMINDER_CRON = env.str("ROPA_REQUESTS_REMINDER_CRON", default="0 7 * * *")
ROPA_REQUESTS_REMINDER_EXPIRES = env.int("ROPA_REQUESTS_REMINDER_EXPIRES", default=12 * 60 * 60)  # seconds
# Review cadence of register entries: months between two reviews of an activity (each may set its own), and
# when the DPO is mailed the activities whose review is due (within 30 days), overdue or needed after a change.
ROPA_REVIEW_CYCLE_MONTHS = env.int("ROPA_REVIEW_CYCLE_MONTHS", default=12)
ROPA_REVIEW_REMINDER_CRON = env.str("ROPA_REVIEW_REMINDER_CRON", default="0 7 * * 1")
ROPA_REVIEW_REMINDER_EXPIRES = env.int("ROPA_REVIEW_REMINDER_EXPIRES", default=24 * 60 * 60)  # seconds
# The erasure journal (docs/operations.md): every tombstone, appended after each sweep to a file kept apart from
# the database backups, so that erasures made after a backup are re-applied when it is restored. Empty: off.
ROPA_ERASURE_JOURNAL = env.str("ROPA_ERASURE_JOURNAL", default="")
ROPA_BASE_URL = env.str("ROPA_BASE_URL", default="http://127.0.0.1:8000")  # for links in mails to the DPO

# REST API (/api/v1/, ropa/api). Knox stores only token digests; ropa.api.ApiToken adds each token's scope.
KNOX_TOKEN_MODEL = "api.ApiToken"  # noqa: S105 - a model name, not a secret
# knox's own migrations would still create its (swapped-out) knox_authtoken table, which references
# auth_user and so breaks every flush of the database; the tokens live in ropa.api's table.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_PREFIX": "ropa_",  # lets secret scanners recognise a leaked token
    "TOKEN_TTL": dt.timedelta(days=env.int("ROPA_API_TOKEN_DAYS", default=365)),
    "AUTO_REFRESH": False,
}
ROPA_API_THROTTLE_RATE = env.str("ROPA_API_THROTTLE_RATE", default="1200/minute")  # per token
# Requests refused for a missing, wrong, expired or revoked token, per client address, before it is refused outright.
ROPA_API_AUTH_FAILURE_RATE = env.str("ROPA_API_AUTH_FAILURE_RATE", default="30/minute")
ROPA_API_ANON_THROTTLE_RATE = env.str("ROPA_API_ANON_THROTTLE_RATE", default="120/minute")  # per address
# One limit for an API request's body (a batch of 1,000 records of 5 KB each fits), chunked bodies included;
# over it the answer is a JSON 413 naming it (ropa/api/parsers.py, ropa/api/middleware.py).
ROPA_API_MAX_BODY_BYTES = env.int("ROPA_API_MAX_BODY_BYTES", default=8 * 1024 * 1024)
# Form posts (the admin) keep Django's own limits: 2.5 MiB of fields, 1,000 of them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("ROPA_ADMIN_MAX_BODY_BYTES", default=2_621_440)
# Throttle counters live in the cache: set CACHE_URL=redis://... so that every web worker shares them.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
SPECTACULAR_SETTINGS.update(
    {
        "SCHEMA_PATH_PREFIX": r"/api/v1",
        "COMPONENT_SPLIT_REQUEST": True,
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": f"/{STATIC_URL}ropa/favicon.svg",
        "REDOC_DIST": "SIDECAR",
        "ENUM_NAME_OVERRIDES": {
            "LegalBasisEnum": "processing.choices.LegalBasis",
            "RecipientKindEnum": "processing.choices.RecipientKind",
            "TransferSafeguardEnum": "processing.choices.TransferSafeguard",
            "ActivityRoleEnum": "processing.choices.ActivityRole",
            "TokenRoleEnum": "ropa.api.roles.Role",
            "ActivityStatusEnum": "processing.choices.ActivityStatus",
            "RecordStatusEnum": "subjects.choices.RecordStatus",
            "RequestStatusEnum": "subjects.choices.RequestStatus",
            "RequestTypeEnum": "subjects.choices.RequestType",
            "RequestEventKindEnum": "subjects.choices.RequestEventKind",
        },
    }
)
