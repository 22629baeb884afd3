"""Secrets and configuration: development keeps a random secret key of its own, no config but testing starts with
a missing, short or known key, production refuses the embedded toys naming each, and `flask config check` lists
what a production deployment still lacks."""
from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_migrate import upgrade

from marketplace import create_app
from marketplace.accounts.models import PlatformRole
from marketplace.accounts.services import register_user
from marketplace.config_check import ConfigurationError, secret_key_problem
from marketplace.extensions import db

OLD_DEVELOPMENT_KEY = "dev-only-not-secret"
# Everything the configuration reads that a developer's shell might have set.
CONFIG_ENVIRONMENT = (
    "SECRET_KEY", "DATABASE_URL", "STORAGE_LOCAL_ROOT", "PAYMENTS_BACKEND", "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET", "MAIL_BACKEND", "SMTP_HOST", "LICENCE_SIGNING_KEY", "LICENCE_SIGNING_KEY_FILE",
    "PUBLIC_BASE_URL", "FLASK_DEBUG", "MARKETPLACE_CONFIG", "RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED",
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", "JOBS_URL", "JOBS_IMMEDIATE",
)


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """A clean environment whose instance folder is the test's own."""
    for name in CONFIG_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MARKETPLACE_INSTANCE_DIR", str(tmp_path / "instance"))
    return monkeypatch


def _key_file(folder) -> str:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = folder / "licence-key.pem"
    path.write_bytes(pem)
    return str(path)


