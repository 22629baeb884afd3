"""Health: liveness (``/healthz``, in marketplace/web), readiness (``/readyz``) and outages answered as outages."""
from __future__ import annotations

from flask import Flask

from marketplace.health.outages import as_unavailable, init_outages, is_database_outage
from marketplace.health.readiness import add_readiness_check, init_readiness, readiness_checks, run_checks

__all__ = ["add_readiness_check", "as_unavailable", "init_health", "is_database_outage", "readiness_checks",
           "run_checks"]


def init_health(app: Flask) -> None:
    """Answer database and storage outages 503 with ``Retry-After``, serve ``/readyz``, add ``flask storage check``."""
    from marketplace.health.storage_check import init_storage_cli

    init_outages(app)
    init_readiness(app)
    init_storage_cli(app)  # flask storage check
