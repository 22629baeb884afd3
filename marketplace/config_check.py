"""What a configuration must hold before the app serves anyone.

Every config but testing needs a secret key of its own: long, and not one printed in a repository or a tutorial
(a session cookie signed with a known key lets anyone sign in as anyone). Development without ``SECRET_KEY`` keeps
a random key in the instance folder (``instance/secret_key``, mode 0600), created on first run and kept.

Production also refuses the embedded toys: the SQLite file the app would create in the instance folder (a
database must be named in ``DATABASE_URL``), rate limits counted in each worker's memory, simulated payments,
console or in-memory mail, a licence-signing key the app would generate, debug, rate limits switched off or
falling back to per-worker counting when Redis is down, and a public address that is not a plain https URL.
``create_app`` refuses to start naming every problem at once; ``flask config check`` lists what the current environment
still lacks for production.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
import threading
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.helpers import get_debug_flag
from limits import parse_many
from limits.storage import storage_from_string
from zxcvbn import zxcvbn

from config import ProductionConfig, instance_dir

log = logging.getLogger(__name__)

MIN_SECRET_KEY_LENGTH = 32
# Keys that appear in this repository's history, in Flask's documentation and in common examples.
KNOWN_SECRET_KEYS = frozenset({
    "dev-only-not-secret", "x", "secret", "secret-key", "secret_key", "secretkey", "mysecret", "my-secret-key",
    "changeme", "change-me", "change_me", "changethis", "please-change-me", "testing", "test", "dev", "development",
    "default", "password", "your-secret-key", "your_secret_key", "super-secret", "supersecret", "insecure",
    "192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf",  # Flask's docs: "generate a key like this"
})
# The estimator (zxcvbn: dictionaries, keyboard walks, sequences, repeats, dates) must put a key's guesses at
# 10**25 or more (about 83 bits). It rates random hex at 10**1 a character (128-bit token_hex(16): 10**26.6 at
# worst of 10,000), so 10**25 is as high as random keys of 32 characters allow; separators are dropped before
# scoring, since they would count as random characters between the words of a passphrase.
MIN_SECRET_KEY_GUESSES_LOG10 = 25
# zxcvbn refuses more than 72 characters and takes ~20 ms for 64: score the first 64 (a random key's strength is
# long past this bound by then).
SCORED_KEY_CHARS = 64
# Shorter known keys ("x", "dev", "test") occur by chance in random keys; these do not.
KNOWN_KEY_MIN_LENGTH_INSIDE = 6
SECRET_KEY_FILE = "secret_key"
# Rate-limit stores every worker and machine shares (the limits library's Redis schemes).
SHARED_RATELIMIT_SCHEMES = frozenset({"redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster"})


class ConfigurationError(RuntimeError):
    """The app refuses to start: ``problems`` names each setting to fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("The configuration is refused:\n" + "\n".join(f"  - {p}" for p in problems))


def _smallest_period(text: str) -> int:
    """The length of the shortest unit that ``text`` repeats ("abcab" -> 3), its own length if none."""
    border = [0] * len(text)  # border[i]: the longest proper prefix of text[:i + 1] that is also its suffix
    k = 0
    for i in range(1, len(text)):
        while k and text[i] != text[k]:
            k = border[k - 1]
        if text[i] == text[k]:
            k += 1
        border[i] = k
    return len(text) - (border[-1] if text else 0)


