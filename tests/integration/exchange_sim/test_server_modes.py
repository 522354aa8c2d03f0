"""Strict keys, the /_sim HTTP control API, background-thread mode, timed replay, state file."""

from __future__ import annotations

import asyncio
import base64
import json
import math
from pathlib import Path
from urllib.parse import urlencode

import httpx
import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ictbot.exchange_sim import SimulatorServer
from tests.integration.exchange_sim.conftest import KEY, SECRET, call, small_config
from tests.integration.exchange_sim.test_streams import drain


async def test_keys_file_accepts_only_listed_keys_with_valid_signatures(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps([{"apiKey": KEY, "secret": SECRET}, {"apiKey": "edkey", "ed25519PublicKey": pem}]))
    async with (
        SimulatorServer(small_config(keys_file=str(keys))) as sim,
        httpx.AsyncClient(base_url=sim.base_url) as client,
    ):
        assert (await call(client, sim, "GET", "/api/v3/account")).status_code == 200
        assert (await call(client, sim, "GET", "/api/v3/account", key="stranger")).json()["code"] == -2015
        query = urlencode({"timestamp": sim.control.now()})
        forged = await client.get(f"/api/v3/account?{query}&signature={'0' * 64}", headers={"X-MBX-APIKEY": KEY})
        assert forged.json() == {"code": -1022, "msg": "Signature for this request is not valid."}
        signature = base64.b64encode(private.sign(query.encode())).decode()
        ed = await client.get(
            "/api/v3/account",
            params={"timestamp": sim.control.now(), "signature": signature},
            headers={"X-MBX-APIKEY": "edkey"},
        )
        assert ed.status_code == 200, ed.text
        body = f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.00100&timestamp={sim.control.now()}"
        from ictbot.exchange_sim.auth import hmac_signature

        in_body = await client.post(
            "/api/v3/order",
            content=f"{body}&signature={hmac_signature(SECRET, body)}",
            headers={"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert in_body.json()["status"] == "FILLED"


async def test_http_control_api(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    state = (await client.get("/_sim/state")).json()
    assert state["paused"] is True and state["timeframe"] == "1m"
    stepped = (await client.post("/_sim/step", params={"candles": 3})).json()
    assert stepped["played"] == 3 and stepped["replayTime"] == state["replayTime"] + 180_000
    assert (await client.post("/_sim/skew", params={"ms": 1500})).json()["skewMs"] == 1500
    fault = await client.post("/_sim/fault", json={"type": "reject_order", "code": -2010, "msg": "nope"})
    assert fault.json()["ok"] is True
    rejected = await call(
        client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.00100"
    )
    assert rejected.json() == {"code": -2010, "msg": "nope"}
    assert (await client.post("/_sim/fault", json={"type": "bogus"})).status_code == 400
    await client.post("/_sim/fault", json={"type": "symbol_status", "symbol": "ETHUSDT", "status": "HALT"})
    info = (await client.get("/api/v3/exchangeInfo", params={"symbol": "ETHUSDT"})).json()
    assert info["symbols"][0]["status"] == "HALT"
    assert (await client.get("/_sim/requests", params={"path": "/api/v3/order"})).json()["count"] == 1


async def test_timed_replay_runs_pauses_and_resumes() -> None:
    async with SimulatorServer(small_config(speed=math.inf)) as sim:
        async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
            frames = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(20)]
            sim.control.pause()
            await drain(ws, 0.2)
            paused_at = sim.control.now()
            await asyncio.sleep(0.2)
            assert sim.control.now() == paused_at and await drain(ws, 0.1) == []
        assert sum(f["k"]["x"] for f in frames) >= 3
        times = [f["E"] for f in frames]
        assert times == sorted(times)
    async with SimulatorServer(small_config(speed=600.0)) as sim:  # 10 minutes of market per second
        start = sim.control.now()
        await asyncio.sleep(0.5)
        moved = sim.control.now() - start
        assert 60_000 <= moved <= 600_000


def test_background_thread_mode_for_synchronous_callers(tmp_path: Path) -> None:
    state_file = tmp_path / "state.pickle"
    server = SimulatorServer(small_config(state_file=str(state_file))).start_in_thread()
    try:
        with httpx.Client(base_url=server.base_url) as client:
            assert client.get("/api/v3/ping").json() == {}
            price = server.control.price("BTCUSDT")
            query = urlencode(
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.00100",
                    "price": f"{price - 500:.2f}",
                    "newClientOrderId": "ict-p",
                    "timestamp": server.control.now(),
                }
            )
            from ictbot.exchange_sim.auth import hmac_signature

            placed = client.post(
                f"/api/v3/order?{query}&signature={hmac_signature(SECRET, query)}", headers={"X-MBX-APIKEY": KEY}
            )
            assert placed.json()["status"] == "NEW"
        assert server.call(server.control.step(2)) == 2
        moment = server.control.now()
    finally:
        server.stop_in_thread()
    assert state_file.exists()
    restored = SimulatorServer(small_config(state_file=str(state_file))).start_in_thread()
    try:
        assert [o.client_order_id for o in restored.control.open_orders(KEY)] == ["ict-p"]
        assert restored.control.now() == moment
    finally:
        restored.stop_in_thread()


async def test_http_restart_keeps_state(sim: SimulatorServer, client: httpx.AsyncClient) -> None:
    await call(client, sim, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.00100")
    before = sim._server
    assert (await client.post("/_sim/restart", params={"downtime": "0.3"})).json()["restarting"] is True
    for _ in range(200):  # bounded: wait for the server to come back
        await asyncio.sleep(0.05)
        if sim._server is before or sim._server is None or not sim._server.started:
            continue
        try:
            async with httpx.AsyncClient(base_url=sim.base_url) as fresh:
                trades = await call(fresh, sim, "GET", "/api/v3/myTrades", symbol="BTCUSDT")
            break
        except httpx.TransportError:
            continue
    assert len(trades.json()) == 1 and sim._server is not before
