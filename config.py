"""Configuration classes. Every value can be set from the environment; the
defaults are the embedded ones (SQLite file, local-folder storage, simulated
payments) so that ``make run`` works on a fresh machine."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def instance_dir() -> Path:
    """The instance folder (SQLite file, local storage, generated keys): ``MARKETPLACE_INSTANCE_DIR`` or instance/."""
    return Path(os.environ.get("MARKETPLACE_INSTANCE_DIR", BASE_DIR / "instance"))


class _Env:
    """A setting read from the environment each time a config is loaded, not once when this module is imported:
    the instance folder, the secrets and what production checks follow the environment of the moment (tests and
    ``flask config check`` set it after import). ``default`` may be a function of nothing."""

    def __init__(self, name: str, default: str | Callable[[], str] | None = None) -> None:
        self.name = name
        self.default = default

    def __get__(self, obj: object, owner: type | None = None) -> str | None:
        value = os.environ.get(self.name)
        if value is not None:
            return value
        return self.default() if callable(self.default) else self.default


class _EnvFlag(_Env):
    """A yes/no setting read from the environment each time a config is loaded (as ``_Env``)."""

    def __get__(self, obj: object, owner: type | None = None) -> bool:  # type: ignore[override]
        value = os.environ.get(self.name)
        return self.default if value is None else value.lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


class Config:
    # Signs session cookies. Development without it keeps a random one in the instance folder; no config but
    # testing starts with a missing, short or well-known key (marketplace/config_check.py).
    SECRET_KEY = _Env("SECRET_KEY")
    SECRET_KEY_IN_INSTANCE = False
    # Production only: HSTS, Secure cookies and the refusals of config_check.production_problems.
    PRODUCTION = False
    SQLALCHEMY_DATABASE_URI = _Env("DATABASE_URL", lambda: f"sqlite:///{instance_dir() / 'marketplace.db'}")
    # A pooled connection is tested before use and replaced if the server dropped it (a PostgreSQL restart, an idle
    # timeout), so the first request after a restart is served instead of failing on a dead connection.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")
    STORAGE_LOCAL_ROOT = _Env("STORAGE_LOCAL_ROOT", lambda: str(instance_dir() / "storage"))
    S3_BUCKET = os.environ.get("S3_BUCKET", "marketplace")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL")
    S3_REGION = os.environ.get("S3_REGION", "us-east-1")
    S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID")
    S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY")
    S3_PREFIX = os.environ.get("S3_PREFIX", "")
    # Maps of GeoJSON and latitude/longitude samples draw their features on a blank background by default (nothing
    # is fetched from elsewhere). MAP_TILE_URL names a tile server to draw under them, as Leaflet takes it
    # ("https://tiles.example.org/{z}/{x}/{y}.png"); its origin is added to the CSP's img-src. MAP_TILE_ATTRIBUTION
    # is the credit its terms ask for, shown on the map.
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
    MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
    # Seconds to wait for the S3 endpoint to accept a connection and to answer, per attempt (three attempts): past
    # them the request is answered 503 rather than held (botocore's own defaults are a minute each).
    S3_CONNECT_TIMEOUT = _int("S3_CONNECT_TIMEOUT", 5)
    S3_READ_TIMEOUT = _int("S3_READ_TIMEOUT", 60)
    # Payments: "simulated" (a checkout page in the app) or "stripe" (Checkout Sessions, test mode keys).
    PAYMENTS_BACKEND = _Env("PAYMENTS_BACKEND", "simulated")
    STRIPE_SECRET_KEY = _Env("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = _Env("STRIPE_WEBHOOK_SECRET")
    # Where the Stripe SDK sends API calls (tests point it at a Stripe-compatible stub on loopback).
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE")
    # How often the SDK retries a failed call (with the same idempotency key).
    STRIPE_MAX_NETWORK_RETRIES = _int("STRIPE_MAX_NETWORK_RETRIES", 2)
    # Seconds a webhook signature's timestamp may be old (Stripe's SDK default is 300).
    STRIPE_WEBHOOK_TOLERANCE = _int("STRIPE_WEBHOOK_TOLERANCE", 300)
    # Seconds to wait for Stripe to answer one call before it counts as an outage (503 to the client).
    STRIPE_TIMEOUT = _int("STRIPE_TIMEOUT", 20)
    # Stripe Connect: the signing secret of the Connect webhook endpoint (events of sellers' connected accounts;
    # it may post to /webhooks/stripe as well), and the country sellers' Express accounts are opened in.
    STRIPE_CONNECT_WEBHOOK_SECRET = _Env("STRIPE_CONNECT_WEBHOOK_SECRET")
    STRIPE_CONNECT_COUNTRY = os.environ.get("STRIPE_CONNECT_COUNTRY", "HK")
    # Orders: days a request waits for the seller, hours an order waits for payment, before the system expires it.
    ORDER_APPROVAL_DAYS = _int("ORDER_APPROVAL_DAYS", 45)
    ORDER_PAYMENT_HOURS = _int("ORDER_PAYMENT_HOURS", 24)
    # Days a trade waits for the buyer's evidence of its cross-boundary mechanism before it expires.
    CROSS_BOUNDARY_EVIDENCE_DAYS = _int("CROSS_BOUNDARY_EVIDENCE_DAYS", 14)
    # The largest evidence document (a filed contract, a certificate) a buyer may attach to that evidence.
    CROSS_BOUNDARY_EVIDENCE_MAX_BYTES = _int("CROSS_BOUNDARY_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
    # The platform's fee on each sale in basis points (1000 = 10 %), unless the seller has a rate of its own; and
    # how many days after its payment a sale's money becomes available to the seller.
    PLATFORM_FEE_BPS = _int("PLATFORM_FEE_BPS", 1000)
    SETTLEMENT_DELAY_DAYS = _int("SETTLEMENT_DELAY_DAYS", 7)
    # Payouts (a daily run): the least amount paid out, in minor units, and the days a simulated payout takes to
    # arrive (a Stripe payout arrives when Stripe says so).
    PAYOUT_MINIMUM = _int("PAYOUT_MINIMUM", 100)
    PAYOUT_TRANSIT_DAYS = _int("PAYOUT_TRANSIT_DAYS", 2)
    # Licence certificates are signed with Ed25519: a PEM private key given inline or as a file. Without either,
    # development generates one into the instance folder on first use (production refuses to start).
    LICENCE_SIGNING_KEY = _Env("LICENCE_SIGNING_KEY")
    LICENCE_SIGNING_KEY_FILE = _Env("LICENCE_SIGNING_KEY_FILE", lambda: str(instance_dir() / "licence-signing-key.pem"))
    # Lifetime of a presigned download URL (S3 storage), in seconds.
    DOWNLOAD_URL_SECONDS = _int("DOWNLOAD_URL_SECONDS", 60)
    # Mail: "console" (printed, development), "memory" (tests) or "smtp" (SMTP_HOST, SMTP_PORT, from MAIL_SENDER).
    MAIL_BACKEND = _Env("MAIL_BACKEND", "console")
    SMTP_HOST = _Env("SMTP_HOST")
    SMTP_PORT = _Env("SMTP_PORT", "25")
    MAIL_SENDER = _Env("MAIL_SENDER", "marketplace@localhost")
    # Largest accepted upload (asset files); requests above it get 413.
    MAX_UPLOAD_BYTES = _int("MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
    # Request bodies (forms, JSON) are capped separately from file uploads.
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    INVITATION_DAYS = _int("INVITATION_DAYS", 14)
    # Where links in e-mails point.
    PUBLIC_BASE_URL = _Env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # Background jobs (huey): JOBS_URL names the queue, a SQLite file (sqlite:///path, the default in the
    # instance folder, nothing to start) or Redis (redis://host:6379/0, unix:///run/redis.sock) shared by every
    # machine. JOBS_IMMEDIATE runs each job inside the call that enqueues it (tests). JOBS_WORKERS: threads of
    # `flask jobs worker`. JOBS_LEASE_SECONDS: how long a claimed outbox row or pre-screen waits for its worker
    # before another may take it over (a worker killed mid-job). Outbox rows are tried OUTBOX_MAX_ATTEMPTS times,
    # OUTBOX_RETRY_SECONDS after the first failure, doubling each time.
    JOBS_URL = _Env("JOBS_URL", lambda: f"sqlite:///{instance_dir() / 'jobs.db'}")
    JOBS_IMMEDIATE = _EnvFlag("JOBS_IMMEDIATE", False)
    JOBS_WORKERS = _int("JOBS_WORKERS", 2)
    JOBS_LEASE_SECONDS = _int("JOBS_LEASE_SECONDS", 300)
    OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 10)
    OUTBOX_RETRY_SECONDS = _int("OUTBOX_RETRY_SECONDS", 30)
    # Organization webhook endpoints: how many an organization may register, a delivery's timeout and how much of
    # the answer is read, the first retry's wait (doubling, at most WEBHOOK_RETRY_MAX_SECONDS) and how long a
    # delivery is retried before it is failed. WEBHOOKS_ALLOW_PRIVATE_TARGETS lets endpoints on loopback, private
    # and link-local addresses be registered and called: tests and local development only (production refuses it).
    WEBHOOK_MAX_ENDPOINTS = _int("WEBHOOK_MAX_ENDPOINTS", 10)
    WEBHOOK_TIMEOUT_SECONDS = _int("WEBHOOK_TIMEOUT_SECONDS", 10)
    WEBHOOK_MAX_RESPONSE_BYTES = _int("WEBHOOK_MAX_RESPONSE_BYTES", 4096)
    WEBHOOK_RETRY_SECONDS = _int("WEBHOOK_RETRY_SECONDS", 60)
    WEBHOOK_RETRY_MAX_SECONDS = _int("WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600)
    WEBHOOK_RETRY_FOR_SECONDS = _int("WEBHOOK_RETRY_FOR_SECONDS", 3 * 86_400)
    WEBHOOKS_ALLOW_PRIVATE_TARGETS = _EnvFlag("WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)
    # Rows the pre-screen's personal-information scan reads per file (bounded time and memory): the same for the
    # seller's "check my listing" and the worker's scan on submission, so both report the same extent.
    PRESCREEN_MAX_ROWS = _int("PRESCREEN_MAX_ROWS", 200_000)
    # Values (non-empty cells) the scan reads per file at most, so a file of thousands of columns stops before its
    # row cap; a scan stopped by either limit is reported as partial.
    PRESCREEN_MAX_CELLS = _int("PRESCREEN_MAX_CELLS", 5_000_000)
    # DCAT-AP export: datasets per page of /catalog.jsonld and .ttl, and the catalog's own licence (a URL) if any.
    DCAT_PAGE_SIZE = _int("DCAT_PAGE_SIZE", 100)
    DCAT_CATALOG_LICENSE = os.environ.get("DCAT_CATALOG_LICENSE", "")
    # argon2id cost: OWASP's recommended minimum is 19 MiB with 2 passes; argon2-cffi's default is 64 MiB, 3 passes.
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_KIB = _int("ARGON2_MEMORY_KIB", 65536)

    API_TITLE = "Data Product Marketplace API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    # Served by the app itself from the swagger-ui-bundle package (users may be offline).
    OPENAPI_SWAGGER_UI_URL = "/api/v1/docs/static/"

    # ---------------------------------------------------------------- data service providers (assessments)
    # On: a version is approved only with a signed compliance assessment by a data service provider whose
    # conclusion is not "fail" (review refuses the approval and says why). Off by default.
    REQUIRE_COMPLIANCE_ASSESSMENT = _bool("REQUIRE_COMPLIANCE_ASSESSMENT", False)

    # ---------------------------------------------------------------- abuse: rate limits and request bodies
    # Flask-Limiter. Limits are "N per minute; M per hour" strings (the limits library's notation), keyed as noted.
    # Counters live in process memory (memory://, one machine and one worker) or in Redis (redis://host:6379/0,
    # redis+unix:///run/redis.sock) so that every worker and machine shares them; production requires Redis.
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = _Env("RATELIMIT_STORAGE_URI", "memory://")
    # A moving window counts exactly N per any 60 s (a fixed window lets 2N through across a boundary).
    RATELIMIT_STRATEGY = os.environ.get("RATELIMIT_STRATEGY", "moving-window")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "marketplace")
    # If Redis is unreachable, count in each process's memory meanwhile rather than answer 500 or stop limiting.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = _bool("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # Log-in: per client address (an office behind one NAT still gets 10 a minute), and per submitted e-mail
    # (guessing one account's password from many addresses); the account lockout comes on top.
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute; 100 per hour")
    RATELIMIT_LOGIN_EMAIL = os.environ.get("RATELIMIT_LOGIN_EMAIL", "5 per minute; 30 per hour")
    # Sign-up, password reset and verification resend send e-mail: per address, and per e-mail for reset and
    # resend (no mail-bombing one inbox).
    RATELIMIT_SIGNUP = os.environ.get("RATELIMIT_SIGNUP", "5 per minute; 20 per hour")
    RATELIMIT_SIGNUP_EMAIL = os.environ.get("RATELIMIT_SIGNUP_EMAIL", "3 per hour")
    RATELIMIT_PASSWORD_RESET = os.environ.get("RATELIMIT_PASSWORD_RESET", "5 per minute; 20 per hour")
    RATELIMIT_PASSWORD_RESET_EMAIL = os.environ.get("RATELIMIT_PASSWORD_RESET_EMAIL", "3 per hour")
    RATELIMIT_VERIFICATION_RESEND = os.environ.get("RATELIMIT_VERIFICATION_RESEND", "5 per minute; 20 per hour")
    RATELIMIT_VERIFICATION_RESEND_EMAIL = os.environ.get("RATELIMIT_VERIFICATION_RESEND_EMAIL", "3 per hour")
    # Creating personal API tokens, per signed-in user.
    RATELIMIT_API_TOKEN = os.environ.get("RATELIMIT_API_TOKEN", "10 per hour")
    # Invitations, per signed-in user (page and API together): each one mails an address the inviter chooses.
    RATELIMIT_INVITE = os.environ.get("RATELIMIT_INVITE", "5 per minute; 20 per hour")
    # Every POST/PUT/PATCH/DELETE under /api/v1, one budget per token's user (per address for public ones).
    RATELIMIT_API_WRITE = os.environ.get("RATELIMIT_API_WRITE", "120 per minute; 3000 per hour")
    # Catalog search on "database" (its full-text index) or "tantivy" (an embedded engine whose index lives in
    # SEARCH_INDEX_DIR, one per machine, following the database's change log: catalog/engine_search.py).
    SEARCH_ENGINE = _Env("SEARCH_ENGINE", "tantivy")
    SEARCH_INDEX_DIR = _Env("SEARCH_INDEX_DIR", lambda: str(instance_dir() / "catalog-index"))
    # Each process's follower reads the change log this often (seconds), and at once after a change of its own;
    # 0: no follower, the first search after a change applies it.
    SEARCH_FOLLOW_SECONDS = float(os.environ.get("SEARCH_FOLLOW_SECONDS", "0.25"))
    # The change log's rows are kept this many days (a daily job deletes older ones, never the newest).
    CATALOG_CHANGES_KEEP_DAYS = _int("CATALOG_CHANGES_KEEP_DAYS", 7)
    # Catalog search: the page, /api/v1/catalog and CKAN package_search share one budget per client address.
    RATELIMIT_SEARCH = os.environ.get("RATELIMIT_SEARCH", "120 per minute; 3000 per hour")
    RATELIMIT_PRESCREEN_CHECK = os.environ.get("RATELIMIT_PRESCREEN_CHECK", "6 per minute; 60 per hour")
    # Reverse proxies in front of the app that append the client to X-Forwarded-For. 0 (the default): the peer
    # address is the client and X-Forwarded-For is ignored, since any client can write it.
    TRUSTED_PROXY_COUNT = _int("TRUSTED_PROXY_COUNT", 0)
    # Request bodies other than uploads: JSON (and anything sent to /api/ or /webhooks/) and page forms have
    # their own caps. JSON may nest this deep (ours nests a few levels; Python's parser recurses once per level).
    JSON_MAX_BYTES = _int("JSON_MAX_BYTES", 1024 * 1024)
    JSON_MAX_DEPTH = _int("JSON_MAX_DEPTH", 32)
    FORM_MAX_BYTES = _int("FORM_MAX_BYTES", 2 * 1024 * 1024)

    # ---------------------------------------------------------------- public notice and registration
    # Days an approved version stays on public notice (objections are taken until it ends). TRADING_STARTS_AT:
    # "approval" lists the version at once, the notice running beside it; "notice_end" lists it only when the
    # notice ends without an upheld objection. A registration certificate is valid REGISTRATION_VALIDITY_DAYS;
    # its holder is reminded REGISTRATION_REMINDER_DAYS before it expires (comma-separated), and may ask for
    # renewal from REGISTRATION_RENEWAL_WINDOW_DAYS before. Objection evidence is at most NOTICE_EVIDENCE_MAX_BYTES.
    PUBLIC_NOTICE_DAYS = _int("PUBLIC_NOTICE_DAYS", 15)
    TRADING_STARTS_AT = os.environ.get("TRADING_STARTS_AT", "approval")
    REGISTRATION_VALIDITY_DAYS = _int("REGISTRATION_VALIDITY_DAYS", 1095)
    REGISTRATION_REMINDER_DAYS = os.environ.get("REGISTRATION_REMINDER_DAYS", "60,14")
    REGISTRATION_RENEWAL_WINDOW_DAYS = _int("REGISTRATION_RENEWAL_WINDOW_DAYS", 90)
    NOTICE_EVIDENCE_MAX_BYTES = _int("NOTICE_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
    # The document a data service provider's application may carry (its upload endpoints take this much).
    PROVIDER_DOCUMENT_MAX_BYTES = _int("PROVIDER_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)


class DevelopmentConfig(Config):
    DEBUG = _bool("FLASK_DEBUG", False)
    # Without SECRET_KEY, a random key is created in instance/secret_key on first run and kept.
    SECRET_KEY_IN_INSTANCE = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    MAX_UPLOAD_BYTES = 1024 * 1024
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 64 * 1024
    MAIL_BACKEND = "memory"
    # Jobs run inside the call that enqueues them; tests of the queue itself set JOBS_IMMEDIATE=false.
    JOBS_IMMEDIATE = _EnvFlag("JOBS_IMMEDIATE", True)
    # A test's session is one connection inside its own transaction, which a follower thread must not share.
    SEARCH_FOLLOW_SECONDS = 0.0
    # The suite's webhook receivers listen on loopback; retries come a second apart.
    WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    WEBHOOK_RETRY_SECONDS = 1
    WEBHOOK_TIMEOUT_SECONDS = 3
    # Cheap hashing keeps the suite fast; the algorithm and code path are the production ones.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 1024

    # ---------------------------------------------------------------- abuse
    # Off for the suite; tests of the limits build their own app with RATELIMIT_ENABLED=True.
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"


class ProductionConfig(Config):
    # create_app refuses to start while config_check.production_problems finds anything (one error naming all).
    PRODUCTION = True
    DEBUG = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # Only a key the deployment names: never the one development generates into the instance folder.
    LICENCE_SIGNING_KEY_FILE = _Env("LICENCE_SIGNING_KEY_FILE")
    # Only a database the deployment names: the SQLite file in the instance folder serves one machine only.
    SQLALCHEMY_DATABASE_URI = _Env("DATABASE_URL")
    # Only a store the deployment names: in memory, each worker would count alone.
    RATELIMIT_STORAGE_URI = _Env("RATELIMIT_STORAGE_URI")
    # Limits stay on (production refuses RATELIMIT_ENABLED=false). With Redis unreachable, limited endpoints answer
    # 503 rather than count in each worker's memory (N workers would let N times each limit through, unnoticed);
    # production refuses the fallback switched back on.
    RATELIMIT_ENABLED = _EnvFlag("RATELIMIT_ENABLED", True)
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = _EnvFlag("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", False)


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}
