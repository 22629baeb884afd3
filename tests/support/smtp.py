"""A small SMTP server on loopback for tests: it speaks enough real SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET,
NOOP, QUIT) for ``smtplib`` and keeps every message it accepted, with its envelope, for the test to read."""
from __future__ import annotations

import socketserver
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class _Envelope:
    sender: str = ""
    recipients: list[str] = field(default_factory=list)


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.server.connections += 1
        self._say("220 localhost test SMTP")
        envelope = _Envelope()
        while line := self.rfile.readline():
            command, _, argument = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
            verb = command.upper()
            if verb == "EHLO":
                self._say("250-localhost")
                self._say("250 8BITMIME")
            elif verb == "HELO" or verb == "NOOP":
                self._say("250 OK")
            elif verb == "MAIL":
                time.sleep(self.server.mail_delay)  # a slow server: the sender waits here
                envelope = _Envelope(sender=argument.partition(":")[2].strip().split(" ")[0].strip("<>"))
                self._say("250 OK")
            elif verb == "RCPT":
                envelope.recipients.append(argument.partition(":")[2].strip().strip("<>"))
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)  # undo dot-stuffing
                self.server.received.append(Received(envelope.sender, envelope.recipients, b"".join(lines)))
                envelope = _Envelope()
                self._say("250 OK: queued")
            elif verb == "RSET":
                envelope = _Envelope()
                self._say("250 OK")
            elif verb == "QUIT":
                self._say("221 Bye")
                return
            else:
                self._say("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    received: list[Received]
    mail_delay: float = 0.0
    connections: int = 0


class SMTPServer:
    """``start()`` listens on 127.0.0.1 on a free port (or the ``port`` given: a server started again where one was
    stopped); ``received`` lists the accepted messages. ``mail_delay`` seconds pass before each MAIL is answered."""

    def __init__(self, port: int = 0, mail_delay: float = 0.0) -> None:
        self._server = _Server(("127.0.0.1", port), _Session)
        self._server.received = []
        self._server.mail_delay = mail_delay
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def received(self) -> list[Received]:
        return self._server.received

    def start(self) -> SMTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
