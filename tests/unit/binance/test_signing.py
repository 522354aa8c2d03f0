"""Signing against Binance's documented HMAC vectors and RFC 8032's Ed25519 vector."""

from __future__ import annotations

import base64
import logging

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from ictbot.adapters.binance.signing import (
    Credentials,
    Ed25519Signer,
    HmacSigner,
    ParamValue,
    encode_query,
    signed_query,
    ws_api_payload,
)

DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_PARAMS: dict[str, ParamValue] = {
    "symbol": "LTCBTC",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "1",
    "price": "0.1",
    "recvWindow": 5000,
    "timestamp": 1499827319559,
}


def test_rest_hmac_documented_vector() -> None:
    payload = encode_query(DOC_PARAMS)
    assert payload == (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    )
    assert HmacSigner(DOC_SECRET).sign(payload) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_rest_hmac_documented_vector_with_non_ascii_symbol_is_percent_encoded_before_signing() -> None:
    params = dict(DOC_PARAMS, symbol="１２３４５６")
    query = signed_query(params, HmacSigner(DOC_SECRET))
    assert query.startswith("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY")
    assert query.endswith("&signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3")


def test_ws_api_hmac_documented_vectors() -> None:
    params: dict[str, ParamValue] = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01000000",
        "price": "52000.00",
        "recvWindow": 100,
        "timestamp": 1645423376532,
        "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
    }
    payload = ws_api_payload(params)
    assert payload.startswith("apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00")
    assert HmacSigner(DOC_SECRET).sign(payload) == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    unicode_params = dict(
        params, symbol="１２３４５６", side="BUY", price="0.10000000", quantity="1.00000000", recvWindow=5000
    )
    assert "symbol=１２３４５６" in ws_api_payload(unicode_params)  # raw UTF-8, not percent-encoded
    assert ws_api_payload(dict(unicode_params, signature="x")) == ws_api_payload(unicode_params)


def test_ws_api_non_ascii_documented_vector() -> None:
    params: dict[str, ParamValue] = {
        "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "price": "0.10000000",
        "quantity": "1.00000000",
        "recvWindow": 5000,
        "side": "BUY",
        "symbol": "１２３４５６",
        "timeInForce": "GTC",
        "timestamp": 1645423376532,
        "type": "LIMIT",
    }
    assert HmacSigner(DOC_SECRET).sign(ws_api_payload(params)) == (
        "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
    )


# RFC 8032, section 7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72 = "r").
RFC_SECRET_1 = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_SIG_1 = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
RFC_SECRET_2 = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
RFC_SIG_2 = bytes.fromhex(
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
)


def _pem(secret: bytes) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(secret)
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


@pytest.mark.parametrize(
    ("secret", "message", "signature"), [(RFC_SECRET_1, "", RFC_SIG_1), (RFC_SECRET_2, "r", RFC_SIG_2)]
)
def test_ed25519_rfc8032_vectors_base64(secret: bytes, message: str, signature: bytes) -> None:
    signer = Ed25519Signer.from_pem(_pem(secret))
    assert signer.sign(message) == base64.b64encode(signature).decode()


def test_ed25519_signature_is_percent_encoded_in_query() -> None:
    signer = Ed25519Signer.from_pem(_pem(RFC_SECRET_2))
    query = signed_query({"symbol": "BTCUSDT", "timestamp": 1}, signer)
    signature = signer.sign("symbol=BTCUSDT&timestamp=1")
    encoded = query.split("&signature=")[1]
    assert "+" not in encoded and "/" not in encoded and "=" not in encoded
    from urllib.parse import unquote

    assert unquote(encoded) == signature


def test_non_ed25519_pem_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    with pytest.raises(ValueError, match="not an Ed25519"):
        Ed25519Signer.from_pem(pem)


def test_secrets_never_in_repr_str_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    creds = Credentials.hmac("AKIAPUBLICKEY123456", DOC_SECRET)
    ed = Credentials.ed25519("EDKEYPUBLIC9876543210", _pem(RFC_SECRET_1))
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("creds %s %r %s", creds, ed, [creds])
    for text in (repr(creds), str(creds), repr(ed), caplog.text):
        assert DOC_SECRET not in text
        assert "AKIAPUBLICKEY123456" not in text
        assert "BEGIN PRIVATE KEY" not in text
        assert RFC_SECRET_1.hex() not in text
    assert "AKIA***" in repr(creds)


def test_booleans_are_lowercase_and_reserved_chars_encoded() -> None:
    assert encode_query({"reduceOnly": True, "symbols": '["A","B"]'}) == (
        "reduceOnly=true&symbols=%5B%22A%22%2C%22B%22%5D"
    )
