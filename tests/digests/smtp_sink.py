"""A real SMTP server for the digest tests: aiosmtpd on 127.0.0.1, collecting what it accepts.

``hooks`` lets a test act at a precise point of the SMTP dialogue (e.g. SIGKILL the sending
process while it waits for the reply to RCPT TO, or right after the server accepted DATA), so
crash tests are deterministic instead of racing a timer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from tests.server import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    @property
    def to(self) -> str:
        return self.rcpt_tos[0]


@dataclass
class SmtpSink:
    port: int = field(default_factory=free_port)
    messages: list[Received] = field(default_factory=list)
    rcpts_seen: int = 0
    # Called with the number of the RCPT TO / accepted message (1-based), in the server thread.
    on_rcpt: Callable[[int, str], None] | None = None
    on_accepted: Callable[[int, Received], None] | None = None
    # At this RCPT TO (1-based) the server goes down: stops listening and drops the connection.
    crash_at_rcpt: int | None = None
    # An SMTP reply code to give every RCPT TO of these addresses ("451 …" or "550 …").
    refuse: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    def start(self) -> SmtpSink:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if address in m.rcpt_tos]

    def count_by_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._lock:
            for m in self.messages:
                for rcpt in m.rcpt_tos:
                    counts[rcpt] = counts.get(rcpt, 0) + 1
        return counts

    # -- aiosmtpd handler hooks --------------------------------------------------------------

    async def handle_RCPT(self, server: SMTP, session: object, envelope: object, address: str,
                          rcpt_options: list[str]) -> str:
        with self._lock:
            self.rcpts_seen += 1
            n = self.rcpts_seen
        if self.on_rcpt is not None:
            self.on_rcpt(n, address)
        if n == self.crash_at_rcpt and self._controller is not None:
            self._controller.server.close()
            server.transport.close()  # type: ignore[union-attr]
            return "421 going down"
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: object, envelope: object) -> str:
        received = Received(envelope.mail_from, list(envelope.rcpt_tos),  # type: ignore[attr-defined]
                            bytes(envelope.content))  # type: ignore[attr-defined]
        with self._lock:
            self.messages.append(received)
            n = len(self.messages)
        if self.on_accepted is not None:
            self.on_accepted(n, received)
        return "250 Message accepted for delivery"
