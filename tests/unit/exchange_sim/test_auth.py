"""Signatures and timing: the documentation's test vectors (binance-protocol.md A3)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ictbot.exchange_sim.auth import Authenticator, hmac_signature, load_keys, strip_signature, ws_api_payload
from ictbot.exchange_sim.errors import SimError

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def test_rest_hmac_vectors() -> None:
    payload = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
               "&timestamp=1499827319559")
    assert hmac_signature(SECRET, payload) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    encoded = payload.replace("LTCBTC", "%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96")
    assert hmac_signature(SECRET, encoded) == "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"


def test_ws_api_payload_vector() -> None:
    params = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01000000",
              "price": "52000.00", "recvWindow": 100, "timestamp": 1645423376532,
              "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A", "signature": "x"}
    assert hmac_signature(SECRET, ws_api_payload(params)) == (
        "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24")


def test_strip_signature_keeps_everything_else_verbatim() -> None:
    assert strip_signature("a=1&signature=abc&b=%20") == "a=1&b=%20"


def test_keys_file_verifies_hmac_and_ed25519(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    keys_file = tmp_path / "keys.json"
    rows = [{"apiKey": "hmac1", "secret": SECRET}, {"apiKey": "ed1", "ed25519PublicKey": pem}]
    keys_file.write_text(json.dumps(rows))
    auth = Authenticator(load_keys(keys_file))
    auth.signature("hmac1", "a=1", hmac_signature(SECRET, "a=1"))
    auth.signature("ed1", "a=1", base64.b64encode(private.sign(b"a=1")).decode())
    with pytest.raises(SimError) as caught:
        auth.signature("ed1", "a=2", base64.b64encode(private.sign(b"a=1")).decode())
    assert caught.value.code == -1022
    with pytest.raises(SimError) as unknown:
        auth.api_key("nobody")
    assert (unknown.value.code, unknown.value.http_status) == (-2015, 401)


def test_default_mode_checks_only_presence_and_form() -> None:
    auth = Authenticator()
    auth.signature("anything", "a=1", "0" * 64)
    with pytest.raises(SimError) as missing:
        auth.signature("anything", "a=1", None)
    assert missing.value.code == -1102
    with pytest.raises(SimError) as malformed:
        auth.signature("anything", "a=1", "not a signature!")
    assert malformed.value.code == -1022


@pytest.mark.parametrize(("timestamp", "recv_window", "message"), [
    ("11000", None, "Timestamp for this request was 1000ms ahead of the server's time."),
    ("4999", None, "Timestamp for this request is outside of the recvWindow."),
    ("9000", "999", "Timestamp for this request is outside of the recvWindow."),
])
def test_recv_window_rule(timestamp: str, recv_window: str | None, message: str) -> None:
    with pytest.raises(SimError) as caught:
        Authenticator().timestamp(timestamp, recv_window, 10000)
    assert (caught.value.code, caught.value.msg) == (-1021, message)


def test_recv_window_accepts_edges_and_microseconds() -> None:
    auth = Authenticator()
    auth.timestamp("10999", None, 10000)
    auth.timestamp("5000", None, 10000)
    now = 1_700_000_000_000
    auth.timestamp(str((now - 500) * 1000), "500.5", now)  # µs timestamp with a fractional recvWindow
    with pytest.raises(SimError):
        auth.timestamp(str((now - 501) * 1000), "500.5", now)
    with pytest.raises(SimError) as caught:
        auth.timestamp("10000", "60001", 10000)
    assert caught.value.code == -1131


def test_wall_clock_timestamp_passes_unless_strict_time() -> None:
    replay, wall = 1_696_000_000_000, 1_796_000_000_000  # replaying 2023 data, stamped in 2026
    Authenticator().timestamp(str(wall - 200), None, replay, wall)
    Authenticator().timestamp(str(replay - 200), None, replay, wall)  # the replay clock still counts
    with pytest.raises(SimError) as strict:
        Authenticator(strict_time=True).timestamp(str(wall - 200), None, replay, wall)
    assert strict.value.code == -1021
    with pytest.raises(SimError) as neither:
        Authenticator().timestamp(str(wall + 1000), None, replay, wall)  # ahead of both clocks
    assert neither.value.code == -1021
