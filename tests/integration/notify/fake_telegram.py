"""A fake Telegram Bot API on 127.0.0.1: ``/bot<token>/sendMessage`` and ``/bot<token>/getUpdates``."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.notify.fake_http import FakeHttpServer, Request

TOKEN = "123456:test-token-abcdef"
CHAT = "4242"


class FakeBotApi:
    """Speaks the Bot API subset the bot uses; updates are queued by the test."""

    def __init__(self) -> None:
        self.server = FakeHttpServer(route=self.route)
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.offsets: list[int | None] = []

    async def route(self, request: Request) -> tuple[int, Any]:
        prefix = f"/bot{TOKEN}/"
        if not request.path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method, body = request.path.removeprefix(prefix), request.json()
        if method == "sendMessage":
            if not body.get("text"):
                return 400, {"ok": False, "description": "Bad Request: message text is empty"}
            self.sent.append(body)
            return 200, {"ok": True, "result": {"message_id": len(self.sent), "text": body["text"]}}
        if method == "getUpdates":
            offset = body.get("offset")
            self.offsets.append(offset)
            deadline = asyncio.get_running_loop().time() + min(float(body.get("timeout", 0)), 0.5)
            while True:  # a long poll, kept short: answers when an update is there or time is up
                pending = [u for u in self.updates if offset is None or u["update_id"] >= offset]
                if pending or asyncio.get_running_loop().time() >= deadline:
                    return 200, {"ok": True, "result": pending}
                await asyncio.sleep(0.02)
        return 404, {"ok": False, "description": "Not Found"}

    def command(self, text: str, chat_id: int) -> None:
        update_id = 100 + len(self.updates)
        self.updates.append({"update_id": update_id, "message": {
            "message_id": update_id, "chat": {"id": chat_id, "type": "private"}, "text": text}})