@pytest.fixture
def production_settings(tmp_path) -> dict:
    """Every setting production requires, set to acceptable values."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.db'}",
        "STORAGE_LOCAL_ROOT": str(tmp_path / "storage"), "PAYMENTS_BACKEND": "stripe",
        "STRIPE_SECRET_KEY": "sk_live_example", "STRIPE_WEBHOOK_SECRET": "whsec_example", "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "smtp.example.org", "LICENCE_SIGNING_KEY_FILE": _key_file(tmp_path),
        "PUBLIC_BASE_URL": "https://exchange.example.org", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "JOBS_URL": "redis://127.0.0.1:6379/1",
    }


# ---------------------------------------------------------------- development's secret key


def test_development_creates_a_private_random_key_in_the_instance_folder_and_keeps_it(environment, tmp_path):
    first = create_app("development")
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 32 and first.config["SECRET_KEY"] != OLD_DEVELOPMENT_KEY
    second = create_app("development")
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]  # reused, so sessions survive a restart


def test_two_instance_folders_get_different_keys(environment, tmp_path):
    one = create_app("development").config["SECRET_KEY"]
    environment.setenv("MARKETPLACE_INSTANCE_DIR", str(tmp_path / "elsewhere"))
    assert create_app("development").config["SECRET_KEY"] != one


def test_development_uses_secret_key_from_the_environment_without_writing_a_file(environment, tmp_path):
    key = secrets.token_urlsafe(40)
    environment.setenv("SECRET_KEY", key)
    assert create_app("development").config["SECRET_KEY"] == key
    assert not (tmp_path / "instance" / "secret_key").exists()


@pytest.mark.parametrize("key", [OLD_DEVELOPMENT_KEY, "x", "secret", "changeme", "testing", "ChangeMe",
                                 "short-but-random-Zq81", "a" * 40])
def test_development_refuses_a_known_or_short_secret_key(environment, key):
    environment.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app("development")


def test_development_refuses_a_weak_key_written_into_the_instance_file(environment, tmp_path):
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "secret_key").write_text("changeme\n")
    with pytest.raises(ConfigurationError, match="SECRET_KEY is a well-known value"):
        create_app("development")


def test_testing_alone_may_use_a_known_key(environment):
    assert create_app("testing").config["SECRET_KEY"] == "testing"


def _forge(payload: dict, key: str) -> str:
    """A session cookie for ``payload`` signed with ``key`` exactly as Flask signs sessions."""
    forger = Flask("forger")
    forger.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps(payload)


@pytest.mark.no_transaction
def test_a_cookie_forged_with_the_old_development_key_does_not_open_the_admin_audit(environment, tmp_path):
    # The app `make run` starts: development config, nothing but a fresh instance folder.
    app = create_app(WTF_CSRF_ENABLED=False)
    with app.app_context():
        upgrade()
        register_user(db.session, email="admin@example.org", password="correct horse battery",
                      display_name="Ada Admin", platform_role=PlatformRole.ADMIN, email_verified=True)
        db.session.commit()
        db.session.remove()
    real = app.test_client()
    assert real.post("/login", data={"email": "admin@example.org", "password": "correct horse battery"}
                     ).status_code == 302
    assert real.get("/admin/audit").status_code == 200
    # What an attacker who knows the key would sign: the admin's own session contents.
    payload = app.session_interface.get_signing_serializer(app).loads(real.get_cookie("session").value)
    assert payload.get("_user_id")

    attacker = app.test_client()
    attacker.set_cookie("session", _forge(payload, OLD_DEVELOPMENT_KEY))
    refused = attacker.get("/admin/audit")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]

    # The same forgery with the instance key opens it: the refusal above is the key's doing.
    insider = app.test_client()
    insider.set_cookie("session", _forge(payload, app.config["SECRET_KEY"]))
    assert insider.get("/admin/audit").status_code == 200


# ---------------------------------------------------------------- production refuses to start


def test_production_starts_with_every_setting_it_requires(environment, production_settings):
    app = create_app("production", **production_settings)
    assert app.config["PRODUCTION"] and app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


@pytest.mark.parametrize(("change", "named"), [
    ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": "x"}, "SECRET_KEY is a well-known value"),
    ({"SECRET_KEY": OLD_DEVELOPMENT_KEY}, "SECRET_KEY is a well-known value"),
    ({"SECRET_KEY": "Zq81-short-random"}, "SECRET_KEY is 17 characters long"),
    ({"PAYMENTS_BACKEND": "simulated"}, "PAYMENTS_BACKEND is 'simulated'"),
    ({"STRIPE_SECRET_KEY": None}, "STRIPE_SECRET_KEY is not set"),
    ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET is not set"),
    ({"MAIL_BACKEND": "console"}, "MAIL_BACKEND is 'console'"),
    ({"MAIL_BACKEND": "memory"}, "MAIL_BACKEND is 'memory'"),
    ({"SMTP_HOST": None}, "SMTP_HOST is not set"),
    ({"LICENCE_SIGNING_KEY_FILE": None}, "LICENCE_SIGNING_KEY or LICENCE_SIGNING_KEY_FILE is not set"),
    ({"LICENCE_SIGNING_KEY_FILE": "/nonexistent/licence.pem"}, "does not exist"),
    ({"LICENCE_SIGNING_KEY": "not a pem"}, "LICENCE_SIGNING_KEY is not an unencrypted PEM private key"),
    ({"DEBUG": True}, "DEBUG is on"),
    ({"PUBLIC_BASE_URL": "http://exchange.example.org"}, "PUBLIC_BASE_URL is 'http://exchange.example.org'"),
    ({"PUBLIC_BASE_URL": "https://"}, "PUBLIC_BASE_URL is 'https://'"),
    ({"SQLALCHEMY_DATABASE_URI": None}, "DATABASE_URL is not set"),
    ({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, "in-memory SQLite"),
    ({"SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"}, "in-memory SQLite"),
    ({"RATELIMIT_STORAGE_URI": None}, "RATELIMIT_STORAGE_URI is 'not set'"),
    ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI is 'memory://'"),
    ({"RATELIMIT_STORAGE_URI": "memcached://cache:11211"}, "production counts rate limits in Redis"),
    ({"SECRET_KEY": "12345678901234567890123456789012"}, "SECRET_KEY repeats a unit of 10 characters"),
    ({"SECRET_KEY": "Zq81-xT7w_" * 4}, "SECRET_KEY repeats a unit of 10 characters"),
    ({"SECRET_KEY": "dev-only-not-secret-dev-only-not-secret"}, "contains the well-known value 'dev-only-not-secret'"),
    ({"SECRET_KEY": "our-Super-Secret-session-key-2025!"}, "contains the well-known value 'super-secret'"),
    ({"SECRET_KEY": "abcdefghijklmnopqrstuvwxyzabcdefghijkl"}, "SECRET_KEY is made of words, keyboard rows"),
    ({"SECRET_KEY": "qwertyuiopasdfghjklzxcvbnmqwertyuiop"}, "SECRET_KEY is made of words, keyboard rows"),
    ({"SECRET_KEY": "0123456789abcdef0123456789abcdeg"}, "SECRET_KEY is made of words, keyboard rows"),
    ({"SECRET_KEY": "correct horse battery staple correct horse"}, "SECRET_KEY is made of words, keyboard rows"),
    ({"SECRET_KEY": "correct-horse-battery-staple-purple-monkey-dishwasher"}, "SECRET_KEY is made of words"),
    ({"RATELIMIT_ENABLED": False}, "RATELIMIT_ENABLED is off"),
    ({"RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True}, "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED is on"),
    ({"RATELIMIT_SWALLOW_ERRORS": True}, "RATELIMIT_SWALLOW_ERRORS is on"),
    ({"PUBLIC_BASE_URL": "https://odx.example@evil.example"}, "without a user name, query, fragment"),
    ({"PUBLIC_BASE_URL": "https://user:pw@exchange.example.org"}, "without a user name, query, fragment"),
    ({"PUBLIC_BASE_URL": "https://exchange.example.org/?next=evil"}, "without a user name, query, fragment"),
    ({"PUBLIC_BASE_URL": "https://exchange.example.org/#x"}, "without a user name, query, fragment"),
    ({"PUBLIC_BASE_URL": "https://exchange.example.org:port"}, "PUBLIC_BASE_URL is 'https://exchange.example"),
    # Found by the third attack round: each was "ready".
    ({"PUBLIC_BASE_URL": "https://evil.example\\odx.example"}, "backslash or white space"),
    ({"PUBLIC_BASE_URL": "https://odx.example/\nevil"}, "backslash or white space"),
    ({"PUBLIC_BASE_URL": " https://odx.example"}, "backslash or white space"),
    ({"PUBLIC_BASE_URL": "https://\u043edx.example"}, "write the host in ASCII"),  # Cyrillic o
    ({"PUBLIC_BASE_URL": "https://odx.example."}, "without a trailing dot"),
    ({"PUBLIC_BASE_URL": "https://odx.example:0"}, "empty or zero port"),
    ({"PUBLIC_BASE_URL": "https://odx.example:"}, "empty or zero port"),
    ({"PUBLIC_BASE_URL": "https://localhost"}, "a loopback address is no public address"),
    ({"PUBLIC_BASE_URL": "https://127.0.0.1"}, "a loopback address is no public address"),
    ({"SECRET_KEY": "ｃｏｒｒｅｃｔｈｏｒｓｅｂａｔｔｅｒｙｓｔａｐｌｅｃｏｒｒｅｃｔ"}, "SECRET_KEY is made of words"),
    ({"RATELIMIT_LOGIN": ""}, "RATELIMIT_LOGIN is ''"),
    ({"RATELIMIT_SIGNUP_EMAIL": "garbage"}, "RATELIMIT_SIGNUP_EMAIL is 'garbage'"),
    ({"RATELIMIT_STORAGE_URI": "Redis://127.0.0.1:6379"}, "RATELIMIT_STORAGE_URI is 'Redis://127.0.0.1:6379'"),
    ({"RATELIMIT_STORAGE_URI": "redis+sentinel://x"}, "which the rate limiter cannot use"),
    ({"RATELIMIT_STORAGE_URI": "redis://"}, "name the Redis host"),
    ({"JOBS_URL": None}, "JOBS_URL is 'not set'"),
    ({"JOBS_URL": "sqlite:////srv/jobs.db"}, "a SQLite queue file belongs to one machine"),
    ({"JOBS_URL": "redis://"}, "JOBS_URL is 'redis://': name the Redis host"),
    ({"JOBS_IMMEDIATE": True}, "JOBS_IMMEDIATE is on"),
])
def test_production_refuses_an_unsafe_setting_and_names_it(environment, production_settings, change, named):
    with pytest.raises(ConfigurationError) as refused:
        create_app("production", **{**production_settings, **change})
    assert len(refused.value.problems) == 1 and named in refused.value.problems[0]
    assert named in str(refused.value)


@pytest.mark.parametrize(("name", "value"), [
    ("SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://marketplace@db.internal/marketplace"),
    ("RATELIMIT_STORAGE_URI", "rediss://:password@cache.internal:6380/0"),
    ("RATELIMIT_STORAGE_URI", "redis+unix:///run/redis/redis.sock"),
])
def test_production_accepts_a_shared_database_and_rate_limit_store_named_explicitly(environment, production_settings,
                                                                                    name, value):
    # production_settings names an SQLite file explicitly: accepted too (one machine, named on purpose).
    app = create_app("production", **{**production_settings, name: value})
    assert app.config[name] == value


@pytest.mark.parametrize("make_key", [lambda: secrets.token_urlsafe(48), lambda: secrets.token_hex(32),
                                      lambda: secrets.token_hex(16)], ids=["token_urlsafe_48", "token_hex_32",
                                                                           "token_hex_16"])
def test_randomly_generated_secret_keys_are_always_accepted(make_key):
    refused = [(key, problem) for key in (make_key() for _ in range(1000)) if (problem := secret_key_problem(key))]
    assert refused == []


def test_production_counts_no_rate_limit_in_worker_memory_unless_told(environment, production_settings):
    app = create_app("production", **production_settings)
    assert app.config["RATELIMIT_ENABLED"] and not app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"]
    assert create_app("development").config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"]


def test_with_the_rate_limit_store_down_limited_endpoints_answer_503_not_unlimited(environment, tmp_path):
    app = create_app("testing", RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
                     RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False, PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        upgrade()
    client = app.test_client()
    for _ in range(3):
        assert client.post("/login", data={"email": "ann@example.org", "password": "guess"}).status_code == 503
    response = client.get("/api/v1/catalog")
    assert response.status_code == 503 and set(response.get_json()) == {"status", "code", "message", "errors"}


def test_development_refuses_a_long_key_that_repeats_a_short_one(environment):
    environment.setenv("SECRET_KEY", "12345678901234567890123456789012")
    with pytest.raises(ConfigurationError, match="SECRET_KEY repeats a unit of 10 characters"):
        create_app("development")


def test_production_names_every_missing_setting_at_once(environment, tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        create_app("production")
    message = str(refused.value)
    for name in ("SECRET_KEY", "DATABASE_URL", "RATELIMIT_STORAGE_URI", "PAYMENTS_BACKEND", "MAIL_BACKEND",
                 "LICENCE_SIGNING_KEY", "PUBLIC_BASE_URL", "JOBS_URL"):
        assert name in message
    assert len(refused.value.problems) == 8
    # Nothing generated on the way: no secret key, no licence-signing key in the instance folder.
    assert not (tmp_path / "instance").exists() or not any((tmp_path / "instance").iterdir())


def test_production_ignores_the_licence_key_development_generated_in_the_instance_folder(
        environment, production_settings, tmp_path):
    (tmp_path / "instance").mkdir()
    generated = Path(production_settings["LICENCE_SIGNING_KEY_FILE"]).read_bytes()
    (tmp_path / "instance" / "licence-signing-key.pem").write_bytes(generated)
    del production_settings["LICENCE_SIGNING_KEY_FILE"]
    with pytest.raises(ConfigurationError, match="LICENCE_SIGNING_KEY or LICENCE_SIGNING_KEY_FILE is not set"):
        create_app("production", **production_settings)


def test_production_refuses_the_debug_flag_from_the_environment(environment, production_settings):
    environment.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigurationError, match="DEBUG is on"):
        create_app("production", **production_settings)


def test_production_reads_its_settings_from_the_environment(environment, production_settings):
    environment.setenv("MARKETPLACE_CONFIG", "production")
    for name, value in production_settings.items():
        environment.setenv("DATABASE_URL" if name == "SQLALCHEMY_DATABASE_URI" else name, value)
    app = create_app()
    assert app.config["PRODUCTION"] and app.config["SECRET_KEY"] == production_settings["SECRET_KEY"]
    assert app.config["PUBLIC_BASE_URL"] == "https://exchange.example.org"


# ---------------------------------------------------------------- flask config check


def _production_environment(settings: dict) -> dict:
    env = {name: None for name in CONFIG_ENVIRONMENT}
    env.update({"DATABASE_URL" if name == "SQLALCHEMY_DATABASE_URI" else name: value
                for name, value in settings.items()})
    return env


def _check(app, env: dict):
    return app.test_cli_runner().invoke(args=["config", "check"], env=env)


def test_config_check_lists_everything_production_still_lacks(app):
    result = _check(app, {name: None for name in CONFIG_ENVIRONMENT})
    assert result.exit_code == 1
    for name in ("SECRET_KEY", "DATABASE_URL", "RATELIMIT_STORAGE_URI", "PAYMENTS_BACKEND", "MAIL_BACKEND",
                 "LICENCE_SIGNING_KEY", "PUBLIC_BASE_URL", "JOBS_URL"):
        assert f"  - {name}" in result.output
    assert "8 to fix" in result.output and "ready" not in result.output


def test_config_check_says_ready_when_production_would_start(app, production_settings):
    result = _check(app, _production_environment(production_settings))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ready")


@pytest.mark.parametrize(("change", "named"), [
    ({"SMTP_HOST": None}, "SMTP_HOST"),
    ({"SECRET_KEY": "changeme"}, "SECRET_KEY"),
    ({"PAYMENTS_BACKEND": "simulated"}, "PAYMENTS_BACKEND"),
    ({"FLASK_DEBUG": "1"}, "DEBUG"),
    ({"LICENCE_SIGNING_KEY_FILE": "/nonexistent/licence.pem"}, "LICENCE_SIGNING_KEY_FILE"),
    ({"DATABASE_URL": None}, "DATABASE_URL"),  # the SQLite file in instance/ is not the shared database
    ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI"),
    ({"RATELIMIT_STORAGE_URI": None}, "RATELIMIT_STORAGE_URI"),
    ({"SECRET_KEY": "12345678901234567890123456789012"}, "SECRET_KEY"),
    ({"SECRET_KEY": "dev-only-not-secret-dev-only-not-secret"}, "SECRET_KEY"),
    ({"SECRET_KEY": "qwertyuiopasdfghjklzxcvbnmqwertyuiop"}, "SECRET_KEY"),
    ({"RATELIMIT_ENABLED": "false"}, "RATELIMIT_ENABLED"),
    ({"RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": "true"}, "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"),
    ({"PUBLIC_BASE_URL": "https://odx.example@evil.example"}, "PUBLIC_BASE_URL"),
])
def test_config_check_names_the_one_setting_left(app, production_settings, change, named):
    result = _check(app, {**_production_environment(production_settings), **change})
    assert result.exit_code == 1
    assert "1 to fix" in result.output and f"  - {named}" in result.output


@pytest.mark.parametrize("command", [
    ["-m", "flask", "config", "check"], ["-m", "gunicorn", "--preload", "--bind", "127.0.0.1:0", "wsgi:app"],
], ids=["flask", "gunicorn"])
def test_a_refused_production_start_prints_the_settings_to_fix_without_a_traceback(tmp_path, command):
    env = {name: value for name, value in os.environ.items() if name not in CONFIG_ENVIRONMENT}
    env.update(MARKETPLACE_CONFIG="production", FLASK_APP="wsgi", MARKETPLACE_INSTANCE_DIR=str(tmp_path / "i"))
    done = subprocess.run([sys.executable, *command], cwd=Path(__file__).resolve().parent.parent, env=env,
                          capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in output
    for name in ("SECRET_KEY", "DATABASE_URL", "RATELIMIT_STORAGE_URI", "PUBLIC_BASE_URL"):
        assert f"  - {name}" in output
