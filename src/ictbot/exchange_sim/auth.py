"""API keys, request signatures (HMAC-SHA256 hex, Ed25519 base64) and the timestamp window.

Default (no keys file): any API key is accepted and gets its own funded account on first use;
the signature is checked only for presence and form. With a keys file only the listed keys are
accepted and every signature is verified exactly as Binance does (A3).

Keys file (JSON)::

    [{"apiKey": "k1", "secret": "hmac-secret"},
     {"apiKey": "k2", "ed25519PublicKey": "-----BEGIN PUBLIC KEY-----\\n..."}]
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ictbot.exchange_sim.errors import SimError, mandatory

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_API_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MAX_RECV_WINDOW = 60_000


@dataclass(frozen=True, slots=True)
class ApiKey:
    api_key: str
    secret: str | None = None
    ed25519_public_key: Ed25519PublicKey | None = None

    def verify(self, payload: str, signature: str) -> bool:
        if self.secret is not None:
            expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, signature.lower())
        if self.ed25519_public_key is not None:
            try:
                self.ed25519_public_key.verify(base64.b64decode(signature, validate=True), payload.encode())
            except (InvalidSignature, binascii.Error, ValueError):
                return False
            return True
        return False


def load_keys(path: str | Path) -> dict[str, ApiKey]:
    rows = json.loads(Path(path).read_text())
    keys: dict[str, ApiKey] = {}
    for row in rows:
        public = row.get("ed25519PublicKey")
        key_object = load_pem_public_key(public.encode()) if public else None
        if key_object is not None and not isinstance(key_object, Ed25519PublicKey):
            raise ValueError(f"key {row['apiKey']}: only Ed25519 public keys are supported")
        keys[row["apiKey"]] = ApiKey(row["apiKey"], row.get("secret"), key_object)
    return keys


def hmac_signature(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def strip_signature(raw: str) -> str:
    """Remove the ``signature`` parameter from a raw (percent-encoded) query string or body."""
    return "&".join(part for part in raw.split("&") if part and not part.startswith("signature="))


def ws_api_payload(params: dict[str, object]) -> str:
    """WS-API signing payload: params except signature, sorted by name, ``k=v`` joined, not encoded."""
    return "&".join(f"{k}={_ws_value(v)}" for k, v in sorted(params.items()) if k != "signature")


def _ws_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Authenticator:
    def __init__(self, keys: dict[str, ApiKey] | None = None, verify_timestamps: bool = True,
                 strict_time: bool = False) -> None:
        self.keys = keys
        self.verify_timestamps = verify_timestamps
        self.strict_time = strict_time  # replay clock only; otherwise the wall clock is accepted too

    @property
    def strict(self) -> bool:
        return self.keys is not None

    def api_key(self, key: str | None) -> str:
        """The account id for ``key`` (the key itself); 401 when missing/unknown."""
        if not key or not _API_KEY.match(key):
            raise SimError(-2014, "API-key format invalid.", 401)
        if self.keys is not None and key not in self.keys:
            raise SimError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        return key

    def signature(self, key: str, payload: str, signature: str | None) -> None:
        if not signature:
            raise mandatory("signature")
        if self.keys is None:
            if not (_HEX64.match(signature) or (_BASE64.match(signature) and len(signature) >= 16)):
                raise SimError(-1022, "Signature for this request is not valid.")
            return
        if not self.keys[key].verify(payload, signature):
            raise SimError(-1022, "Signature for this request is not valid.")

    def timestamp(self, raw_timestamp: str | None, raw_recv_window: str | None, server_ms: int,
                  wall_ms: int | None = None) -> None:
        """The recvWindow rule of A3 (µs timestamps accepted; recvWindow may carry 3 decimals).

        A request passes when its timestamp is within the window of ``server_ms`` (replay time) or,
        unless ``strict_time``, of ``wall_ms``: a third-party client stamps requests with the wall
        clock and cannot know the replay runs N× faster, or in another year.
        """
        if raw_timestamp is None or raw_timestamp == "":
            raise mandatory("timestamp")
        try:
            timestamp = int(raw_timestamp)
        except ValueError:
            raise SimError(-1100, "Illegal characters found in parameter 'timestamp'.") from None
        if timestamp > 10**14:  # microseconds
            timestamp //= 1000
        recv_window = 5000.0
        if raw_recv_window:
            try:
                recv_window = float(raw_recv_window)
            except ValueError:
                raise SimError(-1100, "Illegal characters found in parameter 'recvWindow'.") from None
            if recv_window > MAX_RECV_WINDOW or recv_window <= 0:
                raise SimError(-1131, "recvWindow must be less than 60000")
        if not self.verify_timestamps:
            return
        if wall_ms is not None and not self.strict_time and _within(timestamp, recv_window, wall_ms):
            return
        if timestamp >= server_ms + 1000:
            raise SimError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if server_ms - timestamp > recv_window:
            raise SimError(-1021, "Timestamp for this request is outside of the recvWindow.")


def _within(timestamp: int, recv_window: float, now_ms: int) -> bool:
    return timestamp < now_ms + 1000 and now_ms - timestamp <= recv_window
