from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ictbot.api import ApiSettings, create_app
from ictbot.api.auth import TokenAuthority
from tests.unit.api.fakes import FakeFacade

TRADE_TOKEN = "trade-token-0123456789abcdef"
READ_TOKEN = "read-token-0123456789abcdef"
TRADE = {"Authorization": f"Bearer {TRADE_TOKEN}"}
READ = {"Authorization": f"Bearer {READ_TOKEN}"}


@pytest.fixture
def facade() -> FakeFacade:
    return FakeFacade()


@pytest.fixture
def tokens() -> TokenAuthority:
    return TokenAuthority.from_tokens(TRADE_TOKEN, READ_TOKEN)


@pytest.fixture
def app(facade: FakeFacade, tokens: TokenAuthority) -> FastAPI:
    return create_app(facade, ApiSettings(ws_heartbeat_s=60), tokens=tokens)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
