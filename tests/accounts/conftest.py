"""Mail servers for the account tests: one that is down (the one on loopback is the suite's `smtp`)."""
from __future__ import annotations

import socket

import pytest

from marketplace.mail import SMTPMailer


@pytest.fixture
def mail_server_down(app, monkeypatch):
    """The app's mailer pointed at a loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.extensions, "mailer", SMTPMailer("127.0.0.1", port, "marketplace@localhost"))
