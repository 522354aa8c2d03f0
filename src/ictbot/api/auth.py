"""Bearer-token authentication with two scopes.

* ``trade`` token: everything (state changes imply reading).
* ``read`` token: GET endpoints and the WebSocket feed.

Tokens come from the settings (``ICTBOT_API_TOKEN`` / ``ICTBOT_API_READ_TOKEN``) or, when unset,
are generated once and stored in ``token_file`` (mode 0600), announced once on the console.
Comparison is constant time over SHA-256 digests, so neither content nor length leaks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import structlog

from ictbot.api.settings import ApiSettings
from ictbot.filemodes import private_dir

log = structlog.get_logger(__name__)


class Scope(str, Enum):
    READ = "read"
    TRADE = "trade"

    def allows(self, needed: Scope) -> bool:
        return self is Scope.TRADE or needed is Scope.READ


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class TokenAuthority:
    """Knows the token digests (never the tokens in clear) and says which scope a token grants."""

    trade_digest: bytes
    read_digest: bytes | None

    @classmethod
    def from_tokens(cls, trade: str, read: str | None) -> TokenAuthority:
        if len(trade) < 16 or (read is not None and len(read) < 16):
            raise ValueError("API tokens must be at least 16 characters")
        return cls(_digest(trade), _digest(read) if read else None)

    def scope_of(self, token: str | None) -> Scope | None:
        if not token or len(token) > 512:
            return None
        candidate = _digest(token)
        # Evaluate both comparisons every time so timing does not reveal which one matched.
        is_trade = hmac.compare_digest(candidate, self.trade_digest)
        is_read = self.read_digest is not None and hmac.compare_digest(candidate, self.read_digest)
        if is_trade:
            return Scope.TRADE
        if is_read:
            return Scope.READ
        return None


# Paths served without a token: liveness, the API description, the dashboard shell (no data in it).
PUBLIC_PATHS = frozenset({"/health", "/docs", "/redoc", "/openapi.json", "/", "/dashboard"})
PUBLIC_PREFIXES = ("/static/",)
# POST endpoints that change nothing and so need only the read scope.
READ_ONLY_POSTS = frozenset({"/config/validate"})


def required_scope(method: str, path: str) -> Scope | None:
    """The scope an HTTP request needs; None for public paths. Everything else is denied by default."""
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or method == "OPTIONS":
        return None
    if method in ("GET", "HEAD") or (method == "POST" and path in READ_ONLY_POSTS):
        return Scope.READ
    return Scope.TRADE


def parse_bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _announce(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_or_create_tokens(
    settings: ApiSettings, announce: Callable[[str], None] = _announce
) -> TokenAuthority:
    """Tokens from the settings, else from ``token_file``, else freshly generated into it."""
    trade = settings.token.get_secret_value() if settings.token else None
    read = settings.read_token.get_secret_value() if settings.read_token else None
    if trade:
        return TokenAuthority.from_tokens(trade, read)
    path = settings.token_file
    stored = _read_token_file(path)
    if stored is None:
        stored = {"trade": secrets.token_urlsafe(32), "read": secrets.token_urlsafe(32)}
        _write_token_file(path, stored)
        announce(
            f"ictbot API tokens generated and stored in {path} (mode 0600); shown once:\n"
            f"  trade scope: {stored['trade']}\n  read scope:  {stored['read']}"
        )
    return TokenAuthority.from_tokens(stored["trade"], read or stored.get("read"))


def _read_token_file(path: Path) -> dict[str, str] | None:
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("api token file was readable by others; permissions reset to 0600", path=str(path))
        path.chmod(0o600)
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("trade"), str):
        raise ValueError(f"{path}: not an ictbot API token file")
    return {k: v for k, v in data.items() if isinstance(v, str)}


def _write_token_file(path: Path, tokens: dict[str, str]) -> None:
    private_dir(path.parent)
    # O_EXCL: never overwrite a token file another process created meanwhile.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(tokens, handle)
    path.chmod(0o600)
