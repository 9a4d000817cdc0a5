"""Delivering composed messages: over SMTP, or to a console stream in development."""

from __future__ import annotations

import smtplib
import ssl
import sys
from email.message import EmailMessage
from typing import Protocol, TextIO

from dailypapers.mail.message import MailError
from dailypapers.settings import Settings


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise ``MailError``."""


class ConsoleMailer:
    """Writes each message to a stream (stderr by default) instead of sending it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: EmailMessage) -> None:
        out = self.stream or sys.stderr
        out.write("----- mail (console backend, not sent) -----\n")
        out.write(message.as_string())
        out.write("\n----- end of mail -----\n")
        out.flush()


class SmtpMailer:
    """One SMTP connection per ``send`` (mails here are rare: resets, confirmations, digests)."""

    def __init__(self, *, host: str, port: int, security: str = "starttls",
                 username: str | None = None, password: str | None = None,
                 timeout: float = 30.0) -> None:
        if security not in ("starttls", "ssl", "none"):
            raise MailError(f"unknown SMTP security {security!r}")
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            smtp.starttls(context=context)
        return smtp

    def send(self, message: EmailMessage) -> None:
        # One sending path for every mail, digests included (mail/session.py).
        from dailypapers.mail.session import SmtpSession

        try:
            with SmtpSession(self) as session:
                session.send(message)
        except MailError as exc:
            raise MailError(f"could not send mail via {self.host}:{self.port}: {exc}") from exc


def mailer_from_settings(settings: Settings, *, stream: TextIO | None = None) -> Mailer:
    """SMTP when ``smtp_host`` is set, else the console."""
    if settings.smtp_host:
        return SmtpMailer(host=settings.smtp_host, port=settings.smtp_port,
                          security=settings.smtp_security, username=settings.smtp_username,
                          password=settings.smtp_password, timeout=settings.smtp_timeout)
    return ConsoleMailer(stream)
