"""Sending many messages over one SMTP connection, each with a "point of no return" hook.

An SMTP server takes responsibility for a message when it reads the final ``"."`` of DATA.
``SmtpSession.send`` writes the whole message *except* that dot, then calls ``commit()`` (the
outbox marks the delivery sent in its database), and only then writes the dot. So:

- killed before ``commit()`` returns: the connection dies mid-DATA, the server discards the
  message, the database still says "not sent" → the next run sends it, exactly once;
- killed after: the database says "sent" and the dot is already in the kernel's socket buffer
  (or, in a window of a few microseconds, not yet) → not sent again.

``commit()`` may also refuse (return False: another worker owns the delivery now); the
connection is then dropped without the dot, and nothing is delivered.
"""

from __future__ import annotations

import re
import smtplib
import socket
import sys
from collections.abc import Callable
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from types import TracebackType
from typing import Protocol, TextIO

from dailypapers.mail.message import MailError
from dailypapers.mail.transport import SmtpServer, smtp_server_from_settings
from dailypapers.settings import Settings

_LEADING_DOT = re.compile(rb"(?m)^\.")
_EOL = re.compile(rb"\r\n|\r|\n")


class ServerUnavailable(MailError):
    """The SMTP server cannot be reached or dropped us before a message was committed."""


class Rejected(MailError):
    """The server answered a message with an error code (``permanent`` for 5xx)."""

    def __init__(self, message: str, *, code: int, permanent: bool, committed: bool) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent
        # True when the refusal came after commit() (the reply to the final dot).
        self.committed = committed


class NoReplyAfterCommit(MailError):
    """The connection broke after the final dot was written: the server most likely has the
    message (it is treated as sent, never re-sent)."""


class CommitRefused(MailError):
    """commit() declined: the message was abandoned before the final dot."""


Commit = Callable[[], bool]


class MailSession(Protocol):
    """The one way mail leaves: a digest run sends thousands of messages through one session, a
    password reset sends one (``with session_from_settings(settings) as mail: mail.send(m)``)."""

    @property
    def where(self) -> str:
        """Where messages go, for error messages ("mail.example.org:587", "the console")."""

    def connect(self) -> None:
        """Make sure the server can be reached now (raises ``ServerUnavailable``); ``send``
        connects by itself, a run calls this first so it claims no work it cannot send."""

    def send(self, message: EmailMessage, *, commit: Commit | None = None) -> None:
        """Deliver ``message``; call ``commit`` right before the point of no return."""

    def close(self) -> None: ...

    def __enter__(self) -> MailSession: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


