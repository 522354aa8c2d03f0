"""Webhook channel: a JSON POST per (batched) message, signed with HMAC-SHA256.

The signature is ``X-Ictbot-Signature: sha256=<hex>`` over the exact body bytes, keyed with the
secret from the environment; a receiver recomputes it to know the post is ours and unaltered.
The body comes from a template, so Slack (``{"text": ...}``) and Discord (``{"content": ...}``)
incoming webhooks work unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from string import Template
from typing import Any

import httpx

from ictbot.monitoring.journal_records import JournalRecord

SIGNATURE_HEADER = "X-Ictbot-Signature"
PRESETS: dict[str, dict[str, Any]] = {
    "json": {"text": "$text", "event": "$event", "severity": "$severity", "count": "$count", "events": "$events"},
    "slack": {"text": "$text"},
    "discord": {"content": "$text"},
}


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def render(template: Any, records: Sequence[JournalRecord]) -> Any:
    """Fill the template: ``"$events"`` becomes the records, other strings get $text/$event/$severity/$count."""
    worst = max(records, key=lambda r: ("info", "warning", "critical").index(r.severity.value))
    values = {"text": "\n".join(r.summary for r in records), "event": records[0].event if len(records) == 1
              else "batch", "severity": worst.severity.value, "count": str(len(records))}
    if template == "$events":
        return [r.as_dict() for r in records]
    if isinstance(template, str):
        return Template(template).safe_substitute(values)
    if isinstance(template, dict):
        return {key: render(value, records) for key, value in template.items()}
    if isinstance(template, list):
        return [render(value, records) for value in template]
    return template


class WebhookChannel:
    def __init__(self, name: str, url: str, *, secret: str | None = None, template: dict[str, Any] | None = None,
                 preset: str = "json", headers: dict[str, str] | None = None, timeout: float = 10.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.name = name
        self._url = url
        self._secret = secret
        self._template = template if template is not None else PRESETS[preset]
        self._headers = dict(headers or {})
        self._client = client or httpx.AsyncClient(timeout=timeout)

    def body(self, records: Sequence[JournalRecord]) -> bytes:
        return json.dumps(render(self._template, records), default=str, separators=(",", ":")).encode()

    async def send(self, records: Sequence[JournalRecord]) -> None:
        body = self.body(records)
        headers = {**self._headers, "Content-Type": "application/json"}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        response = await self._client.post(self._url, content=body, headers=headers)
        if response.status_code >= 300:
            raise RuntimeError(f"webhook answered HTTP {response.status_code}")

    async def aclose(self) -> None:
        await self._client.aclose()
