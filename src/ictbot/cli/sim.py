"""`ictbot sim`: run the local Binance-protocol exchange simulator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import math
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ictbot.cli.common import console, fail

if TYPE_CHECKING:
    from ictbot.exchange_sim import SimulatorServer

HELP = """Run a local exchange that speaks Binance's wire protocol (spot /api/v3 + WS streams + WS API,
USD-M /fapi + listenKey streams) on 127.0.0.1, replaying candle files or a seeded synthetic market.

Point a Binance client at the printed URLs. Control it (step, pause, faults) over HTTP under /_sim/
(see docs/simulator.md). Any API key gets its own funded account unless --keys is given.

Examples:

  ictbot sim                                  # synthetic BTCUSDT+ETHUSDT, real time, free port

  ictbot sim --data ../shared/data/binance_spot_raw_5m --speed 60 --port 8765

  ictbot sim --speed 0                        # stepped: POST /_sim/step?candles=N moves time
"""


def _parse_speed(raw: str) -> float:
    if raw.lower() in ("max", "inf", "fast"):
        return math.inf
    value = float(raw)
    if value < 0:
        raise ValueError("speed must be ≥ 0")
    return value


def _parse_balances(items: list[str]) -> dict[str, Decimal]:
    balances: dict[str, Decimal] = {}
    for item in items:
        asset, _, amount = item.partition("=")
        try:
            balances[asset.strip().upper()] = Decimal(amount)
        except InvalidOperation:
            raise ValueError(f"--balance {item!r}: expected ASSET=AMOUNT") from None
    return balances


Data = Annotated[list[str] | None, typer.Option(
    "--data", help="Candle files or directories (Binance dumps ms/µs, feather, headed CSV); SYMBOL=PATH "
                   "to name the symbol; repeatable. Default: seeded synthetic market.")]
Speed = Annotated[str, typer.Option(help="Replay speed: 1 = real time, N = N× real time, 'max' = as fast "
                                         "as possible, 0 = stepped (time moves only via /_sim/step).")]
Host = Annotated[str, typer.Option(help="Bind address (loopback only by design).")]
Port = Annotated[int, typer.Option(help="TCP port; 0 picks a free one and prints it.")]
Seed = Annotated[int, typer.Option(help="Seed of the synthetic market and the seeded intra-candle path.")]
Keys = Annotated[Path | None, typer.Option(
    help="JSON list of {apiKey, secret | ed25519PublicKey}: only these keys are accepted and every "
         "signature is verified. Default: any key, signature checked for form only.")]
Symbols = Annotated[str, typer.Option(help="Synthetic symbols, comma separated.")]
Balance = Annotated[list[str] | None, typer.Option(
    help="Initial balance of every new account, ASSET=AMOUNT, repeatable (default USDT=10000).")]
PathMode = Annotated[str, typer.Option(help="Intra-candle path: 'ohlc' (bullish O→L→H→C, bearish "
                                            "O→H→L→C) or 'seeded'.")]
State = Annotated[Path | None, typer.Option(help="State file: loaded on start, written on exit "
                                                 "(open orders, balances, clock survive a restart).")]
NoFutures = Annotated[bool, typer.Option("--no-futures", help="Serve spot only.")]
StrictTime = Annotated[bool, typer.Option(
    "--strict-time", help="Judge a signed request's timestamp against the replay clock only. Default: "
                          "within recvWindow of the replay clock OR the wall clock (any client, any speed).")]
DeriveFilters = Annotated[bool, typer.Option(
    "--derive-filters", help="Give symbols the instrument catalogue lacks filters derived from their "
                             "price level (default: refuse them).")]


def register(app: typer.Typer) -> None:
    app.command("sim", help=HELP)(sim_command)


def sim_command(
    data: Data = None, speed: Speed = "1", host: Host = "127.0.0.1", port: Port = 0, seed: Seed = 0,
    keys: Keys = None, symbols: Symbols = "BTCUSDT,ETHUSDT", balance: Balance = None, path_mode: PathMode = "ohlc",
    state: State = None, no_futures: NoFutures = False, strict_time: StrictTime = False,
    derive_filters: DeriveFilters = False,
) -> None:
    from ictbot.cli.exchange_info import use_stored_rules
    from ictbot.domain.errors import InputDataError
    from ictbot.exchange_sim import SimConfig, SimulatorServer
    from ictbot.exchange_sim.engine.config import MatchingConfig
    from ictbot.instruments import UnknownInstrumentError

    if host not in ("127.0.0.1", "localhost", "::1"):
        fail(f"--host {host}: the simulator binds to loopback only")
    try:
        replay_speed = _parse_speed(speed)
        balances = _parse_balances(balance or [])
    except ValueError as error:
        fail(str(error))
    matching = MatchingConfig(initial_balances=balances) if balances else MatchingConfig()
    config = SimConfig(
        host=host, port=port, symbols=tuple(s.strip().upper() for s in symbols.split(",") if s.strip()),
        data_paths=tuple(data or ()), speed=replay_speed, seed=seed, path_mode=path_mode,
        keys_file=str(keys) if keys else None, matching=matching, futures=not no_futures,
        state_file=str(state) if state else None, strict_time=strict_time,
        derive_unknown_filters=derive_filters,
    )
    try:
        use_stored_rules()
        asyncio.run(_serve(SimulatorServer(config)))
    except (InputDataError, UnknownInstrumentError) as error:
        fail(str(error))
    except KeyboardInterrupt:
        pass


async def _serve(server: SimulatorServer) -> None:
    await server.start()
    state = server.control.state()
    console.print(f"[green]exchange simulator[/] listening on [bold]{server.base_url}[/]", soft_wrap=True)
    console.print(f"  spot REST      {server.base_url}/api/v3    USD-M REST {server.base_url}/fapi", soft_wrap=True)
    console.print(f"  WS streams     {server.ws_url}/ws/<stream>  {server.ws_url}/stream?streams=", soft_wrap=True)
    console.print(f"  WS API         {server.ws_api_url}", soft_wrap=True)
    console.print(f"  USD-M streams  {server.futures_ws_url}/market/ws/<stream>  "
                  f"{server.futures_ws_url}/private/ws/<listenKey>")
    console.print(f"  control        {server.base_url}/_sim/state   symbols {', '.join(state['symbols'])}  "
                  f"timeframe {state['timeframe']}  speed {state['speed']}")
    for symbol, source in (server.sim.instrument_sources if server.sim else {}).items():
        console.print(f"  instrument     {symbol}: filters from the {source}", soft_wrap=True)
    print(server.base_url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await server.stop()