# Headers are folded only past SMTP's hard limit: a folded List-Unsubscribe (long URLs with
# tokens) would otherwise come out as RFC 2047 encoded words, which no mail client parses.
WIRE_POLICY = SMTP.clone(max_line_length=998)


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as DATA payload: CRLF line ends, leading dots doubled, ending in CRLF."""
    data = _EOL.sub(b"\r\n", message.as_bytes(policy=WIRE_POLICY))
    data = _LEADING_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _one_address(message: EmailMessage, header: str) -> str:
    value = message.get(header)
    addresses: tuple[Address, ...] = getattr(value, "addresses", ()) if value is not None else ()
    if len(addresses) != 1:
        raise MailError(f"{header} must hold exactly one address")
    return str(addresses[0].addr_spec)


class SmtpSession:
    """One SMTP connection (opened lazily, re-opened after a drop) for a whole run."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self._smtp: smtplib.SMTP | None = None
        self._fresh = False

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def where(self) -> str:
        return self.server.where

    def connect(self) -> None:
        """Open the connection now (a run checks the server before it claims any work)."""
        if self._smtp is not None:
            return
        try:
            smtp = self.server.open()
            # The final dot is a separate small write: with Nagle's algorithm it would wait for
            # the (delayed) ACK of the body, ~40 ms per message.
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo_or_helo_if_needed()
            if self.server.username:
                smtp.login(self.server.username, self.server.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise ServerUnavailable(f"SMTP server {self.where} is unavailable: {exc}") from exc
        self._smtp, self._fresh = smtp, True

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _abort(self) -> None:
        """Drop the connection mid-transaction: the server discards the unfinished message."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _check(self, code: int, reply: bytes, step: str, *, ok: tuple[int, ...]) -> None:
        if code in ok:
            return
        text = f"{step} refused by {self.where}: {code} {reply.decode('utf-8', 'replace')}"
        if code == 421:  # "service not available, closing transmission channel"
            self._abort()
            raise ServerUnavailable(f"SMTP server {self.where} is unavailable: {text}")
        assert self._smtp is not None
        try:
            self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._abort()
        raise Rejected(text, code=code, permanent=code >= 500, committed=False)

    def _begin(self, sender: str, recipient: str, eight_bit: bool) -> None:
        """MAIL FROM and RCPT TO; a reused connection that went stale is re-opened once."""
        for attempt in (1, 2):
            self.connect()
            smtp = self._smtp
            assert smtp is not None
            options = ["BODY=8BITMIME"] if eight_bit and smtp.has_extn("8bitmime") else []
            try:
                code, reply = smtp.mail(sender, options)
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                self._abort()
                if attempt == 1 and not self._fresh:
                    continue
                raise ServerUnavailable(f"SMTP server {self.where} dropped the connection: "
                                        f"{exc}") from exc
            self._fresh = False
            self._check(code, reply, "sender", ok=(250,))
            code, reply = smtp.rcpt(recipient)
            self._check(code, reply, f"recipient {recipient}", ok=(250, 251))
            return

    def send(self, message: EmailMessage, *, commit: Commit | None = None) -> None:
        sender = _one_address(message, "From")
        recipient = _one_address(message, "To")
        data = wire_bytes(message)
        if data.count(b"\r\n") and max(map(len, data.split(b"\r\n"))) > 998:
            raise MailError("a line of the message is longer than SMTP allows")
        try:
            self._begin(sender, recipient, eight_bit=not data.isascii())
            smtp = self._smtp
            assert smtp is not None
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            self._check(code, reply, "DATA", ok=(354,))
            smtp.send(data)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._abort()
            raise ServerUnavailable(f"SMTP server {self.where} dropped the connection: "
                                    f"{exc}") from exc
        if commit is not None:
            try:
                committed = commit()
            except BaseException:
                self._abort()
                raise
            if not committed:
                self._abort()
                raise CommitRefused("delivery no longer ours; message abandoned before the end")
        try:
            smtp.send(b".\r\n")
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._abort()
            raise NoReplyAfterCommit(f"no reply from {self.where} after the end of the message "
                                     f"(assumed delivered): {exc}") from exc
        if code != 250:
            raise Rejected(f"message refused by {self.where}: {code} "
                           f"{reply.decode('utf-8', 'replace')}",
                           code=code, permanent=code >= 500, committed=True)


class ConsoleSession:
    """Development stand-in: commits, then prints each message instead of sending it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def __enter__(self) -> ConsoleSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def where(self) -> str:
        return "the console"

    def connect(self) -> None:
        return None

    def send(self, message: EmailMessage, *, commit: Commit | None = None) -> None:
        if commit is not None and not commit():
            raise CommitRefused("delivery no longer ours; message abandoned")
        out = self.stream or sys.stderr
        out.write("----- mail (console backend, not sent) -----\n")
        out.write(message.as_string())
        out.write("\n----- end of mail -----\n")
        out.flush()

    def close(self) -> None:
        return None


def session_from_settings(settings: Settings, *, stream: TextIO | None = None) -> MailSession:
    """An SMTP session when ``smtp_host`` is set, else the console (the development default)."""
    server = smtp_server_from_settings(settings)
    return ConsoleSession(stream) if server is None else SmtpSession(server)
