"""Telegram channel (Bot API ``sendMessage``) and the command listener (``getUpdates``).

Commands (/status, /positions, /profit, /halt, /resume) are obeyed only when they come from the
configured chat id; anything else is logged and ignored without a reply, so a stranger who finds
the bot learns nothing. The base URL is configurable (tests point it at a local fake server).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

import httpx
import structlog

from ictbot.monitoring.journal_records import JournalRecord

log = structlog.get_logger(__name__)

MAX_TEXT = 4096  # Telegram's limit for one message
HELP = "commands: /status /positions /profit /halt [reason] /resume"


class BotCommands(Protocol):
    async def status(self) -> str: ...

    async def positions(self) -> str: ...

    async def profit(self) -> str: ...

    async def halt(self, reason: str) -> str: ...

    async def resume(self) -> str: ...


class TelegramError(RuntimeError):
    pass


class TelegramChannel:
    def __init__(self, token: str, chat_id: str, *, base_url: str = "https://api.telegram.org",
                 timeout: float = 10.0, client: httpx.AsyncClient | None = None, name: str = "telegram") -> None:
        self.name = name
        self.chat_id = chat_id
        self._api = f"{base_url.rstrip('/')}/bot{token}"
        self._timeout = timeout
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def send(self, records: Sequence[JournalRecord]) -> None:
        await self.send_text("\n".join(r.summary for r in records))

    async def send_text(self, text: str) -> None:
        if len(text) > MAX_TEXT:
            text = text[: MAX_TEXT - 1] + "…"
        await self._call("sendMessage", {"chat_id": self.chat_id, "text": text}, self._timeout)

    async def get_updates(self, offset: int | None, poll_timeout: int) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"timeout": poll_timeout, "allowed_updates": ["message"]}
        if offset is not None:
            params["offset"] = offset
        result = await self._call("getUpdates", params, self._timeout + poll_timeout)
        return list(result) if isinstance(result, list) else []

    async def _call(self, method: str, payload: dict[str, Any], timeout: float) -> Any:
        response = await self._client.post(f"{self._api}/{method}", json=payload, timeout=timeout)
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code != 200 or not data.get("ok"):
            description = data.get("description", "") if isinstance(data, dict) else ""
            raise TelegramError(f"telegram {method} failed: HTTP {response.status_code} {description}".rstrip())
        return data.get("result")

    async def aclose(self) -> None:
        await self._client.aclose()


class TelegramCommandListener:
    """Long-polls ``getUpdates`` and answers commands from the configured chat only."""

    def __init__(self, channel: TelegramChannel, commands: BotCommands, *, poll_timeout: int = 25,
                 retry_seconds: float = 5.0) -> None:
        self._channel = channel
        self._commands = commands
        self._poll_timeout = poll_timeout
        self._retry_seconds = retry_seconds
        self._offset: int | None = None
        self.handled = 0
        self.ignored = 0

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("telegram getUpdates failed", error=str(exc))
                await asyncio.sleep(self._retry_seconds)

    async def poll_once(self) -> None:
        for update in await self._channel.get_updates(self._offset, self._poll_timeout):
            self._offset = int(update.get("update_id", 0)) + 1  # acknowledged on the next call
            await self.handle(update)

    async def handle(self, update: dict[str, Any]) -> None:
        message = update.get("message") or {}
        text = str(message.get("text") or "").strip()
        chat_id = str((message.get("chat") or {}).get("id", ""))
        if not text.startswith("/"):
            return
        if chat_id != self._channel.chat_id:
            self.ignored += 1
            log.warning("telegram command from another chat ignored", chat_id=chat_id, command=text.split()[0])
            return
        self.handled += 1
        try:
            reply = await self._dispatch(text)
        except Exception as exc:  # the command failed; the operator should hear why
            reply = f"{text.split()[0]} failed: {exc}"
        await self._channel.send_text(reply)

    async def _dispatch(self, text: str) -> str:
        command, _, rest = text.partition(" ")
        command = command.split("@", 1)[0].lower()  # "/status@my_bot" in group chats
        if command == "/status":
            return await self._commands.status()
        if command == "/positions":
            return await self._commands.positions()
        if command == "/profit":
            return await self._commands.profit()
        if command == "/halt":
            return await self._commands.halt(rest.strip() or "halted from telegram")
        if command == "/resume":
            return await self._commands.resume()
        return HELP
