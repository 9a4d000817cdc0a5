"""The SMTP server mail goes to: address, security and credentials, and how to open a connection.

``mail/session.py`` speaks SMTP over the connections opened here; this module knows nothing of
messages or sessions.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass

from dailypapers.mail.message import MailError
from dailypapers.settings import Settings

SECURITIES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to reach an SMTP server (any provider: STARTTLS, implicit TLS or plain)."""

    host: str
    port: int
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.security not in SECURITIES:
            raise MailError(f"unknown SMTP security {self.security!r}")

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def open(self) -> smtplib.SMTP:
        """A connected client, TLS negotiated as configured (raises OSError/SMTPException)."""
        context = ssl.create_default_context()
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            smtp.starttls(context=context)
        return smtp


def smtp_server_from_settings(settings: Settings) -> SmtpServer | None:
    """The configured server, or None while no ``smtp_host`` is set (mail goes to the console)."""
    if not settings.smtp_host:
        return None
    return SmtpServer(host=settings.smtp_host, port=settings.smtp_port,
                      security=settings.smtp_security, username=settings.smtp_username,
                      password=settings.smtp_password, timeout=settings.smtp_timeout)
