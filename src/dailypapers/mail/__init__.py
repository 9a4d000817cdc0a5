"""Outgoing mail: compose header-safe messages (plain text + optional HTML) and send them.

``compose`` builds an ``EmailMessage``; a ``MailSession`` delivers messages: ``SmtpSession`` (one
connection to an ``SmtpServer`` for a whole run, with a commit hook before the point of no
return) or ``ConsoleSession`` (prints them; the default while no SMTP host is configured).
``session_from_settings`` picks one from ``Settings``.
"""

from dailypapers.mail.message import MailError, compose
from dailypapers.mail.session import (
    ConsoleSession, MailSession, SmtpSession, session_from_settings,
)
from dailypapers.mail.transport import SmtpServer

__all__ = ["ConsoleSession", "MailError", "MailSession", "SmtpServer", "SmtpSession", "compose",
           "session_from_settings"]
