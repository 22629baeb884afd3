"""Mail servers for the account tests: one on loopback without SMTPUTF8, and one that is down."""
from __future__ import annotations

import socket

import pytest

from marketplace.mail import SMTPMailer
from tests.support.smtp import SMTPServer


@pytest.fixture
def smtp(app, monkeypatch):
    """The app's mailer talking SMTP to a loopback server that, like many, does not offer SMTPUTF8."""
    server = SMTPServer().start()
    monkeypatch.setitem(app.extensions, "mailer", SMTPMailer("127.0.0.1", server.port, "marketplace@localhost"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_server_down(app, monkeypatch):
    """The app's mailer pointed at a loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.extensions, "mailer", SMTPMailer("127.0.0.1", port, "marketplace@localhost"))
