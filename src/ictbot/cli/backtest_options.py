"""The options of `ictbot backtest`, one annotated type each (names, defaults and help as ``--help`` shows them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Data = Annotated[list[str], typer.Option("--data", help="Candle file (Binance dump CSV, freqtrade feather, "
                                         "project CSV) or SYMBOL=PATH[,PATH]; repeat for several. Symbol "
                                         "and timeframe come from the name (BTCUSDT-5m-2024-01.csv, "
                                         "ETH_USDT-15m.feather).")]
MoreData = Annotated[list[str] | None, typer.Argument(help="More candle files (so that a shell glob after "
                                                      "--data works: --data d/*.csv).", show_default=False)]
Strategy = Annotated[str, typer.Option(help="Strategy kind: strategy_a, strategy_b (ICT), "
                                       "s1_ema_cross, s2_fvg (reference), or your own class: "
                                       "path/to/my_strategy.py:ClassName (docs/strategies.md).")]
Symbol = Annotated[list[str] | None, typer.Option("--symbol", help="Symbol; repeat for several. Default: from "
                                                  "the file names; refused if a name says otherwise.")]
TimeframeOpt = Annotated[str | None, typer.Option(help="Strategy (base) timeframe; built from finer data if "
                                                  "needed. Default: the files' timeframe.")]
OnGap = Annotated[str, typer.Option("--on-gap", help="Missing candles in the data: warn (report them and "
                                    "go on) or fail (exit 1).")]
Config = Annotated[Path | None, typer.Option(help="The trading config `ictbot run` uses (risk, breakers, "
                                             "execution, strategy params). Default: ICTBOT_CONFIG_FILE or "
                                             ".config/trading_config.json if present, else the built-in "
                                             "defaults.")]
Start = Annotated[str | None, typer.Option(help="First candle, UTC: 2024-01-01 or 2024-01-01T08:00.")]
End = Annotated[str | None, typer.Option(help="End (exclusive), UTC.")]
Fee = Annotated[str | None, typer.Option(help="Fee per fill as a fraction of notional (0.001 = 0.1%); "
                                         "default: the config's risk.taker_fee_rate.", show_default="0.001")]
SlippageBps = Annotated[str | None, typer.Option("--slippage-bps", help="Adverse slippage on market and stop "
                                                 "fills, basis points.", show_default="0")]
Cash = Annotated[str | None, typer.Option(help="Starting cash per symbol (quote asset).", show_default="10000")]
Stake = Annotated[str | None, typer.Option(help="Quote amount per trade for the reference "
                                           "strategies.", show_default="1000")]
MarketOpt = Annotated[str | None, typer.Option(help="spot (long only) or usdm; default: the config's "
                                               "exchange.market.", show_default="spot")]
DetailTimeframe = Annotated[str | None, typer.Option("--detail-timeframe", help="Finer timeframe used to "
                                                     "decide which of stop/target came first.")]
TouchFills = Annotated[bool, typer.Option("--touch-fills", help="Targets and limit entries fill on a "
                                          "touch (backtesting.py's rule).")]
CircuitBreakers = Annotated[bool | None, typer.Option("--circuit-breakers/--no-circuit-breakers",
                                                      help="The live circuit breakers (daily loss, drawdown, "
                                                      "losing streak).",
                                                      show_default="on, as live; off for the reference "
                                                                   "strategies")]
JsonOut = Annotated[Path | None, typer.Option("--json", help="Write the results document here.")]
Report = Annotated[Path | None, typer.Option(help="Write a self-contained HTML report here.")]
Sweep = Annotated[list[str] | None, typer.Option(help="name=a,b,c (repeatable): run every combination "
                                                 "in parallel; risk.<field> sweeps a risk limit.")]
Workers = Annotated[int | None, typer.Option(help="Sweep processes (default: CPU cores).")]
RankBy = Annotated[str, typer.Option("--rank-by", help="Sweep ranking metric.")]
PerCandle = Annotated[bool, typer.Option("--per-candle", help="Ask the strategy on every candle even when "
                                         "it offers a fast path, and run ICT strategies on the streaming "
                                         "indicator engine instead of snapshots replayed from the compiled "
                                         "kernels (slower, same trades).")]
Parity = Annotated[bool, typer.Option("--parity", help="Also replay the candles through the live bus "
                                      "services (candles → indicators → strategies) and check they emit "
                                      "the backtest's signals.")]
BreakevenAtR = Annotated[float | None, typer.Option("--breakeven-at-r", help="Move the stop to the entry "
                                                    "once a close is this many R in profit (as the live "
                                                    "position monitor does).", show_default="off")]
TrailAtR = Annotated[float | None, typer.Option("--trail-at-r", help="From this many R in profit, trail "
                                                "the stop behind the close.", show_default="off")]
TrailDistance = Annotated[float | None, typer.Option("--trail-distance", help="Trailing distance as a "
                                                     "fraction of the price.", show_default="0.01")]
ViaLive = Annotated[bool, typer.Option("--via-live", help="Also trade the candles through the live "
                                       "pipeline (paper mode) against the exchange simulator and "
                                       "check it sends the backtest's orders; exit code 1 if not.")]
