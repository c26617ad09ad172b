"""Settings for the Advanced Support Portal.

Everything that differs between machines comes from the environment (a `.env` file beside
`manage.py` is read when present); `.env.example` lists every variable.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from portal import __version__
from portal.monitoring_settings import logging_config, metrics_networks, sentry_start
from portal.storage_settings import default_storage_setting

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=True) and (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

_DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-in-production"
if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default=_DEVELOPMENT_SECRET_KEY)
else:
    SECRET_KEY = env("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50 or SECRET_KEY == _DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random value of at least 50 characters when "
            "DEBUG is off. Generate one with: python -c 'import secrets; "
            "print(secrets.token_urlsafe(64))'"
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

PORTAL_VERSION = env("PORTAL_VERSION", default=__version__)
# The address people use to reach the portal; used in e-mails and printed by `make run`.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tables2",
    "django_filters",
    "django_q",
    "axes",
    "csp",
    "portal.apps.PortalConfig",
    "integrations.apps.IntegrationsConfig",
    "accounts.apps.AccountsConfig",
    "disputes.apps.DisputesConfig",
    "playbooks.apps.PlaybooksConfig",
    "support.apps.SupportConfig",
    "feedback.apps.FeedbackConfig",
    "oncall.apps.OncallConfig",
    "reports.apps.ReportsConfig",
]

MIDDLEWARE = [
    # First: a body over REQUEST_BODY_MAX_BYTES is refused before anything below reads it.
    "portal.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "portal.logcontext.RequestContextMiddleware",
    "portal.metrics.RequestTimingMiddleware",
    "portal.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Axes must come last: it turns a lockout raised during authentication into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.chrome",
                "integrations.context_processors.intercom_banner",
            ],
            "builtins": ["portal.templatetags.portal_tags"],
        },
    },
]

# Database: a SQLite file in the project unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE takes the write lock
    # at BEGIN so two writers queue on the busy timeout instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT_SECONDS", default=20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if not env.bool("DATABASE_JIT", default=False):
        # PostgreSQL's JIT compiles the reports' larger grouped queries for ~80 ms to save a
        # few: off for this connection unless DATABASE_JIT=true (a pooler that refuses startup
        # options wants `jit = off` in postgresql.conf and DATABASE_JIT=true here instead).
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# Proxies in front of the portal that each append the address they were reached from to
# X-Forwarded-For (nginx with `$proxy_add_x_forwarded_for`, a load balancer...). 0: the
# connection's own address is the client's and the header is ignored (anyone can send it).
# N: the client is the N-th address from the right of the header. TLS_TERMINATED_BY_PROXY
# implies 1 unless this is set.
TLS_TERMINATED_BY_PROXY = env.bool("TLS_TERMINATED_BY_PROXY", default=False)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if TLS_TERMINATED_BY_PROXY else 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

# Throttling of failed logins (django-axes, portal/sign_in_throttle.py): after
# AXES_FAILURE_LIMIT failures for one username from one address, that pair is locked out for
# AXES_COOLOFF_MINUTES; after AXES_ADDRESS_FAILURE_LIMIT failures from one address, whatever the
# usernames (one password tried against many), the address is.
AXES_HANDLER = "portal.sign_in_throttle.SignInThrottle"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
if not 0 < AXES_FAILURE_LIMIT <= AXES_ADDRESS_FAILURE_LIMIT:
    raise ImproperlyConfigured("AXES_ADDRESS_FAILURE_LIMIT must be at least AXES_FAILURE_LIMIT (> 0).")
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
# The client's address, through django-ipware. ipware counts the proxies listed in the header
# (the last proxy's own address is the connection's, not in the header), hence N - 1, and takes
# the address at that position from the right ("left-most" names the order of the list); not
# strict, so a client's own forged entries on the left do not make the header unusable.
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT - 1
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
    AXES_IPWARE_PROXY_COUNT = None
AXES_IPWARE_PROXY_ORDER = "left-most"
IPWARE_STRICT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Disk (MEDIA_ROOT) unless MEDIA_S3_BUCKET names an S3-compatible bucket (portal.storage_settings).
    "default": default_storage_setting(env),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploaded files (CSV imports, dispute evidence) live outside the web root and are served only
# through views that check who may see them.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"

# Polymarket's public APIs. POLYMARKET_DEMO_FIXTURES answers from synthetic files shipped in the
# repo instead (set by `make run`, so the demo works offline).
POLYMARKET_DATA_URL = env("POLYMARKET_DATA_URL", default="https://data-api.polymarket.com")
POLYMARKET_GAMMA_URL = env("POLYMARKET_GAMMA_URL", default="https://gamma-api.polymarket.com")
POLYMARKET_DEMO_FIXTURES = env.bool("POLYMARKET_DEMO_FIXTURES", default=False)
POLYMARKET_TIMEOUT_SECONDS = env.float("POLYMARKET_TIMEOUT_SECONDS", default=10.0)
# Data API calls per 10 seconds that every worker together may make (a budget shared through the
# database): Polymarket documents 150 per 10 s for /positions, the route the exposure sweep uses.
POLYMARKET_DATA_RATE_LIMIT = env.int("POLYMARKET_DATA_RATE_LIMIT", default=150)

# Intercom (outbound sync). Off without a token: jobs wait in the outbox and pages say Intercom is
# not connected. On without a token is a configuration error, refused at start.
INTERCOM_ACCESS_TOKEN = env("INTERCOM_ACCESS_TOKEN", default="")
INTERCOM_ENABLED = env.bool("INTERCOM_ENABLED", default=bool(INTERCOM_ACCESS_TOKEN))
if INTERCOM_ENABLED and not INTERCOM_ACCESS_TOKEN:
    raise ImproperlyConfigured(
        "INTERCOM_ENABLED is on but INTERCOM_ACCESS_TOKEN is empty: set the access token of the "
        "Intercom app (Developer Hub → your app → Authentication), or turn INTERCOM_ENABLED off."
    )
INTERCOM_REGION = env("INTERCOM_REGION", default="us").lower()
if INTERCOM_REGION not in ("us", "eu", "au"):
    raise ImproperlyConfigured("INTERCOM_REGION must be us, eu or au (where the workspace is hosted).")
# Overrides the regional URL: the local fake Intercom (`make run`) or a proxy.
INTERCOM_BASE_URL = env("INTERCOM_BASE_URL", default="")
INTERCOM_VERSION = "2.16"
# The workspace's app id (`GET /me` → app.id_code; the part after /a/apps/ in Intercom's URLs), for
# deep links into the inbox: https://app.intercom.com/a/inbox/<app id>/inbox/conversation/<id>
# (app.eu. / app.au. by INTERCOM_REGION). Empty: no links into Intercom (none known to open).
INTERCOM_APP_ID = env("INTERCOM_APP_ID", default="")
# The portal's own address, for links written into Intercom (the "advanced_portal_url" attribute).
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
INTERCOM_TIMEOUT_SECONDS = env.float("INTERCOM_TIMEOUT_SECONDS", default=10.0)
# Intercom's app limit: 10,000 calls a minute, counted in 10-second windows.
INTERCOM_RATE_LIMIT = env.int("INTERCOM_RATE_LIMIT", default=1666)
INTERCOM_RATE_WINDOW_SECONDS = env.float("INTERCOM_RATE_WINDOW_SECONDS", default=10.0)
# Inbound webhooks (POST /integrations/intercom/webhook/): signed with the app's client secret
# (Developer Hub → your app → Basic information). Empty: signed notifications get 503, unsigned 401.
INTERCOM_CLIENT_SECRET = env("INTERCOM_CLIENT_SECRET", default="")
# Larger notifications are refused (413) before their body is read.
INTERCOM_WEBHOOK_MAX_BYTES = env.int("INTERCOM_WEBHOOK_MAX_BYTES", default=1024 * 1024)

# A dispute decision with more than this at stake (USDC or USD) needs a second specialist's approval.
DISPUTE_FOUR_EYES_THRESHOLD = Decimal(env("DISPUTE_FOUR_EYES_THRESHOLD", default="10000"))
# Largest evidence file a specialist may attach to a case (PDF, images, text, CSV, JSON).
DISPUTE_EVIDENCE_MAX_MB = env.int("DISPUTE_EVIDENCE_MAX_MB", default=10)

# Request bodies. The largest the portal takes is its largest upload — a CSV import (5 MB,
# MAX_FILE_BYTES in accounts/importing), an evidence file, a webhook notification — plus room for
# the other form fields and the multipart framing; a longer Content-Length is refused (413)
# before anything reads the body (portal.middleware.RequestBodyLimitMiddleware). The proxy in
# front should refuse the same (nginx: client_max_body_size 11m with the defaults; README).
REQUEST_BODY_MAX_BYTES = (
    max(5 * 1024 * 1024, DISPUTE_EVIDENCE_MAX_MB * 1024 * 1024, INTERCOM_WEBHOOK_MAX_BYTES) + 256 * 1024
)
# Form fields other than files, and raw bodies read whole (the webhook): Django's default 2.5 MB,
# raised if a webhook notification may be larger.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, INTERCOM_WEBHOOK_MAX_BYTES)

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Advanced Support <support@localhost>")
# Seconds before a mail server that does not answer is given up on (Django waits forever by
# default, which would hold up the escalation pager).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Seconds to connect to, and then to hear back from, a chat webhook that pages the on-call person.
ONCALL_WEBHOOK_TIMEOUT_SECONDS = env.float("ONCALL_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

DJANGO_TABLES2_TEMPLATE = "django_tables2/portal.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "data"}

# Background tasks (django-q2). The ORM broker shares the database; set Q_BROKER_URL to a
# redis:// URL to use Redis instead.
Q_CLUSTER = {
    "name": "portal.apps.PortalConfig",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT_SECONDS", default=120),
    "retry": env.int("Q_RETRY_SECONDS", default=180),
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "label": "Task queue",
}
_broker_url = env("Q_BROKER_URL", default="")
if _broker_url.startswith(("redis://", "rediss://", "unix://")):
    Q_CLUSTER["redis"] = _broker_url
elif _broker_url:
    raise ImproperlyConfigured("Q_BROKER_URL must be a redis:// URL, or empty for the ORM broker.")
else:
    Q_CLUSTER["orm"] = "default"
if Q_CLUSTER["retry"] <= Q_CLUSTER["timeout"]:
    # Otherwise a slow task is handed to a second worker while the first still runs it.
    raise ImproperlyConfigured("Q_RETRY_SECONDS must be larger than Q_TIMEOUT_SECONDS.")

# Security. With DEBUG off every protection is on; TLS_TERMINATED_BY_PROXY tells Django to
# trust the proxy's X-Forwarded-Proto header (only set it behind a proxy that overwrites it).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): scripts and styles only from our own
# static files, so a script that slipped into a page would not run. Templates carry no inline
# <script>, event handler or style attribute (portal/tests/test_security_limits.py checks); a
# script that must stay inline takes the request's nonce ({{ request.csp_nonce }}). A view that
# sets its own header keeps it (the evidence file's `sandbox`).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
if TLS_TERMINATED_BY_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# The load balancer probes /healthz (and a deploy /healthz/ready) over plain HTTP: answer them
# there rather than redirect them
# (its `?detail` is still redirected to HTTPS by the view).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^healthz/ready$"]
# Monitoring that sends `Authorization: Bearer <token>` may read /healthz?detail (the task queue
# and the Intercom outbox); Admins may too. Empty: Admins only.
HEALTHZ_TOKEN = env("HEALTHZ_TOKEN", default="")
# Seconds /healthz?detail (and /metrics) keep their counts before counting again (0: every time).
HEALTHZ_DETAIL_CACHE_SECONDS = env.int("HEALTHZ_DETAIL_CACHE_SECONDS", default=10)
# Prometheus scrapes /metrics with `Authorization: Bearer <METRICS_TOKEN>`, or from one of these
# networks (CIDRs, comma-separated; behind a proxy the proxy's address is what is seen). Neither
# set: /metrics answers nobody.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = metrics_networks(env)

SILENCED_SYSTEM_CHECKS = [
    # W021 asks for HSTS preload. Submitting a domain to browsers' preload lists is hard to
    # undo and belongs to whoever owns the domain; they set SECURE_HSTS_PRELOAD=true.
    "security.W021",
]
if not DEBUG and not env.bool("SECURE_SSL_REDIRECT", default=True):
    # W008 asks for SSL redirect. Operators turn it off only when the proxy in front
    # already redirects plain HTTP to HTTPS (documented in the README).
    SILENCED_SYSTEM_CHECKS.append("security.W008")

# Sentry when SENTRY_DSN is set; LOG_FORMAT plain or json (portal.monitoring_settings).
SENTRY_DSN = sentry_start(env, release=PORTAL_VERSION)
LOG_FORMAT, LOGGING = logging_config(env)
