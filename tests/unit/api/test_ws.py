"""The /ws endpoint through Starlette's test client: auth, subscriptions, resume, commands."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from ictbot.api.broadcaster import Broadcaster
from tests.unit.api.conftest import READ_TOKEN, TRADE_TOKEN
from tests.unit.api.fakes import FakeFacade


def feed(app: FastAPI) -> Broadcaster:
    broadcaster: Broadcaster = app.state.broadcaster
    return broadcaster


def publish(client: TestClient, app: FastAPI, message_type: str, data: Any) -> None:
    # the broadcaster lives on the test client's event loop thread
    assert client.portal is not None
    client.portal.call(lambda: feed(app).publish(message_type, data))


def test_query_token_authenticates(client: TestClient) -> None:
    with client.websocket_connect(f"/ws?token={READ_TOKEN}") as ws:
        welcome = ws.receive_json()
    assert welcome["type"] == "welcome" and welcome["data"]["scope"] == "read"


def test_first_message_authenticates(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"action": "auth", "token": TRADE_TOKEN})
        assert ws.receive_json()["data"]["scope"] == "trade"


@pytest.mark.parametrize("first", [{"action": "auth", "token": "wrong-token-1234567"}, {"action": "ping"}, "not json"])
def test_bad_auth_is_closed_4401(client: TestClient, first: Any) -> None:
    with client.websocket_connect("/ws") as ws:
        if isinstance(first, str):
            ws.send_text(first)
        else:
            ws.send_json(first)
        assert ws.receive_json()["error"]["code"] == "unauthenticated"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401


def test_wrong_query_token_is_closed(client: TestClient) -> None:
    with client.websocket_connect("/ws?token=nope-nope-nope-nope") as ws:
        assert ws.receive_json()["error"]["code"] == "unauthenticated"
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_subscribe_receive_and_resume(client: TestClient, app: FastAPI) -> None:
    with client.websocket_connect(f"/ws?token={READ_TOKEN}") as ws:
        ws.receive_json()
        ws.send_json({"action": "subscribe", "types": ["order", "alert"], "id": "s1"})
        ack = ws.receive_json()
        assert ack == {**ack, "type": "ack", "id": "s1"} and ack["data"]["types"] == ["alert", "order"]
        publish(client, app, "order", {"n": 1})
        publish(client, app, "signal", {"n": 2})  # not subscribed
        publish(client, app, "alert", {"n": 3})
        first, second = ws.receive_json(), ws.receive_json()
        assert (first["type"], first["seq"], second["type"], second["seq"]) == ("order", 1, "alert", 3)
    # reconnect after missing two messages and resume from the last seen seq
    publish(client, app, "order", {"n": 4})
    publish(client, app, "alert", {"n": 5})
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"action": "auth", "token": READ_TOKEN})
        ws.receive_json()
        ws.send_json({"action": "subscribe", "types": ["order", "alert"], "since_seq": 3})
        replayed = [ws.receive_json(), ws.receive_json()]
        ack = ws.receive_json()
    assert [m["seq"] for m in replayed] == [4, 5] and [m["data"]["n"] for m in replayed] == [4, 5]
    assert ack["type"] == "ack" and ack["data"]["gap"] is None


def test_ping_and_invalid_messages(client: TestClient) -> None:
    with client.websocket_connect(f"/ws?token={READ_TOKEN}") as ws:
        ws.receive_json()
        ws.send_json({"action": "ping", "id": "p"})
        assert ws.receive_json()["type"] == "pong"
        ws.send_text("{oops")
        assert ws.receive_json()["error"]["code"] == "invalid"
        ws.send_json({"action": "subscribe", "types": ["gossip"], "id": "x"})
        error = ws.receive_json()
        assert error["id"] == "x" and error["error"]["errors"][0]["field"].startswith("subscribe.types")
        ws.send_json({"action": "launch"})
        assert ws.receive_json()["error"]["code"] == "invalid"
        ws.send_text("x" * 20_000)
        assert ws.receive_json()["error"]["code"] == "too_large"


def test_read_scope_cannot_command(client: TestClient, facade: FakeFacade) -> None:
    with client.websocket_connect(f"/ws?token={READ_TOKEN}") as ws:
        ws.receive_json()
        ws.send_json({"action": "command", "id": "c1", "command": "halt", "args": {}})
        reply = ws.receive_json()
    assert reply["type"] == "error" and reply["id"] == "c1" and reply["error"]["code"] == "forbidden"
    assert facade.calls == []


def test_trade_commands_ack_or_error(client: TestClient, facade: FakeFacade) -> None:
    def command(ws: Any, request_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
        ws.send_json({"action": "command", "id": request_id, "command": name, "args": args})
        reply: dict[str, Any] = ws.receive_json()
        assert reply["id"] == request_id
        return reply

    with client.websocket_connect(f"/ws?token={TRADE_TOKEN}") as ws:
        ws.receive_json()
        closed = command(ws, "1", "close_position", {"position_id": "pos-1"})
        assert closed["type"] == "ack" and closed["data"]["reduce_only"] is True
        assert command(ws, "2", "close_position", {"position_id": "pos-1"})["error"]["code"] == "conflict"
        assert command(ws, "3", "close_position", {"position_id": "nope"})["error"]["code"] == "not_found"
        assert command(ws, "4", "close_position", {})["error"]["code"] == "invalid"
        assert command(ws, "5", "disable_strategy", {"strategy_id": "ict_ote"})["data"]["enabled"] is False
        assert command(ws, "6", "enable_strategy", {"strategy_id": "ghost"})["error"]["code"] == "not_found"
        assert command(ws, "7", "halt", {"reason": "lunch"})["data"]["state"] == "HALTED"
        assert command(ws, "8", "resume", {})["data"]["state"] == "ACTIVE"
        assert command(ws, "9", "resume", {"extra": 1})["error"]["code"] == "invalid"
        facade.fail_with = RuntimeError("bug")
        assert command(ws, "10", "halt", {})["error"] == {"code": "internal", "message": "command failed"}
    assert facade.strategies["ict_ote"]["enabled"] is False
