"""Flask CLI commands: create admins and reviewers, load the demo catalog."""
from __future__ import annotations

import click
from flask import Flask

from marketplace.accounts.models import PlatformRole
from marketplace.errors import DomainError
from marketplace.uow import unit_of_work


def _create_staff(email: str, password: str, name: str, role: PlatformRole) -> None:
    from sqlalchemy import select

    from marketplace.accounts.models import User
    from marketplace.accounts.services import register_user, set_platform_role

    try:
        with unit_of_work() as session:
            if session.scalar(select(User.id).where(User.email == email.strip().lower())):
                user = set_platform_role(session, email, role)
                done = f"{user.email} is now {role.value}."
            else:
                user = register_user(session, email=email, password=password, display_name=name,
                                     platform_role=role, email_verified=True)
                done = f"Created {role.value} {user.email}."
    except DomainError as exc:
        raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from None
    click.echo(done)


def init_cli(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.option("--email", prompt=True)
    @click.option("--name", default="Administrator")
    @click.password_option()
    def create_admin(email: str, name: str, password: str) -> None:
        """Create a platform admin (or promote an existing user)."""
        _create_staff(email, password, name, PlatformRole.ADMIN)

    @app.cli.command("create-reviewer")
    @click.option("--email", prompt=True)
    @click.option("--name", default="Compliance reviewer")
    @click.password_option()
    def create_reviewer(email: str, name: str, password: str) -> None:
        """Create a compliance reviewer (or promote an existing user)."""
        _create_staff(email, password, name, PlatformRole.REVIEWER)

    from marketplace.audit.cli import init_audit_cli

    init_audit_cli(app)  # audit verify, audit checkpoint

    @app.cli.group("demo")
    def demo() -> None:
        """The demo catalog."""

    @demo.command("load")
    def demo_load() -> None:
        """Load the demo catalog built from the shipped open data (idempotent)."""
        from marketplace.demo import load_demo

        storage = app.extensions["storage"]
        if hasattr(storage, "ensure_bucket"):  # a first run on an S3 store: its bucket, made once
            storage.ensure_bucket()
        with unit_of_work() as session:
            report = load_demo(session, storage)
        click.echo(report)

    from marketplace.review.notice_cli import init_notice_cli

    init_notice_cli(app)  # notices end, registrations backfill
    from marketplace.catalog.cli import init_catalog_cli

    init_catalog_cli(app)  # catalog reindex

    from marketplace.licensing.certificate_cli import init_certificate_cli
    from marketplace.licensing.cli import init_licensing_cli

    init_licensing_cli(app)  # licences expire
    init_certificate_cli(app)  # licences verify, licences public-key

    from marketplace.orders.cli import init_ledger_cli, init_orders_cli, init_payments_cli, init_payouts_cli

    init_orders_cli(app)  # orders expire
    init_payments_cli(app)  # payments reconcile
    init_ledger_cli(app)  # ledger check, release, backfill
    init_payouts_cli(app)  # payouts run, reconcile

    from marketplace.config_check import init_config_cli

    init_config_cli(app)  # config check