def secret_key_problem(key: Any) -> str | None:
    """Why ``key`` cannot sign sessions, or None: missing, well known or containing a well-known value, short, made
    of a few characters, or a shorter unit repeated ("1234567890" three times and a bit). A random key (as
    ``secrets.token_urlsafe`` or ``token_hex`` make) passes."""
    if not key:
        return "SECRET_KEY is not set: set it to a random value of at least 32 characters " \
               "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    # Full-width and other compatibility forms read as the ASCII they mimic ("ｃｏｒｒｅｃｔ" is "correct").
    text = unicodedata.normalize("NFKC", text)
    folded = text.strip().lower()
    if folded in KNOWN_SECRET_KEYS:
        return "SECRET_KEY is a well-known value that anyone can sign sessions with: set a random one."
    inside = next((known for known in sorted(KNOWN_SECRET_KEYS, key=len, reverse=True)
                   if len(known) >= KNOWN_KEY_MIN_LENGTH_INSIDE and known in folded), None)
    if inside:
        return f"SECRET_KEY contains the well-known value {inside!r}: whoever guesses the rest signs sessions; " \
               f"set a random one."
    if len(text) < MIN_SECRET_KEY_LENGTH:
        return f"SECRET_KEY is {len(text)} characters long: use a random value of at least {MIN_SECRET_KEY_LENGTH}."
    if len(set(text)) < 8:
        return "SECRET_KEY repeats a few characters: use a random value."
    period = _smallest_period(text)
    if period <= len(text) // 2:
        return f"SECRET_KEY repeats a unit of {period} characters: its strength is that of the unit; set a random " \
               f"value."
    scored = re.sub(r"[\W_]+", "", text)[:SCORED_KEY_CHARS]
    if not scored or zxcvbn(scored)["guesses_log10"] < MIN_SECRET_KEY_GUESSES_LOG10:
        return "SECRET_KEY is made of words, keyboard rows or sequences that are guessed far sooner than its " \
               "length suggests: set a random value."
    return None


def _database_problem(config: Mapping[str, Any]) -> str | None:
    url = str(config.get("SQLALCHEMY_DATABASE_URI") or "").strip()
    if not url:
        return "DATABASE_URL is not set: production needs the shared database named explicitly (e.g. " \
               "postgresql+psycopg://user:password@host/marketplace); the SQLite file the app would create in " \
               "the instance folder serves one machine only."
    if url.startswith("sqlite") and (url.rstrip("/").endswith(("sqlite:", ":memory:")) or "mode=memory" in url):
        return "DATABASE_URL names an in-memory SQLite database: everything would vanish with the process."
    return None


def _ratelimit_storage_problem(config: Mapping[str, Any]) -> str | None:
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "").strip()
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme not in SHARED_RATELIMIT_SCHEMES:
        return f"RATELIMIT_STORAGE_URI is {uri or 'not set'!r}: production counts rate limits in Redis, which " \
               f"every worker and machine shares (redis://host:6379/0, rediss://... or " \
               f"redis+unix:///run/redis.sock); in memory each worker counts alone, so N workers let N times each " \
               f"limit through."
    if scheme in ("redis", "rediss") and not urlsplit(uri).hostname:
        return f"RATELIMIT_STORAGE_URI is {uri!r}: name the Redis host (redis://host:6379/0)."
    try:
        storage_from_string(uri)  # reads the address only: nothing connects before the first limited request
    except Exception as exc:  # noqa: BLE001 - whatever the rate limiter refuses is refused here, in one sentence
        return f"RATELIMIT_STORAGE_URI is {uri!r}, which the rate limiter cannot use: {exc}"
    return None


def _jobs_problems(config: Mapping[str, Any]) -> list[str]:
    problems = []
    if config.get("JOBS_IMMEDIATE"):
        problems.append("JOBS_IMMEDIATE is on: every job would run inside the request that queues it (mail and "
                        "pre-screens back on the request, and no retries while the mail server is down).")
    url = str(config.get("JOBS_URL") or "").strip()
    if not url.startswith(("redis://", "rediss://", "unix://", "redis+unix://")):
        problems.append(f"JOBS_URL is {url or 'not set'!r}: production queues jobs in Redis (redis://host:6379/1), "
                        "which every app machine and worker shares; a SQLite queue file belongs to one machine, "
                        "whose worker alone would see its jobs, and each machine's worker would run the schedules "
                        "again.")
    elif url.startswith(("redis://", "rediss://")) and not urlsplit(url).hostname:
        problems.append(f"JOBS_URL is {url!r}: name the Redis host (redis://host:6379/1).")
    return problems


