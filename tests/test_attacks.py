"""The attacks that broke the accounts, each tried again the way an attacker would, over HTTP, and shown to fail.

One test per attack, in the order they were reported; the detailed cases of each live beside the code they
test (tests/test_trust_identity.py, tests/test_trust_config.py, tests/test_abuse.py,
tests/test_security_headers.py, tests/audit/test_checkpoints.py).
"""
from __future__ import annotations

import re

import pytest
from flask_migrate import upgrade
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import delete, select

from config import Config
from marketplace import create_app
from marketplace.accounts.models import Membership, PlatformRole, User
from marketplace.accounts.services import register_user
from marketplace.audit.models import AuditEvent
from marketplace.audit.services import record, verify_chain
from marketplace.extensions import db
from tests import factories
from tests.audit.test_checkpoints import _rewrite_chain
from tests.support.clients import FreshUserClient
from tests.support.streams import CountingStream

MIB = 1024 * 1024


def _browser(app) -> FreshUserClient:
    return FreshUserClient(app, app.response_class, use_cookies=True)


def _log_in(client, email: str, password: str = factories.PASSWORD) -> None:
    client.post("/login", data={"email": email, "password": password})


def _signed_in(client) -> bool:
    return client.get("/settings").status_code == 200


def test_signing_up_with_an_invited_address_does_not_take_over_the_organization(app, session, seller, seller_org,
                                                                                   outbox):
    owner = _browser(app)
    _log_in(owner, seller.email)
    owner.post(f"/organizations/{seller_org.slug}/invitations", data={"email": "new.analyst@harbour.example",
                                                                      "role": "owner"})
    link = re.search(r"https?://[^/\s]+(/invitations/\S+)", outbox[-1].body).group(1)

    attacker = _browser(app)
    attacker.post("/signup", data={"email": "new.analyst@harbour.example", "password": "attacker's passphrase",
                                   "confirm": "attacker's passphrase", "display_name": "Mallory", "locale": "en"})
    _log_in(attacker, "new.analyst@harbour.example", "attacker's passphrase")
    assert _signed_in(attacker)
    assert attacker.get(f"/organizations/{seller_org.slug}").status_code == 404  # sign-up joined nothing
    attacker.post(link)  # even with the link: the address is not proven
    mallory = session.scalar(select(User).where(User.email == "new.analyst@harbour.example"))
    assert session.scalar(select(Membership).where(Membership.user_id == mallory.id)) is None


@pytest.mark.no_transaction
def test_a_cookie_forged_with_the_old_development_key_opens_nothing(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "MARKETPLACE_CONFIG", "DATABASE_URL", "LICENCE_SIGNING_KEY", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MARKETPLACE_INSTANCE_DIR", str(tmp_path / "instance"))
    app = create_app()  # what `make run` starts
    with app.app_context():
        upgrade()
        admin = register_user(db.session, email="admin@example.org", password=factories.PASSWORD,
                              display_name="Ada", platform_role=PlatformRole.ADMIN, email_verified=True)
        db.session.commit()
        forged_session = {"_user_id": admin.get_id(), "_fresh": True}
        db.session.remove()
    # Flask's own session signing, with the key this repository used to ship.
    forger = URLSafeTimedSerializer("dev-only-not-secret", salt="cookie-session",
                                    signer_kwargs={"key_derivation": "hmac", "digest_method": "sha1"})
    attacker = app.test_client()
    attacker.set_cookie("session", forger.dumps(forged_session))
    for page in ("/admin/audit", "/admin/orders"):
        refused = attacker.get(page)
        assert refused.status_code == 302 and "/login" in refused.headers["Location"], page


def test_a_cookie_copied_before_log_out_is_refused_after_it(app, seller):
    victim = _browser(app)
    _log_in(victim, seller.email)
    thief = _browser(app)
    thief.set_cookie("session", victim.get_cookie("session").value)
    assert _signed_in(thief)
    victim.post("/logout")
    assert not _signed_in(thief)
    assert thief.post("/settings/logout-everywhere").headers["Location"].startswith("/login")


def test_thirty_password_guesses_lock_the_account_and_are_audited(app, session, seller):
    guesser = _browser(app)
    for n in range(30):
        _log_in(guesser, seller.email, f"guess number {n}")
    _log_in(guesser, seller.email)  # the right password, now
    assert not _signed_in(guesser)
    failures = session.scalars(select(AuditEvent).where(AuditEvent.action == "account.login_failed"))
    assert len(list(failures)) >= 30


def test_an_anonymous_35_mb_body_is_refused_unread(app, client, monkeypatch):
    # The deployed request cap (uploads' 200 MiB and more), not the suite's small one: JSON has its own.
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", Config.MAX_CONTENT_LENGTH)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", Config.MAX_UPLOAD_BYTES)
    body = CountingStream(35 * MIB)
    response = client.post("/api/v1/products", content_type="application/json",
                           environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(body.size)})
    assert response.status_code == 413 and response.json["code"]
    assert body.read_bytes == 0


@pytest.mark.parametrize("path", ["/api/v1/certificates/verify", "/api/v1/products", "/api/3/action/package_search"])
def test_deeply_nested_json_is_a_400_not_a_500(client, api, path):
    nested = "[" * 100_000 + "]" * 100_000
    response = api.post(path, data=nested, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:200]


def test_pages_cannot_be_framed(client):
    for page in ("/login", "/catalog", "/signup"):
        response = client.get(page)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"


def test_a_rewritten_audit_chain_is_caught_by_the_signed_checkpoint(app, session):
    events = [record(session, actor_id=None, action=action, subject_type="asset", subject_id=n)
              for n, action in enumerate(["asset.download", "order.paid", "asset.download", "licence.issue"])]
    session.commit()
    assert app.test_cli_runner().invoke(args=["audit", "checkpoint"]).exit_code == 0
    session.execute(delete(AuditEvent).where(AuditEvent.id.in_([events[0].id, events[2].id])))
    session.commit()
    session.expire_all()
    _rewrite_chain(session)
    assert verify_chain(session).ok  # the links alone hold after the rewrite ...
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "checkpoint" in result.output  # ... the signed head does not
