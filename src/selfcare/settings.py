"""Django settings, read from the environment (see docs/configuration.md for every variable).

Production is the default: no debug, secure cookies, HSTS. `selfcare demo` sets SELFCARE_DEMO=1,
which relaxes only what a person trying it on http://127.0.0.1 needs.
"""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext
from babel.numbers import get_currency_precision
from django.utils.translation import gettext_lazy as _

from selfcare.config import (
    database_from_url,
    email_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    secret_key,
)

# Lets admin and queryset classes be subscripted for the type checker (ModelAdmin[Line]).
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("SELFCARE_DATA_DIR", "var")).resolve()

DEMO = env_bool("SELFCARE_DEMO")
DEBUG = env_bool("SELFCARE_DEBUG")
SECRET_KEY = secret_key(data_dir=DATA_DIR, generated_allowed=DEMO or DEBUG)
# Key for the keyed hashes of stored codes (PUK, one-time codes). Separate from SECRET_KEY so the
# latter can be rotated without invalidating every stored PUK hash.
SELFCARE_HASH_KEY = env_str("SELFCARE_HASH_KEY") or SECRET_KEY

ALLOWED_HOSTS = env_list(
    "SELFCARE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if (DEMO or DEBUG) else []
)
CSRF_TRUSTED_ORIGINS = env_list("SELFCARE_CSRF_TRUSTED_ORIGINS", [])

# --- Operator -------------------------------------------------------------------------------------
SELFCARE_OPERATOR_NAME = env_str("SELFCARE_OPERATOR_NAME", "Selfcare Mobile")
SELFCARE_CURRENCY = env_str("SELFCARE_CURRENCY", "RUB").upper()
SELFCARE_CURRENCY_DIGITS = get_currency_precision(SELFCARE_CURRENCY)
SELFCARE_PHONE_REGION = env_str("SELFCARE_PHONE_REGION", "RU").upper()
SELFCARE_HELP_NUMBER = env_str("SELFCARE_HELP_NUMBER", "636")
# How far below the floor a prepaid account may go for usage that already happened on the network
# before it could be rated (calls in flight). Everything else stops at the floor.
SELFCARE_USAGE_OVERDRAFT_MINOR = env_int("SELFCARE_USAGE_OVERDRAFT_MINOR", 10_000)

TIME_ZONE = env_str("SELFCARE_TIME_ZONE", "Europe/Moscow")
USE_TZ = True
USE_I18N = True
LANGUAGES = [
    (code, name)
    for code, name in [("en", _("English")), ("ru", _("Russian")), ("fa", _("Persian"))]
    if code in env_list("SELFCARE_LANGUAGES", ["en", "ru", "fa"])
]
LANGUAGE_CODE = env_str("SELFCARE_LANGUAGE", "en")
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_SECURE = not (DEMO or DEBUG)
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

# --- Apps -----------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "selfcare.backoffice.apps.BackofficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "huey.contrib.djhuey",
    "selfcare.web",
    "selfcare.catalog",
    "selfcare.lines",
    "selfcare.ledger",
    "selfcare.statements",
    "selfcare.companies",
    "selfcare.documents",
    "selfcare.usage",
    "selfcare.identity",
    "selfcare.notifications",
    "selfcare.support",
    "selfcare.billing",
    "selfcare.payments",
    "selfcare.cabinet",
    "selfcare.backoffice",
    "selfcare.api",
    "selfcare.tmf",
    "selfcare.demo",
]

MIDDLEWARE = [
    "selfcare.web.middleware.RequestIdAndMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "selfcare.web.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "selfcare.identity.middleware.SessionPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "selfcare.urls"
WSGI_APPLICATION = "selfcare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "selfcare.web.context.operator",
            ],
        },
    }
]

