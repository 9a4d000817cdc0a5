import io
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from dailypapers.mail import (
    ConsoleSession, MailError, SmtpServer, SmtpSession, compose, session_from_settings,
)
from dailypapers.settings import Settings
from tests.server import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret"
        return AuthResult(success=ok)

    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(),
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    yield controller, inbox
    controller.stop()


def test_compose_plain_and_html_alternatives():
    msg = compose(sender="Daily Papers <noreply@example.org>", to="ada@example.org",
                  subject="Reset your password", text="plain body", html="<p>html body</p>",
                  headers={"List-Unsubscribe": "<https://example.org/u/1>"})
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert msg["List-Unsubscribe"] == "<https://example.org/u/1>"
    assert msg["Message-ID"].endswith("@example.org>")


@pytest.mark.parametrize("field,value", [
    ("subject", "hello\r\nBcc: victim@example.org"),
    ("to", "ada@example.org\nBcc: victim@example.org"),
    ("to", "not an address"),
    ("to", "a@b"),
    ("sender", "x@example.org\r\nX-Evil: 1"),
])
def test_compose_refuses_header_injection_and_bad_addresses(field, value):
    args = {"sender": "noreply@example.org", "to": "ada@example.org", "subject": "s", "text": "t"}
    args[field] = value
    with pytest.raises(MailError):
        compose(**args)


def test_compose_refuses_overriding_own_headers():
    with pytest.raises(MailError):
        compose(sender="noreply@example.org", to="ada@example.org", subject="s", text="t",
                headers={"Bcc": "ok@example.org", "To": "other@example.org"})


def test_smtp_mailer_delivers_with_auth_to_a_real_server(smtp_server):
    controller, inbox = smtp_server
    server = SmtpServer(host="127.0.0.1", port=controller.port, security="none",
                        username="mailer", password="s3cret", timeout=5)
    with SmtpSession(server) as mail:
        mail.send(compose(sender="noreply@example.org", to="Ada <ada@example.org>",
                          subject="Grüße", text="body ✓"))
    assert len(inbox.messages) == 1
    rcpts, raw = inbox.messages[0]
    assert rcpts == ["ada@example.org"]
    received = message_from_bytes(raw, policy=default)
    assert received["Subject"] == "Grüße"
    assert received.get_content().strip() == "body ✓"


def test_smtp_mailer_reports_a_wrong_password_as_mail_error(smtp_server):
    controller, inbox = smtp_server
    server = SmtpServer(host="127.0.0.1", port=controller.port, security="none",
                        username="mailer", password="wrong", timeout=5)
    with pytest.raises(MailError), SmtpSession(server) as mail:
        mail.send(compose(sender="noreply@example.org", to="ada@example.org", subject="s", text="t"))
    assert inbox.messages == []


def test_smtp_mailer_reports_an_unreachable_server():
    server = SmtpServer(host="127.0.0.1", port=free_port(), security="none", timeout=2)
    with pytest.raises(MailError, match="unavailable"), SmtpSession(server) as mail:
        mail.send(compose(sender="noreply@example.org", to="ada@example.org", subject="s", text="t"))


def test_settings_choose_console_without_smtp_host_and_smtp_with_one():
    stream = io.StringIO()
    console = session_from_settings(Settings(environment="test"), stream=stream)
    assert isinstance(console, ConsoleSession)
    console.send(compose(sender="noreply@example.org", to="ada@example.org", subject="Hi", text="t"))
    assert "Subject: Hi" in stream.getvalue()
    smtp = session_from_settings(Settings(environment="test", smtp_host="mail.example.org",
                                          smtp_port=465, smtp_security="ssl"))
    assert isinstance(smtp, SmtpSession)
    assert smtp.server.security == "ssl" and smtp.server.port == 465
