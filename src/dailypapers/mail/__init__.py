"""Outgoing mail: compose header-safe messages (plain text + optional HTML) and send them.

``compose`` builds an ``EmailMessage``; a ``Mailer`` delivers it: ``SmtpMailer`` (any provider,
STARTTLS / implicit TLS / plain, optional AUTH) or ``ConsoleMailer`` (prints it; the default
while no SMTP host is configured). ``mailer_from_settings`` picks one from ``Settings``.
"""

from dailypapers.mail.message import MailError, compose
from dailypapers.mail.transport import ConsoleMailer, Mailer, SmtpMailer, mailer_from_settings

__all__ = ["ConsoleMailer", "MailError", "Mailer", "SmtpMailer", "compose", "mailer_from_settings"]
