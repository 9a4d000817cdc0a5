"""Composing messages so that no user-supplied value can add or alter a header."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate, make_msgid, parseaddr

# RFC 5322 allows 998-character lines; with the default 78, long links get quoted-printable
# soft breaks, which makes console mails in development hard to copy from.
POLICY = SMTP.clone(max_line_length=998)
# Header names we set ourselves; extra headers may not override them.
_OWN = {"from", "to", "subject", "date", "message-id", "content-type", "mime-version",
        "content-transfer-encoding"}


class MailError(ValueError):
    """A message that cannot be composed or sent (bad address, header injection, SMTP failure)."""


def _clean(value: str, what: str) -> str:
    if "\r" in value or "\n" in value or "\x00" in value:
        raise MailError(f"{what} must be a single line")
    return value


def check_address(value: str) -> str:
    """``"Name <a@b.c>"`` or ``a@b.c`` → the same, normalized; anything else raises ``MailError``."""
    _clean(value, "address")
    name, addr = parseaddr(value)
    if not addr or addr.count("@") != 1:
        raise MailError(f"not an e-mail address: {value[:80]!r}")
    local, domain = addr.split("@")
    if not local or "." not in domain.strip(".") or any(c.isspace() for c in addr):
        raise MailError(f"not an e-mail address: {value[:80]!r}")
    try:
        Address(addr_spec=addr)
    except (ValueError, IndexError) as exc:
        raise MailError(f"not an e-mail address: {value[:80]!r}") from exc
    return formataddr((name, addr)) if name else addr


def compose(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A ``multipart/alternative`` message (or plain text when ``html`` is None).

    Every address and header value must be one line: CR/LF raise ``MailError`` instead of
    smuggling in extra headers or recipients.
    """
    msg = EmailMessage(policy=POLICY)
    msg["From"] = check_address(sender)
    msg["To"] = check_address(to)
    msg["Subject"] = _clean(subject, "subject")
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        _clean(name, "header name")
        if not name or ":" in name or name.lower() in _OWN:
            raise MailError(f"header {name!r} cannot be set")
        msg[name] = _clean(value, f"header {name}")
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg
