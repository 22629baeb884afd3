"""Flask CLI commands: create admins and reviewers, load the demo catalog."""
from __future__ import annotations

import click
from flask import Flask

from marketplace.accounts.models import PlatformRole
from marketplace.errors import DomainError
from marketplace.extensions import db


def _create_staff(email: str, password: str, name: str, role: PlatformRole) -> None:
    from sqlalchemy import select

    from marketplace.accounts.models import User
    from marketplace.accounts.services import register_user, set_platform_role

    try:
        if db.session.scalar(select(User.id).where(User.email == email.strip().lower())):
            user = set_platform_role(db.session, email, role)
            click.echo(f"{user.email} is now {role.value}.")
        else:
            user = register_user(db.session, email=email, password=password, display_name=name, platform_role=role,
                                 email_verified=True)
            click.echo(f"Created {role.value} {user.email}.")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from None


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

        report = load_demo(db.session, app.extensions["storage"])
        db.session.commit()
        click.echo(report)

    from marketplace.licensing.certificate_cli import init_certificate_cli
    from marketplace.licensing.cli import init_licensing_cli

    init_licensing_cli(app)  # orders expire, licences expire
    init_certificate_cli(app)  # licences verify, licences public-key

    from marketplace.orders.cli import init_payments_cli

    init_payments_cli(app)

    from marketplace.config_check import init_config_cli

    init_config_cli(app)  # config check
