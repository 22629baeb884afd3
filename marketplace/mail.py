"""Outgoing e-mail behind one small interface: console (default), memory (tests) or SMTP."""
from __future__ import annotations

import smtplib
import sys
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


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


def send_mail(to: str, subject: str, body: str) -> None:
    current_app.extensions["mailer"].send(Mail(to, subject, body))
