"""E-mail channel: stdlib ``smtplib`` (STARTTLS by default) in a worker thread.

Sending runs in ``asyncio.to_thread`` so a slow mail server never holds the event loop.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from ictbot.monitoring.journal_records import JournalRecord


class EmailChannel:
    def __init__(self, *, host: str, port: int, sender: str, recipients: Sequence[str], starttls: bool = True,
                 username: str | None = None, password: str | None = None, subject_prefix: str = "[ictbot]",
                 timeout: float = 10.0, tls_context: ssl.SSLContext | None = None, name: str = "email") -> None:
        self.name = name
        self._host, self._port = host, port
        self._sender, self._recipients = sender, list(recipients)
        self._starttls = starttls
        self._username, self._password = username, password
        self._prefix = subject_prefix
        self._timeout = timeout
        self._tls = tls_context or ssl.create_default_context()

    def message(self, records: Sequence[JournalRecord]) -> EmailMessage:
        first = records[0]
        subject = first.summary if len(records) == 1 else f"{len(records)} events, first: {first.summary}"
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(self._recipients)
        message["Subject"] = f"{self._prefix} {subject}"[:200]
        message.set_content("\n".join(f"{r.severity.value.upper()} {r.summary}" for r in records) + "\n")
        return message

    async def send(self, records: Sequence[JournalRecord]) -> None:
        await asyncio.to_thread(self._send_blocking, self.message(records))

    def _send_blocking(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            if self._starttls:
                smtp.starttls(context=self._tls)
            if self._username and self._password:
                smtp.login(self._username, self._password)
            smtp.send_message(message)

    async def aclose(self) -> None:
        return None
