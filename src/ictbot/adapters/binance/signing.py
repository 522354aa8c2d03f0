"""Request signing (HMAC-SHA256 and Ed25519) and the API credentials that carry the key.

Secrets never appear in ``repr``/``str`` of these objects, so they cannot leak through logs or
exception messages that format them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

ParamValue = str | int | bool


class Signer(Protocol):
    def sign(self, payload: str) -> str:
        """Signature of ``payload`` exactly as Binance expects it (before URL encoding)."""
        ...


class HmacSigner:
    """HMAC-SHA256 keyed with the API secret; hex output."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("empty HMAC secret")
        self._secret = secret.encode()

    def sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "HmacSigner(secret=***)"


class Ed25519Signer:
    """Ed25519 over the payload bytes; base64 output (Binance's recommended key type)."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def from_pem(cls, pem: str | bytes, password: bytes | None = None) -> Ed25519Signer:
        data = pem.encode() if isinstance(pem, str) else pem
        key = load_pem_private_key(data, password=password)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM key is not an Ed25519 private key")
        return cls(key)

    def sign(self, payload: str) -> str:
        return base64.b64encode(self._key.sign(payload.encode())).decode()

    def __repr__(self) -> str:
        return "Ed25519Signer(key=***)"


class Credentials:
    """API key plus the signer holding the secret. ``repr`` shows only the first 4 key chars."""

    __slots__ = ("api_key", "signer")

    def __init__(self, api_key: str, signer: Signer) -> None:
        self.api_key = api_key
        self.signer = signer

    @classmethod
    def hmac(cls, api_key: str, secret: str) -> Credentials:
        return cls(api_key, HmacSigner(secret))

    @classmethod
    def ed25519(cls, api_key: str, private_key_pem: str | bytes, password: bytes | None = None) -> Credentials:
        return cls(api_key, Ed25519Signer.from_pem(private_key_pem, password))

    def __repr__(self) -> str:
        return f"Credentials(api_key={mask(self.api_key)}, signer={self.signer!r})"

    __str__ = __repr__


def mask(value: str) -> str:
    return f"{value[:4]}***" if len(value) > 8 else "***"


def format_param(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_query(params: Mapping[str, ParamValue]) -> str:
    """Percent-encoded query string in insertion order (what REST signs since 2026-01-15)."""
    return urlencode({k: format_param(v) for k, v in params.items()}, quote_via=quote, safe="")


def signed_query(params: Mapping[str, ParamValue], signer: Signer) -> str:
    """REST: sign the percent-encoded query, append ``signature`` (itself percent-encoded)."""
    query = encode_query(params)
    signature = signer.sign(query)
    return f"{query}&signature={quote(signature, safe='')}"


def ws_api_payload(params: Mapping[str, ParamValue]) -> str:
    """WebSocket API: params sorted by name, ``k=v`` joined by ``&``, not percent-encoded."""
    return "&".join(f"{k}={format_param(params[k])}" for k in sorted(params) if k != "signature")