def ratelimit_setting_problems(config: Mapping[str, Any]) -> list[str]:
    """Each limit setting that is empty or unreadable: Flask-Limiter would silently apply no limit there."""
    from marketplace.ratelimit import LIMIT_SETTINGS

    problems = []
    for name in LIMIT_SETTINGS:
        value = config.get(name)
        try:
            parse_many(str(value if value is not None else ""))
        except ValueError:
            problems.append(f"{name} is {value!r}: write it as \"10 per minute; 100 per hour\"; an empty or "
                            f"unreadable value would turn that limit off.")
    return problems


def _ratelimit_switch_problems(config: Mapping[str, Any]) -> list[str]:
    problems = []
    if not config.get("RATELIMIT_ENABLED", True):
        problems.append("RATELIMIT_ENABLED is off: production limits log-in, sign-up, reset, tokens, API writes and "
                        "search (unlimited password and token guessing otherwise).")
    if config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"):
        problems.append("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED is on: with Redis down each worker would count alone "
                        "and silently let N times each limit through; production answers 503 on limited endpoints "
                        "instead until Redis is back.")
    if config.get("RATELIMIT_SWALLOW_ERRORS"):
        problems.append("RATELIMIT_SWALLOW_ERRORS is on: with Redis down every limit would be lifted.")
    return problems


def _public_base_url_problem(config: Mapping[str, Any]) -> str | None:
    base = str(config.get("PUBLIC_BASE_URL") or "")
    try:
        parts = urlsplit(base)
        hostname, port = parts.hostname, parts.port  # port raises ValueError when not a number
    except ValueError:
        hostname, parts, port = None, None, None
    if parts is None or parts.scheme != "https" or not hostname:
        return f"PUBLIC_BASE_URL is {base or 'not set'!r}: links in mail and certificates need the public " \
               f"https:// address."
    # "https://odx.example@evil.example" links to evil.example: a user-info part only disguises the host; browsers
    # read "\" as "/", and white space or control characters would break the links mail carries.
    if "@" in parts.netloc or parts.query or parts.fragment or base.endswith(("?", "#")) or "\\" in base \
            or re.search(r"[\s\x00-\x1f\x7f]", base):
        return f"PUBLIC_BASE_URL is {base!r}: give the address alone (https://host[:port][/path]), without a " \
               f"user name, query, fragment, backslash or white space."
    if not hostname.isascii() or hostname.endswith(".") or parts.netloc.endswith(":") or port == 0:
        return f"PUBLIC_BASE_URL is {base!r}: write the host in ASCII (an internationalised name in its " \
               f"xn-- form), without a trailing dot or an empty or zero port, so that no look-alike host is linked."
    if hostname == "localhost" or _is_loopback(hostname):
        return f"PUBLIC_BASE_URL is {base!r}: a loopback address is no public address; links would lead nowhere."
    return None


