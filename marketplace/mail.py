"""Outgoing e-mail behind one small interface: console (default), memory (tests) or SMTP.

Subjects carry text users typed (product titles, organization and display names). A header is one line, so every
``Mail`` folds line breaks and other control characters in its subject into spaces: a title with CR/LF can neither
add a header (``Bcc:``) nor make the SMTP backend refuse the message halfway through a request. The recipient must
be one plain address; anything else is refused like a recipient the mail server refused.

``send_mail`` never talks to a mail server: it writes the message to the outbox in the caller's transaction
(``marketplace.jobs.outbox``), and a job sends it after the commit, retrying while the server is down. A rolled-back
transaction sends nothing; a mail server that is down rolls nothing back.
"""
from __future__ import annotations

import re
import smtplib
import sys
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app
from sqlalchemy.orm import Session

from marketplace.jobs.outbox import add_to_outbox, outbox_handler

# One address: local part, "@", domain; nothing that could separate, quote or name a second recipient.
_ADDRESS = re.compile(r"[^\s@,;:<>()\[\]\"\\]+@[^\s@,;:<>()\[\]\"\\]+")


def single_line(text: str) -> str:
    """``text`` as one header line: control characters, line and paragraph separators become spaces, and runs of
    spaces one space."""
    spaced = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return re.sub(r" {2,}", " ", spaced).strip()


def checked_recipient(address: str) -> str:
    """``address`` if it is exactly one plain e-mail address; otherwise ``SMTPRecipientsRefused`` (an OSError,
    which callers already treat as a failed delivery)."""
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address) or single_line(address) != address:
        raise smtplib.SMTPRecipientsRefused({str(address)[:200]: (501, b"not one plain e-mail address")})
    return address


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    message_id: str | None = None  # the Message-ID header: the same outbox row always gives the same one

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", checked_recipient(self.to))
        object.__setattr__(self, "subject", single_line(self.subject))


class ConsoleMailer:
    def send(self, mail: Mail) -> None:
        print(f"--- e-mail to {mail.to}: {mail.subject}\n{mail.body}\n---", file=sys.stderr, flush=True)


class MemoryMailer:
    def __init__(self) -> None:
        self.outbox: list[Mail] = []

    def send(self, mail: Mail) -> None:
        self.outbox.append(mail)


class SMTPMailer:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self.host, self.port, self.sender = host, port, sender

    def send(self, mail: Mail) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, mail.to, mail.subject
        if mail.message_id:
            msg["Message-ID"] = mail.message_id
        msg.set_content(mail.body)
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(msg)


def mailer_from_config(config) -> ConsoleMailer | MemoryMailer | SMTPMailer:
    backend = config.get("MAIL_BACKEND", "console")
    if backend == "console":
        return ConsoleMailer()
    if backend == "memory":
        return MemoryMailer()
    if backend == "smtp":
        return SMTPMailer(config.get("SMTP_HOST") or "127.0.0.1", int(config.get("SMTP_PORT") or 25),
                          config.get("MAIL_SENDER") or "marketplace@localhost")
    raise ValueError(f"unknown MAIL_BACKEND {backend!r}")


def send_mail(to: str, subject: str, body: str, *, session: Session | None = None) -> None:
    """Write an e-mail to the outbox of ``session`` (the app's by default); it is sent after the commit.
    A recipient that is not one plain address is refused now (``SMTPRecipientsRefused``)."""
    from marketplace.extensions import db

    mail = Mail(to, subject, body)
    add_to_outbox(session if session is not None else db.session, "mail",
                  {"to": mail.to, "subject": mail.subject, "body": mail.body})


@outbox_handler("mail")
def _send_from_outbox(payload: dict, message_id: int) -> None:
    domain = (current_app.config.get("MAIL_SENDER") or "marketplace@localhost").rpartition("@")[2] or "localhost"
    current_app.extensions["mailer"].send(
        Mail(payload["to"], payload["subject"], payload["body"], message_id=f"<outbox-{message_id}@{domain}>"))


def public_link(path: str) -> str:
    """``path`` ("/orders/7") on the configured public site: links in mail never come from a request's Host."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path
