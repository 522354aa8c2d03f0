"""Backtest results (``ictbot backtest --json``) in the folder the server was told about (``--reports``).

Read-only and confined to that folder: a name is a plain file name (no path), resolved inside it.
A file that is not a results document is listed with the reason instead of failing the listing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.json$"
MAX_FILES = 200  # the newest; a folder of sweeps can hold thousands
MAX_TRADES = 5000  # per opened result: the page lists them, it is not a data export
MAX_BYTES = 64 * 1024 * 1024
_NAME = re.compile(NAME_PATTERN)


class BacktestSummaryView(BaseModel):
    name: str
    modified_ms: int
    strategy: str = ""
    symbols: list[str] = Field(default_factory=list)
    timeframe: str = ""
    start_ms: int | None = None
    end_ms: int | None = None
    trades: int = 0
    win_rate_pct: float | None = None
    profit_factor: float | None = None
    net_pnl: float | None = None
    fees: float | None = None
    total_return_pct: float | None = None
    max_drawdown_pct: float | None = None
    sharpe: float | None = None
    fingerprint: str = ""


class BacktestList(BaseModel):
    folder: str | None = Field(description="the --reports folder; null when the server was started without one")
    items: list[BacktestSummaryView] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list, description="files that are not results documents, with why")


class BacktestDetail(BaseModel):
    summary: BacktestSummaryView
    metrics: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    deviations_from_live: list[dict[str, Any]] = Field(default_factory=list)
    monthly_returns: list[dict[str, Any]] = Field(default_factory=list)
    trades: list[dict[str, Any]] = Field(default_factory=list)
    trades_truncated: bool = False


class NotAResult(ValueError):
    """The file is not a readable ``ictbot backtest`` results document."""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _load(path: Path) -> dict[str, Any]:
    if path.stat().st_size > MAX_BYTES:
        raise NotAResult(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotAResult(f"not JSON ({exc})") from exc
    if not isinstance(document, dict) or not str(document.get("schema", "")).startswith("ictbot.backtest/"):
        raise NotAResult("not an ictbot backtest results document (no 'schema': 'ictbot.backtest/...')")
    if not isinstance(document.get("summary"), dict):
        raise NotAResult("no 'summary' object")
    return document


def summarise(name: str, modified_ms: int, document: dict[str, Any]) -> BacktestSummaryView:
    summary = document["summary"]
    metadata = document.get("metadata")
    parameters = metadata.get("parameters", {}) if isinstance(metadata, dict) else {}
    parameters = parameters if isinstance(parameters, dict) else {}
    start, end = summary.get("start"), summary.get("end")
    return BacktestSummaryView(
        name=name, modified_ms=modified_ms, strategy=str(parameters.get("strategy", "")),
        symbols=[str(s) for s in parameters.get("symbols", []) if isinstance(s, str)],
        timeframe=str(parameters.get("timeframe", "")),
        start_ms=start if isinstance(start, int) else None, end_ms=end if isinstance(end, int) else None,
        trades=int(summary.get("trades", 0) or 0), win_rate_pct=_number(summary.get("win_rate_pct")),
        profit_factor=_number(summary.get("profit_factor")), net_pnl=_number(summary.get("net_pnl")),
        fees=_number(summary.get("fees")), total_return_pct=_number(summary.get("total_return_pct")),
        max_drawdown_pct=_number(summary.get("max_drawdown_pct")), sharpe=_number(summary.get("sharpe")),
        fingerprint=str(document.get("fingerprint", "")),
    )


def list_results(folder: Path | None) -> BacktestList:
    if folder is None:
        return BacktestList(folder=None)
    if not folder.is_dir():
        return BacktestList(folder=str(folder), errors=[f"{folder}: not a folder"])
    files = sorted((p for p in folder.glob("*.json") if p.is_file() and _NAME.match(p.name)),
                   key=lambda p: p.stat().st_mtime, reverse=True)[:MAX_FILES]
    result = BacktestList(folder=str(folder))
    for path in files:
        try:
            result.items.append(summarise(path.name, int(path.stat().st_mtime * 1000), _load(path)))
        except (NotAResult, OSError) as exc:
            result.errors.append(f"{path.name}: {exc}")
    return result


def result_path(folder: Path | None, name: str) -> Path | None:
    """The file ``name`` inside ``folder``, or None when there is no such results file there."""
    if folder is None or not _NAME.match(name):
        return None
    path = (folder / name).resolve()
    if path.parent != folder.resolve() or not path.is_file():
        return None
    return path


def read_result(path: Path) -> BacktestDetail:
    document = _load(path)
    trades = document.get("trades")
    trades = [t for t in trades if isinstance(t, dict)] if isinstance(trades, list) else []
    metadata = document.get("metadata")
    parameters = metadata.get("parameters", {}) if isinstance(metadata, dict) else {}
    deviations = document.get("deviations_from_live")
    months = document.get("monthly_returns")
    return BacktestDetail(
        summary=summarise(path.name, int(path.stat().st_mtime * 1000), document),
        metrics=document["summary"], parameters=parameters if isinstance(parameters, dict) else {},
        deviations_from_live=[d for d in deviations if isinstance(d, dict)] if isinstance(deviations, list) else [],
        monthly_returns=[m for m in months if isinstance(m, dict)] if isinstance(months, list) else [],
        trades=trades[:MAX_TRADES], trades_truncated=len(trades) > MAX_TRADES,
    )
