"""``ictbot download``: fetch candle history from Binance REST, or import candle files.

    ictbot download --symbol BTCUSDT --timeframe 5m --start 2024-01-01 [--end 2024-06-01] [--base-url URL]
    ictbot download --from-file data/BTCUSDT-5m-2024-*.csv [--symbol ...] [--timeframe ...] [--on-gap fail]
    ictbot download --exchange-info [--market spot|usdm] [--base-url URL]

Downloads resume where an interrupted run stopped; imports are all-or-nothing per file. Imports take
symbol and timeframe from the file name (a contradicting --symbol is refused) and report each file's
gaps and zero-volume bars; ``--on-gap fail`` refuses a file with missing candles.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ictbot.cli.common import fail, make_console
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe

out = make_console()

DEFAULT_BASE_URL = "https://api.binance.com"
DEFAULT_USDM_URL = "https://fapi.binance.com"


def parse_time(text: str) -> int:
    """``2024-01-01``, ``2024-01-01T12:30``, ``2024-01-01 12:30:00`` (UTC) or epoch milliseconds."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD[THH:MM[:SS]]) or epoch ms") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _database_url(explicit: str | None) -> str:
    if explicit:
        return explicit
    from ictbot.app.settings import Settings

    return Settings().resolved_database_url


def _base_url(explicit: str | None, usdm: bool) -> str:
    if explicit:
        return explicit.rstrip("/")
    from ictbot.app.settings import Settings

    configured = Settings().binance_rest_url
    if configured and not usdm:
        return configured.rstrip("/")
    return DEFAULT_USDM_URL if usdm else DEFAULT_BASE_URL


def register(app: typer.Typer) -> None:
    @app.command("download", help="Download candle history from Binance REST, or import candle files.")
    def download(
        paths: list[Path] = typer.Argument(None, help="more files for --from-file", show_default=False),
        symbol: str | None = typer.Option(None, "--symbol", "-s", help="e.g. BTCUSDT (files: default from name)"),
        timeframe: str | None = typer.Option(None, "--timeframe", "-t", help="1m 5m 15m 1h 4h 1d ..."),
        start: str | None = typer.Option(None, "--start", help="first open time, UTC (download)"),
        end: str | None = typer.Option(None, "--end", help="stop before this open time, UTC (default: now)"),
        base_url: str | None = typer.Option(None, "--base-url", help="REST base URL (default Binance mainnet)"),
        market: str | None = typer.Option(None, "--market", help="spot (default) or usdm"),
        from_file: list[Path] = typer.Option(None, "--from-file", help="import candle files instead"),
        database_url: str | None = typer.Option(None, "--database-url", help="default DATABASE_URL/PATH"),
        on_gap: str = typer.Option("warn", "--on-gap", help="warn: report missing candles; fail: refuse such a "
                                   "file (exit 1)"),
        exchange_info: bool = typer.Option(False, "--exchange-info",
                                           help="store the exchange's symbol rules (exchangeInfo) for offline use"),
    ) -> None:
        try:
            tf = Timeframe.parse(timeframe) if timeframe else None
            mk = Market(market) if market else None
        except ValueError as exc:
            fail(str(exc))
        if on_gap not in ("warn", "fail"):
            fail(f"--on-gap must be warn or fail, not {on_gap!r}")
        if exchange_info:
            from ictbot.cli.exchange_info import download_exchange_info

            chosen_market = mk or Market.SPOT
            url = _base_url(base_url, chosen_market is Market.USDM)
            asyncio.run(download_exchange_info(url, _database_url(database_url), chosen_market))
            return
        files = [*(from_file or []), *(paths or [])]
        if files:
            code = asyncio.run(_import(files, _database_url(database_url), symbol, tf, mk, on_gap == "fail"))
            raise typer.Exit(code)
        if paths:
            fail("positional paths need --from-file")
        if not symbol or tf is None or not start:
            fail("download needs --symbol, --timeframe and --start (or --from-file PATH...)")
        start_ms, end_ms = parse_time(start), parse_time(end) if end else None
        if end_ms is not None and end_ms <= start_ms:
            fail("--end must be after --start")
        chosen = mk or Market.SPOT
        url = _base_url(base_url, chosen is Market.USDM)
        asyncio.run(_download(url, _database_url(database_url), symbol.upper(), tf, start_ms, end_ms, chosen))


async def _import(
    files: list[Path], url: str, symbol: str | None, tf: Timeframe | None, market: Market | None,
    refuse_gaps: bool = False,
) -> int:
    from ictbot.adapters.files.importer import ImportReport, import_files
    from ictbot.adapters.storage import Database, SqlCandleStore

    db = Database(url)
    db.upgrade()
    failed = 0

    def show(report: ImportReport) -> None:
        nonlocal failed
        if report.ok and report.series is not None:
            out.print(f"[green]ok[/] {report.path}: {report.rows} {report.series.symbol} "
                      f"{report.series.timeframe.value} candles ({report.series.market.value})", soft_wrap=True)
        else:
            failed += 1
            out.print(f"[red]rejected[/] {report.error} — nothing from this file was stored", soft_wrap=True)
        for line in report.quality.describe() if report.quality is not None else []:
            out.print(f"[yellow]  data quality:[/] {line.strip()}", highlight=False, soft_wrap=True)

    try:
        await import_files(
            lambda m: SqlCandleStore(db, market=m), files, symbol=symbol, timeframe=tf, market=market,
            on_file=show, refuse_gaps=refuse_gaps,
        )
    finally:
        await db.close()
    out.print(f"{len(files) - failed} file(s) imported, {failed} rejected")
    return 1 if failed else 0


async def _download(
    base_url: str, db_url: str, symbol: str, tf: Timeframe, start_ms: int, end_ms: int | None, market: Market
) -> None:
    from ictbot.adapters.binance.endpoints import BinanceEndpoints
    from ictbot.adapters.binance.rest import BinanceRestClient
    from ictbot.adapters.storage import Database, SqlCandleStore, SqlKeyValueStore
    from ictbot.candles.history import DownloadProgress, HistoryDownloader
    from ictbot.domain.errors import ExchangeError

    endpoints = BinanceEndpoints(rest=base_url, ws="", ws_api="", fapi_rest=base_url, fapi_ws="", name="download")
    db = Database(db_url)
    db.upgrade()
    client = BinanceRestClient(endpoints, market=market)
    downloader = HistoryDownloader(client, SqlCandleStore(db, market=market), SqlKeyValueStore(db), market=market)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=out) as progress:
            task = progress.add_task(f"{symbol} {tf.value}", total=None)

            def show(p: DownloadProgress) -> None:
                progress.update(task, total=p.total_candles, completed=p.done_candles)

            result = await downloader.download(symbol, tf, start_ms, end_ms, on_progress=show)
    except ExchangeError as exc:
        fail(f"download stopped: {exc} (run the same command again to resume)", code=1)
    finally:
        await client.aclose()
        await db.close()
    resumed = f", resumed at {result.resumed_from}" if result.resumed_from is not None else ""
    out.print(f"stored {result.stored} {symbol} {tf.value} candles in {result.pages} page(s){resumed}")
