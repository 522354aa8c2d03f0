from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from ictbot.api.auth import Scope, TokenAuthority, load_or_create_tokens, parse_bearer
from ictbot.api.settings import ApiSettings


def test_scopes_by_token() -> None:
    authority = TokenAuthority.from_tokens("t" * 20, "r" * 20)
    assert authority.scope_of("t" * 20) is Scope.TRADE
    assert authority.scope_of("r" * 20) is Scope.READ
    assert authority.scope_of("x" * 20) is None
    assert authority.scope_of("") is None
    assert authority.scope_of(None) is None
    assert authority.scope_of("t" * 10_000) is None


def test_trade_scope_implies_read_but_not_the_reverse() -> None:
    assert Scope.TRADE.allows(Scope.READ) and Scope.TRADE.allows(Scope.TRADE)
    assert Scope.READ.allows(Scope.READ) and not Scope.READ.allows(Scope.TRADE)


def test_short_tokens_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenAuthority.from_tokens("short", None)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer ", None), (None, None)],
)
def test_parse_bearer(header: str | None, expected: str | None) -> None:
    assert parse_bearer(header) == expected


def test_generated_tokens_are_stored_0600_and_announced_once(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "api_token"
    messages: list[str] = []
    settings = ApiSettings(token_file=path)
    first = load_or_create_tokens(settings, messages.append)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(messages) == 1
    trade = messages[0].split("trade scope: ")[1].split()[0]
    read = messages[0].split("read scope:  ")[1].split()[0]
    assert first.scope_of(trade) is Scope.TRADE and first.scope_of(read) is Scope.READ
    second = load_or_create_tokens(settings, messages.append)
    assert len(messages) == 1  # not printed again
    assert second.scope_of(trade) is Scope.TRADE


def test_token_file_permissions_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "api_token"
    path.write_text('{"trade": "' + "k" * 32 + '"}')
    path.chmod(0o644)
    authority = load_or_create_tokens(ApiSettings(token_file=path), lambda _: None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert authority.scope_of("k" * 32) is Scope.TRADE


def test_settings_tokens_win_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "api_token"
    settings = ApiSettings(token=SecretStr("e" * 24), read_token=SecretStr("f" * 24), token_file=path)
    authority = load_or_create_tokens(settings, lambda _: pytest.fail("must not announce"))
    assert authority.scope_of("e" * 24) is Scope.TRADE
    assert authority.scope_of("f" * 24) is Scope.READ
    assert not path.exists()


def test_settings_are_secure_by_default() -> None:
    settings = ApiSettings()
    assert settings.host == "127.0.0.1" and settings.is_loopback
    assert settings.cors_origins == ()
    assert "e" * 24 not in repr(ApiSettings(token=SecretStr("e" * 24)))


def test_wildcard_cors_is_refused() -> None:
    with pytest.raises(ValueError):
        ApiSettings(cors_origins=("*",))
    assert ApiSettings(cors_origins="http://a.test, https://b.test").cors_origins == ("http://a.test", "https://b.test")


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/health", None),
        ("GET", "/dashboard", None),
        ("GET", "/static/dashboard.js", None),
        ("OPTIONS", "/orders", None),  # CORS preflight
        ("GET", "/orders", Scope.READ),
        ("HEAD", "/status", Scope.READ),
        ("POST", "/config/validate", Scope.READ),
        ("POST", "/orders", Scope.TRADE),
        ("PUT", "/config/risk", Scope.TRADE),
        ("DELETE", "/orders/x", Scope.TRADE),
        ("POST", "/some/future/route", Scope.TRADE),  # deny by default
        ("GET", "/healthz", Scope.READ),
    ],
)
def test_required_scope_policy(method: str, path: str, expected: Scope | None) -> None:
    from ictbot.api.auth import required_scope

    assert required_scope(method, path) is expected


def test_unknown_paths_need_a_token_too() -> None:
    from fastapi.testclient import TestClient

    from ictbot.api import create_app
    from tests.unit.api.fakes import FakeFacade

    app = create_app(FakeFacade(), tokens=TokenAuthority.from_tokens("t" * 20, None))
    with TestClient(app) as client:
        assert client.get("/no/such/thing").status_code == 401
        assert client.get("/no/such/thing", headers={"Authorization": "Bearer " + "t" * 20}).status_code == 404
