"""E-mail through a local SMTP server: STARTTLS with a self-signed certificate, AUTH, one message per batch."""

from __future__ import annotations

import email
import ssl
from pathlib import Path

import pytest

from ictbot.domain.events import AlertLevel
from ictbot.monitoring.journal_records import JournalRecord
from ictbot.notify.config import Secrets, effective_config
from ictbot.notify.email import EmailChannel
from ictbot.notify.factory import build_notifications
from tests.integration.notify.fake_smtp import FakeSmtpServer, self_signed


async def test_sends_over_starttls_with_login(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server = FakeSmtpServer(cert, key)
    await server.start()
    trusted = ssl.create_default_context(cafile=str(cert))
    channel = EmailChannel(host="127.0.0.1", port=server.port, sender="bot@example.org",
                           recipients=["ops@example.org", "me@example.org"], username="bot", password="pw-1234",
                           tls_context=trusted)
    records = [JournalRecord("trading_halted", "TRADING halted (was ACTIVE): daily loss", AlertLevel.CRITICAL),
               JournalRecord("position_closed", "POSITION closed p-1 BTCUSDT LONG net P&L -61.2", AlertLevel.INFO)]
    await channel.send(records)
    await server.stop()

    [mail] = server.mails
    assert mail.over_tls and mail.login == "\0bot\0pw-1234"
    assert mail.sender == "bot@example.org" and mail.recipients == ["ops@example.org", "me@example.org"]
    message = email.message_from_bytes(mail.data)
    assert message["Subject"] == "[ictbot] 2 events, first: TRADING halted (was ACTIVE): daily loss"
    body = message.get_payload()
    assert isinstance(body, str)
    assert "CRITICAL TRADING halted" in body and "INFO POSITION closed p-1" in body


async def test_an_untrusted_certificate_fails_the_send(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server = FakeSmtpServer(cert, key)
    await server.start()
    channel = EmailChannel(host="127.0.0.1", port=server.port, sender="bot@example.org", recipients=["o@example.org"])
    with pytest.raises(ssl.SSLCertVerificationError):
        await channel.send([JournalRecord("alert", "ALERT x", AlertLevel.WARNING)])
    await server.stop()
    assert server.mails == []


def test_a_login_without_its_password_names_the_variable() -> None:
    section = {"email": {"host": "smtp.example.org", "sender": "bot@example.org", "recipients": ["o@example.org"],
                         "username": "bot"}}
    with pytest.raises(ValueError, match="SMTP_PASSWORD is not set"):
        build_notifications(effective_config(section, {}), Secrets({}))
    setup = build_notifications(effective_config(section, {}), Secrets({"SMTP_PASSWORD": "pw-1234"}))
    [worker] = setup.notifier.workers
    assert worker.channel.name == "email" and worker.options.min_severity is AlertLevel.WARNING
