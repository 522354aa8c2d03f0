from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from ictbot.api import ApiSettings, create_app
from ictbot.api.auth import TokenAuthority
from ictbot.api.server import RedactTokenFilter, build_server
from tests.unit.api.fakes import FakeFacade


def test_access_log_token_is_redacted() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/ws?token=supersecret-0123456789&x=1", "1.1", 101), None)
    RedactTokenFilter().filter(record)
    assert "supersecret" not in record.getMessage()
    assert "token=***&x=1" in record.getMessage()


def test_server_binds_loopback_by_default() -> None:
    tokens = TokenAuthority.from_tokens("t" * 20, None)
    server = build_server(create_app(FakeFacade(), tokens=tokens), ApiSettings())
    assert server.config.host == "127.0.0.1"
    assert server.config.access_log is False
    # the broadcast fast path needs the sansio protocol and uncompressed (shareable) frames
    assert server.config.ws == "websockets-sansio"
    assert server.config.ws_per_message_deflate is False


def test_websocket_auth_times_out() -> None:
    tokens = TokenAuthority.from_tokens("t" * 20, None)
    app = create_app(FakeFacade(), ApiSettings(ws_auth_timeout_s=0.05), tokens=tokens)
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["error"]["code"] == "unauthenticated"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401


def test_too_many_websocket_clients() -> None:
    tokens = TokenAuthority.from_tokens("t" * 20, None)
    app = create_app(FakeFacade(), ApiSettings(ws_max_clients=1), tokens=tokens)
    with TestClient(app) as client, client.websocket_connect(f"/ws?token={'t' * 20}") as first:
        assert first.receive_json()["type"] == "welcome"
        with client.websocket_connect(f"/ws?token={'t' * 20}") as second, pytest.raises(WebSocketDisconnect) as closed:
            second.receive_json()
    assert closed.value.code == 1013