def _is_loopback(hostname: str) -> bool:
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def instance_secret_key(folder: Path) -> str:
    """The development secret key kept in ``folder/secret_key``: read if present, else created (mode 0600)."""
    path = folder / SECRET_KEY_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # holds keys and the SQLite file: owner only
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        # A hard link appears whole and never replaces a key another process wrote first.
        os.link(temporary, path)
        log.warning("Created a development secret key at %s", path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()


def _licence_key_problem(config: Mapping[str, Any]) -> str | None:
    inline = config.get("LICENCE_SIGNING_KEY")
    path = config.get("LICENCE_SIGNING_KEY_FILE")
    if inline:
        data, where = inline.replace("\\n", "\n").encode(), "LICENCE_SIGNING_KEY"
    elif path:
        where = f"LICENCE_SIGNING_KEY_FILE ({path})"
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            return f"{where} does not exist: production never generates the licence-signing key."
        except OSError as exc:
            return f"{where} cannot be read: {exc.strerror}."
    else:
        return "LICENCE_SIGNING_KEY or LICENCE_SIGNING_KEY_FILE is not set: certificates need the platform's " \
               "Ed25519 key (a PEM private key you keep; production never generates one)."
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        return f"{where} is not an unencrypted PEM private key."
    if not isinstance(key, Ed25519PrivateKey):
        return f"{where} is not an Ed25519 key."
    return None


def money_setting_problems(config: Mapping[str, Any]) -> list[str]:
    """The platform fee must be a rate in basis points (0..10000) and the settlement delay whole days (0 or more)."""
    problems = []
    fee, delay = config.get("PLATFORM_FEE_BPS", 1000), config.get("SETTLEMENT_DELAY_DAYS", 7)
    if isinstance(fee, bool) or not isinstance(fee, int) or not 0 <= fee <= 10_000:
        problems.append(f"PLATFORM_FEE_BPS is {fee!r}: write the platform fee in basis points, from 0 to 10000 "
                        "(1000 is 10 %).")
    if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
        problems.append(f"SETTLEMENT_DELAY_DAYS is {delay!r}: write a whole number of days, 0 or more.")
    return problems


def production_problems(config: Mapping[str, Any], debug: bool = False) -> list[str]:
    """Every setting that production still lacks or that names an embedded toy, one sentence each."""
    problems = [secret_key_problem(config.get("SECRET_KEY")), _database_problem(config),
                _ratelimit_storage_problem(config), *_ratelimit_switch_problems(config),
                *ratelimit_setting_problems(config), *_jobs_problems(config), *money_setting_problems(config)]
    payments = str(config.get("PAYMENTS_BACKEND") or "").strip().lower()
    if payments != "stripe":
        problems.append(f"PAYMENTS_BACKEND is {payments or 'not set'!r}: production takes real payments "
                        "(PAYMENTS_BACKEND=stripe); simulated payments issue licences for nothing.")
    else:
        for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
            if not config.get(name):
                problems.append(f"{name} is not set: Stripe payments need it.")
    mail = str(config.get("MAIL_BACKEND") or "").strip().lower()
    if mail != "smtp":
        problems.append(f"MAIL_BACKEND is {mail or 'not set'!r}: production sends real mail (MAIL_BACKEND=smtp "
                        "with SMTP_HOST); console and memory mail reach nobody.")
    elif not config.get("SMTP_HOST"):
        problems.append("SMTP_HOST is not set: SMTP mail needs a server.")
    problems.append(_licence_key_problem(config))
    if debug or config.get("DEBUG"):
        problems.append("DEBUG is on (FLASK_DEBUG or --debug): the debugger runs code for anyone who reaches it.")
    problems.append(_public_base_url_problem(config))
    if config.get("WEBHOOKS_ALLOW_PRIVATE_TARGETS"):
        problems.append("WEBHOOKS_ALLOW_PRIVATE_TARGETS is on: webhook endpoints could reach loopback, private and "
                        "cloud metadata addresses from the server.")
    return [problem for problem in problems if problem]


def check_app_config(app: Flask) -> None:
    """Give development its instance secret key if none is set, then refuse what this config may not start with.

    Raises ConfigurationError naming every problem: a missing, short or known key (all configs but testing) and,
    in production, everything ``production_problems`` finds.
    """
    if not app.config.get("SECRET_KEY") and app.config.get("SECRET_KEY_IN_INSTANCE"):
        app.config["SECRET_KEY"] = instance_secret_key(instance_dir())
    if app.config.get("PRODUCTION"):
        problems = production_problems(app.config, debug=app.debug or get_debug_flag())
    elif app.testing:
        problems = money_setting_problems(app.config)
    else:
        problems = [problem for problem in [secret_key_problem(app.config.get("SECRET_KEY")),
                                            *ratelimit_setting_problems(app.config),
                                            *money_setting_problems(app.config)] if problem]
    if problems:
        raise ConfigurationError(problems)


def init_config_cli(app: Flask) -> None:
    @app.cli.group("config")
    def config_group() -> None:
        """The deployment's configuration."""

    @config_group.command("check")
    def config_check() -> None:
        """List what this environment still lacks to run as production; exit 1 if anything, else say "ready"."""
        settings = ProductionConfig()
        config = {name: getattr(settings, name) for name in dir(settings) if name.isupper()}
        problems = production_problems(config, debug=get_debug_flag())
        if not problems:
            click.echo("ready: this environment has every setting production requires.")
            return
        click.echo(f"Production would refuse to start ({len(problems)} to fix):")
        for problem in problems:
            click.echo(f"  - {problem}")
        raise click.exceptions.Exit(1)
