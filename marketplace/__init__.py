"""The data product marketplace: create_app() wires extensions, backends, blueprints and error handlers."""
from __future__ import annotations

import os

from flask import Flask

from config import CONFIGS


def create_app(config_name: str | None = None, **overrides) -> Flask:
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    config_name = config_name or os.environ.get("MARKETPLACE_CONFIG", "development")
    app.config.from_object(CONFIGS[config_name]())
    app.config.update(overrides)

    from marketplace.config_check import check_app_config

    check_app_config(app)  # development's instance secret key; refuses known keys and production's toys

    _ensure_sqlite_folder(app.config["SQLALCHEMY_DATABASE_URI"])

    from marketplace.compression import init_compression

    init_compression(app)  # its hook first, so it runs last: it compresses what every other hook has written

    from marketplace.extensions import csrf, db, login_manager, migrate
    from marketplace.inputs import init_body_checks, init_inputs

    # Its hooks first, before CSRF's form parsing: NUL in the path, body caps and unauthorized uploads are refused
    # before anything reads the body or queries with the path.
    init_inputs(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)

    from marketplace.i18n import init_i18n

    init_i18n(app)  # the request's locale and time zone, the message catalogs, formatting for templates

    from marketplace import models  # noqa: F401  (register every table on the metadata)
    from marketplace.mail import mailer_from_config
    from marketplace.payments import payments_from_config
    from marketplace.storage import storage_from_config

    app.extensions["storage"] = storage_from_config(app.config)
    app.extensions["mailer"] = mailer_from_config(app.config)
    app.extensions["payments"] = payments_from_config(app.config)

    from marketplace.catalog.engine_search import engine_from_config

    engine_from_config(app)  # the catalog's search engine, when SEARCH_ENGINE names one

    from marketplace.worker import init_worker

    init_worker(app)  # the queue (SQLite, Redis or immediate), its tasks, `flask jobs` and the admin jobs page

    from marketplace.accounts.services import configure_password_hashing

    configure_password_hashing(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"])

    from marketplace.db import init_write_intent
    from marketplace.uow import init_unit_of_work

    init_write_intent(app)
    init_unit_of_work(app)  # each request commits once, at its end, or rolls back

    from marketplace.accounts.auth import init_auth
    from marketplace.api import init_api
    from marketplace.cli import init_cli
    from marketplace.ratelimit import init_ratelimit
    from marketplace.routes import init_api_blueprints, init_pages
    from marketplace.web import init_web

    # The order of these calls is the order of the request hooks: after init_inputs' (above), API writes
    # authenticated, and only then bodies read (bounded) and checked. Rate limits wrap the registered views.
    init_auth(app)
    init_web(app)
    init_pages(app)
    init_api(app)
    init_api_blueprints(app)
    from marketplace.retry import init_retry

    init_retry(app)  # before the rate limits: a run again is not another request
    init_ratelimit(app)
    init_body_checks(app)
    init_cli(app)

    from marketplace.health import init_health

    init_health(app)  # outages answered 503 with Retry-After; /readyz

    from marketplace.security import init_security

    init_security(app)
    return app


def _ensure_sqlite_folder(url: str) -> None:
    """Create the SQLite database's folder (0700) and an empty database file (0600) if they do not exist yet: the
    embedded default keeps it in instance/, which a fresh clone lacks, and the file holds password hashes and
    orders, so no other account on the machine may read it (SQLite would create it with the umask's 0644)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" \
            or parsed.database.startswith("file:"):
        return
    path = os.path.abspath(parsed.database)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
