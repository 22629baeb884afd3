"""The Flask CLI: staff accounts."""
from sqlalchemy import select

from marketplace.accounts.models import PlatformRole, User
from tests import factories


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_create_admin_makes_a_platform_admin(app, session):
    result = run(app, "create-admin", "--email", "Root@Example.org", "--password", "long enough password")
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "root@example.org"))
    assert user.platform_role == PlatformRole.ADMIN and user.password_hash.startswith("$argon2id$")


def test_create_reviewer_promotes_an_existing_user(app, session):
    factories.user(session, email="rev@example.org")
    session.commit()
    result = run(app, "create-reviewer", "--email", "rev@example.org", "--password", "whatever-it-is")
    assert result.exit_code == 0 and "now reviewer" in result.output
    assert session.scalar(select(User.platform_role).where(User.email == "rev@example.org")) == PlatformRole.REVIEWER


def test_create_admin_refuses_a_short_password_clearly(app):
    result = run(app, "create-admin", "--email", "a@example.org", "--password", "short")
    assert result.exit_code != 0 and "Password too short" in result.output