# --- Stores ---------------------------------------------------------------------------------------
DATABASES = {"default": database_from_url(env_str("SELFCARE_DATABASE_URL"), data_dir=DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("SELFCARE_REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "selfcare",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

HUEY = {
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    "name": "selfcare",
    "immediate": env_bool("SELFCARE_TASKS_IMMEDIATE"),
    "utc": True,
    "consumer": {"workers": env_int("SELFCARE_WORKER_THREADS", 2), "worker_type": "thread"},
}
if REDIS_URL:
    HUEY["url"] = REDIS_URL
else:
    HUEY["filename"] = str(DATA_DIR / "queue.sqlite3")

# --- SMS (docs/sms.md) ----------------------------------------------------------------------------
SELFCARE_SMS_BACKEND = env_str("SELFCARE_SMS_BACKEND", "selfcare.notifications.senders.console.ConsoleSender")
SELFCARE_SMS_SENDER_NAME = env_str("SELFCARE_SMS_SENDER_NAME", "Selfcare")
SELFCARE_SMS_MAX_ATTEMPTS = env_int("SELFCARE_SMS_MAX_ATTEMPTS", 5)
SELFCARE_SMS_RETRY_DELAY_S = env_int("SELFCARE_SMS_RETRY_DELAY_S", 10)
# The resend sweep: queued this long past its due time, a message's job is taken as lost.
SELFCARE_SMS_RESEND_AFTER_MIN = env_int("SELFCARE_SMS_RESEND_AFTER_MIN", 10)
SELFCARE_SMPP_HOST = env_str("SELFCARE_SMPP_HOST", "127.0.0.1")
SELFCARE_SMPP_PORT = env_int("SELFCARE_SMPP_PORT", 2775)
SELFCARE_SMPP_SYSTEM_ID = env_str("SELFCARE_SMPP_SYSTEM_ID")
SELFCARE_SMPP_PASSWORD = env_str("SELFCARE_SMPP_PASSWORD")
SELFCARE_SMPP_SYSTEM_TYPE = env_str("SELFCARE_SMPP_SYSTEM_TYPE")
SELFCARE_SMPP_SOURCE_ADDR = env_str("SELFCARE_SMPP_SOURCE_ADDR") or SELFCARE_SMS_SENDER_NAME
SELFCARE_SMPP_TIMEOUT_S = env_int("SELFCARE_SMPP_TIMEOUT_S", 10)
SELFCARE_SMS_HTTP_URL = env_str("SELFCARE_SMS_HTTP_URL")
SELFCARE_SMS_HTTP_SECRET = env_str("SELFCARE_SMS_HTTP_SECRET")
SELFCARE_SMS_HTTP_TIMEOUT_S = env_int("SELFCARE_SMS_HTTP_TIMEOUT_S", 10)
# Where the console gateway keeps the last texts for /dev/sms. The worker sends and the web process
# shows, so without Redis the demo needs a store both processes see: files in the data dir.
SELFCARE_SMS_CONSOLE_CACHE = "default"
if (DEMO or DEBUG) and not REDIS_URL:
    CACHES["sms_console"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "dev-sms"),
    }
    SELFCARE_SMS_CONSOLE_CACHE = "sms_console"

# --- Payments (docs/payments.md) --------------------------------------------------------------------
# "fake" (the built-in acquirer simulator), "stripe", "yookassa", or a dotted path to a provider class.
SELFCARE_PAYMENT_BACKEND = env_str("SELFCARE_PAYMENT_BACKEND", "fake")
# Where providers send the subscriber back and post their webhooks (scheme + host, no trailing slash).
SELFCARE_PUBLIC_URL = env_str("SELFCARE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
SELFCARE_TOPUP_MIN_MINOR = env_int("SELFCARE_TOPUP_MIN_MINOR", 1_000)
SELFCARE_TOPUP_MAX_MINOR = env_int("SELFCARE_TOPUP_MAX_MINOR", 1_500_000)
SELFCARE_TOPUP_QUICK_AMOUNTS_MINOR = [
    int(v) for v in env_list("SELFCARE_TOPUP_QUICK_AMOUNTS_MINOR", ["10000", "30000", "50000", "100000"])
]
SELFCARE_PAYMENT_RECONCILE_AFTER_MIN = env_int("SELFCARE_PAYMENT_RECONCILE_AFTER_MIN", 10)
SELFCARE_PAYMENT_EXPIRE_AFTER_MIN = env_int("SELFCARE_PAYMENT_EXPIRE_AFTER_MIN", 24 * 60)
SELFCARE_WEBHOOK_TOLERANCE_S = env_int("SELFCARE_WEBHOOK_TOLERANCE_S", 300)
SELFCARE_AUTOPAY_MAX_PER_MONTH = env_int("SELFCARE_AUTOPAY_MAX_PER_MONTH", 5)
SELFCARE_FAKE_ACQUIRER_SECRET = env_str("SELFCARE_FAKE_ACQUIRER_SECRET") or f"fake-acquirer:{SECRET_KEY}"
# The simulator's on-demand delivery tricks (duplicate, late, out of order) at /fake-acquirer/test-hooks/.
SELFCARE_FAKE_ACQUIRER_TEST_HOOKS = env_bool("SELFCARE_FAKE_ACQUIRER_TEST_HOOKS", default=DEMO or DEBUG)
# The simulator posts its webhooks to SELFCARE_PUBLIC_URL as soon as it can (off: only the periodic job).
SELFCARE_FAKE_ACQUIRER_AUTODELIVER = env_bool("SELFCARE_FAKE_ACQUIRER_AUTODELIVER", default=True)
SELFCARE_FAKE_ACQUIRER_TRANSPORT = "selfcare.payments.providers.fake.acquirer.http_transport"
SELFCARE_STRIPE_SECRET_KEY = env_str("SELFCARE_STRIPE_SECRET_KEY")
SELFCARE_STRIPE_WEBHOOK_SECRET = env_str("SELFCARE_STRIPE_WEBHOOK_SECRET")
SELFCARE_STRIPE_API_BASE = env_str("SELFCARE_STRIPE_API_BASE")  # a stub's address in tests; empty: Stripe's
SELFCARE_YOOKASSA_SHOP_ID = env_str("SELFCARE_YOOKASSA_SHOP_ID")
SELFCARE_YOOKASSA_SECRET_KEY = env_str("SELFCARE_YOOKASSA_SECRET_KEY")
SELFCARE_YOOKASSA_API_URL = env_str("SELFCARE_YOOKASSA_API_URL")  # a stub's address in tests

# --- Billing (docs/billing.md) ---------------------------------------------------------------------
# Lines per transaction of the recurring-fee job: a crash loses at most one chunk of work, redone on rerun.
SELFCARE_BILLING_CHUNK_SIZE = env_int("SELFCARE_BILLING_CHUNK_SIZE", 500)
# A fee that takes the balance below this (minor units) sends one low-balance SMS; 0 turns it off.
SELFCARE_LOW_BALANCE_THRESHOLD_MINOR = env_int("SELFCARE_LOW_BALANCE_THRESHOLD_MINOR", 5_000)
# A tariff's change fee is charged when the line's previous tariff change was less than this many days ago.
SELFCARE_TARIFF_CHANGE_FEE_WINDOW_DAYS = env_int("SELFCARE_TARIFF_CHANGE_FEE_WINDOW_DAYS", 30)
# The numbers of a black list switched off are kept this many days (reconnecting brings them back).
SELFCARE_BLACK_LIST_RETENTION_DAYS = env_int("SELFCARE_BLACK_LIST_RETENTION_DAYS", 30)

# --- Call-detail statements (docs/statements.md) ----------------------------------------------------
# Where the documents are written (a volume every web and worker process shares); deleted after retention.
SELFCARE_STATEMENTS_DIR = Path(env_str("SELFCARE_STATEMENTS_DIR") or DATA_DIR / "statements").resolve()
SELFCARE_STATEMENT_HISTORY_MONTHS = env_int("SELFCARE_STATEMENT_HISTORY_MONTHS", 6)
SELFCARE_STATEMENT_RETENTION_DAYS = env_int("SELFCARE_STATEMENT_RETENTION_DAYS", 7)
SELFCARE_STATEMENT_LINK_TTL_S = env_int("SELFCARE_STATEMENT_LINK_TTL_S", 15 * 60)
# The price of one order in minor units, posted to the ledger when it is placed; 0: free.
SELFCARE_STATEMENT_FEE_MINOR = env_int("SELFCARE_STATEMENT_FEE_MINOR", 0)

# --- Company documents (docs/documents.md) ----------------------------------------------------------
# Where invoices, acts and reconciliation statements are written (a volume web and workers share). Kept:
# accounting documents are not deleted after a retention period.
SELFCARE_DOCUMENTS_DIR = Path(env_str("SELFCARE_DOCUMENTS_DIR") or DATA_DIR / "documents").resolve()
# VAT included in every price, in whole percent (0: no VAT line).
SELFCARE_VAT_RATE_PERCENT = env_int("SELFCARE_VAT_RATE_PERCENT", 20)
# The operator's legal details printed on the documents.
SELFCARE_OPERATOR_LEGAL_NAME = env_str("SELFCARE_OPERATOR_LEGAL_NAME") or SELFCARE_OPERATOR_NAME
SELFCARE_OPERATOR_TAX_ID = env_str("SELFCARE_OPERATOR_TAX_ID", "7700000000")
SELFCARE_OPERATOR_ADDRESS = env_str("SELFCARE_OPERATOR_ADDRESS", "1 Example Street, Moscow")
SELFCARE_OPERATOR_BANK_DETAILS = env_str("SELFCARE_OPERATOR_BANK_DETAILS")

# --- E-mail ---------------------------------------------------------------------------------------------
# smtp://user:password@host:587?tls=1 (or ?ssl=1); empty: printed to the console (the demo's default).
SELFCARE_EMAIL_URL = env_str("SELFCARE_EMAIL_URL")
_email = email_from_url(SELFCARE_EMAIL_URL)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = _email.get("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("SELFCARE_EMAIL_FROM", "selfcare@localhost")

# --- Security -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "selfcare.identity.validators.SubscriberPasswordValidator"},
]
AUTH_USER_MODEL = "identity.User"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]

_insecure_http = DEMO or DEBUG or env_bool("SELFCARE_INSECURE_HTTP")
SESSION_COOKIE_SECURE = not _insecure_http
CSRF_COOKIE_SECURE = not _insecure_http
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SECURE_HSTS_SECONDS = 0 if _insecure_http else env_int("SELFCARE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not _insecure_http
SECURE_SSL_REDIRECT = env_bool("SELFCARE_SSL_REDIRECT", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SELFCARE_BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# --- Static ---------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# Project-wide assets (vendored Pico, htmx, Vazirmatn; app.css) live beside the package, not in an app.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# `selfcare serve` collects static files here and lets granian serve them (--static-path-mount);
# a reverse proxy can take over /static/ in larger deployments.

LOGIN_URL = "/login/"

# --- Identity (docs/identity.md explains each number) -----------------------------------------------
SELFCARE_OTP_TTL_S = env_int("SELFCARE_OTP_TTL_S", 300)
SELFCARE_OTP_MAX_ATTEMPTS = env_int("SELFCARE_OTP_MAX_ATTEMPTS", 5)
SELFCARE_OTP_RESEND_COOLDOWN_S = env_int("SELFCARE_OTP_RESEND_COOLDOWN_S", 60)
SELFCARE_OTP_SENDS_PER_NUMBER_10MIN = env_int("SELFCARE_OTP_SENDS_PER_NUMBER_10MIN", 3)
SELFCARE_OTP_SENDS_PER_NUMBER_DAY = env_int("SELFCARE_OTP_SENDS_PER_NUMBER_DAY", 10)
SELFCARE_OTP_REQUESTS_PER_IP_10MIN = env_int("SELFCARE_OTP_REQUESTS_PER_IP_10MIN", 10)
SELFCARE_OTP_REQUESTS_PER_IP_DAY = env_int("SELFCARE_OTP_REQUESTS_PER_IP_DAY", 50)
SELFCARE_OTP_CHECKS_PER_NUMBER_10MIN = env_int("SELFCARE_OTP_CHECKS_PER_NUMBER_10MIN", 10)
SELFCARE_OTP_CHECKS_PER_IP_10MIN = env_int("SELFCARE_OTP_CHECKS_PER_IP_10MIN", 30)
# Against SMS pumping: at most this many codes a day to numbers starting with the same prefix
# (the first SELFCARE_OTP_PREFIX_LENGTH characters of the E.164 form, "+7900" by default).
SELFCARE_OTP_PREFIX_LENGTH = env_int("SELFCARE_OTP_PREFIX_LENGTH", 5)
SELFCARE_OTP_SENDS_PER_PREFIX_DAY = env_int("SELFCARE_OTP_SENDS_PER_PREFIX_DAY", 5000)
SELFCARE_LOGIN_FREE_FAILURES_PER_ACCOUNT = env_int("SELFCARE_LOGIN_FREE_FAILURES_PER_ACCOUNT", 5)
SELFCARE_LOGIN_FREE_FAILURES_PER_IP = env_int("SELFCARE_LOGIN_FREE_FAILURES_PER_IP", 20)
SELFCARE_LOGIN_DELAY_BASE_S = env_int("SELFCARE_LOGIN_DELAY_BASE_S", 2)
SELFCARE_LOGIN_DELAY_MAX_S = env_int("SELFCARE_LOGIN_DELAY_MAX_S", 900)
SELFCARE_LOGIN_FAILURE_MEMORY_S = env_int("SELFCARE_LOGIN_FAILURE_MEMORY_S", 24 * 3600)
SELFCARE_NEW_DEVICE_CONFIRMATION = env_bool("SELFCARE_NEW_DEVICE_CONFIRMATION", default=True)
SELFCARE_SESSION_IDLE_TIMEOUT_S = env_int("SELFCARE_SESSION_IDLE_TIMEOUT_S", 30 * 60)
SELFCARE_SESSION_ABSOLUTE_TIMEOUT_S = env_int("SELFCARE_SESSION_ABSOLUTE_TIMEOUT_S", 12 * 3600)
SESSION_COOKIE_AGE = SELFCARE_SESSION_ABSOLUTE_TIMEOUT_S
SELFCARE_ACCESS_TOKEN_TTL_S = env_int("SELFCARE_ACCESS_TOKEN_TTL_S", 600)
SELFCARE_REFRESH_TOKEN_TTL_S = env_int("SELFCARE_REFRESH_TOKEN_TTL_S", 30 * 24 * 3600)
SELFCARE_DEVICE_COOKIE_NAME = "selfcare_device"
# Behind a proxy that sets the client address in a header, name it here ("HTTP_X_REAL_IP").
SELFCARE_CLIENT_IP_HEADER = env_str("SELFCARE_CLIENT_IP_HEADER")
SELFCARE_THROTTLE_KEY_PREFIX = env_str("SELFCARE_THROTTLE_KEY_PREFIX", "selfcare")

# --- Business applications and invitations (docs/companies.md) ------------------------------------
# At most this many numbers (each with its PUK) in one application.
SELFCARE_BUSINESS_MAX_NUMBERS = env_int("SELFCARE_BUSINESS_MAX_NUMBERS", 50)
# Every check of a number's PUK counts, from any address: this many an hour per number.
SELFCARE_BUSINESS_PUK_TRIES_PER_NUMBER_HOUR = env_int("SELFCARE_BUSINESS_PUK_TRIES_PER_NUMBER_HOUR", 5)
# Wrong number/PUK pairs sent from one address in an hour before its applications are refused.
SELFCARE_BUSINESS_PUK_FAILURES_PER_IP_HOUR = env_int("SELFCARE_BUSINESS_PUK_FAILURES_PER_IP_HOUR", 10)
# Applications (valid or not) one address may send in a day.
SELFCARE_BUSINESS_APPLICATIONS_PER_IP_DAY = env_int("SELFCARE_BUSINESS_APPLICATIONS_PER_IP_DAY", 20)
# How long an invitation link to a company works.
SELFCARE_INVITATION_TTL_H = env_int("SELFCARE_INVITATION_TTL_H", 7 * 24)

# --- Logging --------------------------------------------------------------------------------------
SELFCARE_LOG_JSON = env_bool("SELFCARE_LOG_JSON", default=not (DEMO or DEBUG))
SELFCARE_LOG_LEVEL = env_str("SELFCARE_LOG_LEVEL", "INFO").upper()
LOGGING_CONFIG = None  # configured by selfcare.logging_setup, below, so that structlog owns the format

from selfcare.logging_setup import configure_logging  # noqa: E402

configure_logging(json=SELFCARE_LOG_JSON, level=SELFCARE_LOG_LEVEL)
