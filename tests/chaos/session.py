"""One chaos session: simulator + bot as processes, seeded faults, then the invariants.

A session trades BTCUSDT on one month of ``../shared/data`` candles replayed at ``speed``× real time.
Order flow comes from the bot's manual-entry endpoint (``POST /orders``, through the risk engine
like any signal): the built-in strategies trade a few times a day, far too rarely for sessions of
seconds. Stops and targets are set −0.15 % / +0.2 % so positions open and close within the session.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from tests.chaos.faults import FAULTS, schedule
from tests.chaos.invariants import FLAT_BELOW, BotView, Evidence, Limits, Truth, check_all
from tests.chaos.processes import START_TIMEOUT_S, SYMBOL, BotProcess, SimProcess
from tests.conftest import SHARED

DATA_DIR = SHARED / "data" / "binance_spot_raw_5m"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
RISK = {"max_open_positions_per_symbol": 1, "duplicate_window_seconds": 0, "cooldown_after_stop_minutes": 0,
        "min_reward_risk": 0, "max_consecutive_losses": 1000, "daily_loss_limit_pct": 20, "max_drawdown_pct": 20}
# Lost stream events are found by the periodic reconciliation; settling lasts several of its rounds.
EXECUTION = {"reconcile_interval_seconds": 10}
LIMITS = Limits(initial_quote=Decimal(10_000), taker_fee_rate=Decimal("0.001"),
                daily_loss_limit_pct=Decimal(20), max_drawdown_pct=Decimal(20), stop_grace_s=0.0)
STOP_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT")
STOP_PCT, TARGET_PCT = Decimal("0.15"), Decimal("0.2")


@dataclass(frozen=True)
class SessionConfig:
    seed: int
    root: Path
    faults: tuple[str, ...] = tuple(FAULTS)
    duration_s: float = 20.0
    fault_count: int = 3
    speed: float = 120.0  # a 5m candle every 2.5 s
    postgres: bool | None = None  # None: every fourth seed runs on PostgreSQL
    stop_grace_s: float = 30.0
    settle_s: float = 30.0


@dataclass
class SessionResult:
    seed: int
    database: str
    injected: Counter[str] = field(default_factory=Counter)
    checks: dict[str, str | None] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.checks) and all(v is None for v in self.checks.values())


class ChaosSession:
    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.workdir = config.root / f"seed-{config.seed}"
        shutil.rmtree(self.workdir, ignore_errors=True)  # a rerun of a seed starts from nothing
        self.workdir.mkdir(parents=True)
        months = sorted(DATA_DIR.glob("BTCUSDT-5m-*.csv"))
        self.sim = SimProcess(self.workdir, months[config.seed % len(months)], config.speed, config.seed)
        use_pg = config.postgres if config.postgres is not None else config.seed % 4 == 3
        self.pg_admin_url = PG_ADMIN_URL
        self.pg_database = f"chaos_{config.seed}_{os.getpid()}" if use_pg else None
        pg_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.pg_database}" if use_pg else None
        self.bot = BotProcess(self.workdir, self.sim, database_url=pg_url)
        self.result = SessionResult(config.seed, "postgresql" if use_pg else "sqlite")
        self._quiet_until = 0.0
        self._unprotected_since: float | None = None
        self._max_unprotected = 0.0  # while the bot was up
        self._max_unprotected_any = 0.0  # including while it was dead or starting
        self._last_ready_check = 0.0
        self._held = Decimal(0)
        self.background: list[threading.Thread] = []  # faults still running (a database outage)

    # ---- used by the faults -------------------------------------------------------------------------

    def quiet_observer(self, seconds: float) -> None:
        """Let request faults reach the bot: the observer's own requests would consume them."""
        self._quiet_until = time.monotonic() + seconds

    def wait_exchange(self, condition: Callable[[Decimal], bool], timeout_s: float) -> bool:
        """Sample the exchange until ``condition(base asset held)`` holds; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._sample()
            if condition(self._held):
                return True
            time.sleep(0.25)
        return False

    def wait_open_orders(self, condition: Callable[[dict[str, Any]], bool], timeout_s: float) -> bool:
        """Sample the exchange's open orders until one satisfies ``condition``; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._sample()
            with contextlib.suppress(httpx.HTTPError):
                if any(condition(order) for order in self.sim.signed("/api/v3/openOrders", symbol=SYMBOL)):
                    return True
            time.sleep(0.1)
        return False

    def open_protected_position(self, timeout_s: float, stop_pct: Decimal = STOP_PCT,
                                target_pct: Decimal = TARGET_PCT) -> bool:
        """Ask for entries (every 2 s while flat) until the exchange holds coins and a stop for them;
        False on timeout. Faults that need a position must open one: while an injector waits, the
        trading loop that places the session's entries is not running."""
        deadline, next_entry = time.monotonic() + timeout_s, 0.0
        while time.monotonic() < deadline:
            self._sample()
            with contextlib.suppress(httpx.HTTPError):
                orders = self.sim.signed("/api/v3/openOrders", symbol=SYMBOL)
                if self._held >= FLAT_BELOW and any(o["type"] in STOP_TYPES for o in orders):
                    return True
            if self._held < FLAT_BELOW and time.monotonic() >= next_entry:
                self.place_entry(timeout_s=3.0, stop_pct=stop_pct, target_pct=target_pct)
                next_entry = time.monotonic() + 2.0
            time.sleep(0.1)
        return False

    def wait_partial_fill(self, since_ms: int, timeout_s: float) -> bool:
        """Sample the exchange until one of our orders updated after ``since_ms`` (exchange time) has
        traded part of its quantity, open or not (the bot may already have cancelled it); False on
        timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._sample()
            with contextlib.suppress(httpx.HTTPError):
                orders = self.sim.signed("/api/v3/allOrders", symbol=SYMBOL, limit=50)
                if any(int(o["updateTime"]) >= since_ms and 0 < Decimal(o["executedQty"]) < Decimal(o["origQty"])
                       for o in orders):
                    return True
            time.sleep(0.1)
        return False

    def server_time(self) -> int:
        return int(self.sim.control("GET", "state")["serverTime"])

    def entry_path(self) -> str:
        """The REST path the bot's next entry takes: an OTOCO list where the symbol allows OTO (the bot
        sends entries as lists there), a plain order otherwise."""
        info = self.sim.public("/api/v3/exchangeInfo", symbol=SYMBOL)
        oto = any(s.get("otoAllowed") for s in info.get("symbols", []) if s.get("symbol") == SYMBOL)
        return "/api/v3/orderList/otoco" if oto else "/api/v3/order"

    def end_background_faults(self) -> None:
        for fault in self.background:
            fault.join(timeout=30.0)
        self.background.clear()

    def place_entry(self, timeout_s: float = 5.0, stop_pct: Decimal = STOP_PCT, target_pct: Decimal = TARGET_PCT
                    ) -> bool:
        """A market BUY through the bot's API (risk-sized), stop ``stop_pct`` % below, target
        ``target_pct`` % above (by default 0.15 % / 0.2 %: positions open and close within a session)."""
        try:
            price = Decimal(self.sim.control("GET", "state")["symbols"][SYMBOL])
        except (httpx.HTTPError, KeyError):
            return False
        cent, hundred = Decimal("0.01"), Decimal(100)
        body = {"symbol": SYMBOL, "side": "BUY",
                "stop_loss": str((price * (1 - stop_pct / hundred)).quantize(cent)),
                "take_profits": [str((price * (1 + target_pct / hundred)).quantize(cent))]}
        self.result.figures["entries_requested"] = self.result.figures.get("entries_requested", 0) + 1
        try:
            response = self.bot.api("POST", "/orders", timeout_s=timeout_s, json=body)
        except httpx.HTTPError:
            return False
        accepted = response.status_code == 201
        if not accepted:
            with (self.workdir / "notes.txt").open("a") as notes:
                notes.write(f"entry refused: {response.status_code} {response.text[:300]}\n")
        if accepted:
            self.result.figures["entries_accepted"] = self.result.figures.get("entries_accepted", 0) + 1
        return accepted

    # ---- the session ---------------------------------------------------------------------------------

    def run(self) -> SessionResult:
        started = time.monotonic()
        try:
            self._start()
            self._trade()
            self._settle()
        except Exception as error:  # a session that cannot finish is a failed session, with the reason
            self.result.error = f"{type(error).__name__}: {error}"
        finally:
            self._teardown()
            self.result.figures["seconds"] = round(time.monotonic() - started, 1)
            self.result.figures["max_unprotected_s"] = round(self._max_unprotected, 2)
            self.result.figures["max_unprotected_incl_down_s"] = round(self._max_unprotected_any, 2)
            self.result.figures["bot_starts"] = self.bot.starts
        return self.result

    def _start(self) -> None:
        if self.pg_database:
            import psycopg

            with psycopg.connect(self.pg_admin_url, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{self.pg_database}"')
        self.sim.start()
        self.bot.write_config(RISK, EXECUTION)
        for attempt in range(3):  # as a supervisor would: a start refused (exit 1) is started again
            try:
                self.bot.start()
                return
            except RuntimeError:
                if attempt == 2:
                    raise
                self.result.figures["bot_start_refusals"] = self.result.figures.get("bot_start_refusals", 0) + 1

    def _trade(self) -> None:
        plan = schedule(self.rng, self.config.faults, self.config.duration_s, self.config.fault_count)
        begin, next_entry = time.monotonic(), 0.0
        while (elapsed := time.monotonic() - begin) < self.config.duration_s:
            self._sample()
            self._bot_up_since()  # notes when a restarted bot is up (a later exit is then a crash)
            self._notice_crash()
            while plan and plan[0][0] <= elapsed:
                kind = plan.pop(0)[1]
                self._inject(kind)
            if elapsed >= next_entry and self._held < FLAT_BELOW:
                self.place_entry(timeout_s=3.0)
                next_entry = elapsed + 2.0
            time.sleep(0.25)
        for _, kind in plan:  # pushed past the window by a blocking fault (or a slow machine): late, not never
            self._inject(kind)

    def _inject(self, kind: str) -> None:
        """Counted only when it was applied (no position to be down through, SQLite for ``db_loss``, or
        the simulator unreachable at that moment: not counted)."""
        try:
            applied = FAULTS[kind](self, self.rng)
        except httpx.HTTPError as error:  # e.g. the simulator is restarting
            applied = False
            with (self.workdir / "notes.txt").open("a") as notes:
                notes.write(f"{kind}: {error}\n")
        if applied:
            self.result.injected[kind] += 1
        else:
            self.result.figures["faults_skipped"] = self.result.figures.get("faults_skipped", 0) + 1

    def _notice_crash(self) -> None:
        """A bot that exits on its own (not by our kill) after it was up is a crash, a failure. One that
        gives up while starting (``ictbot run`` exits 1 when the exchange is unreachable at start, e.g.
        during ``sim_restart``) is counted apart: a supervisor restarts it, as the session does."""
        if self.bot.process is not None and self.bot.process.poll() is not None:
            if self.bot.process.returncode != -9:
                kind = "bot_crashes" if self.bot.up_since is not None else "bot_start_refusals"
                self.result.figures[kind] = self.result.figures.get(kind, 0) + 1
            self.bot.spawn()

    def _sample(self) -> None:
        """Is there a position on the exchange without a stop order? For how long?"""
        if time.monotonic() < self._quiet_until or self.sim.process is None or self.sim.process.poll() is not None:
            return
        try:
            account = self.sim.signed("/api/v3/account")
            orders = self.sim.signed("/api/v3/openOrders", symbol=SYMBOL)
        except httpx.HTTPError:
            return
        held = sum((Decimal(b["free"]) + Decimal(b["locked"]) for b in account["balances"] if b["asset"] == "BTC"),
                   Decimal(0))
        stopped = sum((Decimal(o["origQty"]) - Decimal(o["executedQty"]) for o in orders if o["type"] in STOP_TYPES),
                      Decimal(0))
        self._held = held
        now = time.monotonic()
        if held - stopped >= FLAT_BELOW:  # more than dust is not covered by a stop
            since = self._unprotected_since = self._unprotected_since or now
            self._max_unprotected_any = max(self._max_unprotected_any, now - since)
            up = self._bot_up_since()
            if up is not None:  # the grace runs while the bot is up: a dead process places no stop
                self._max_unprotected = max(self._max_unprotected, now - max(since, up))
        else:
            self._unprotected_since = None

    def _bot_up_since(self) -> float | None:
        """Since when the bot's API answers (None while it is down or starting; asked at most once a second)."""
        if self.bot.up_since is None and time.monotonic() - self._last_ready_check > 1.0:
            self._last_ready_check = time.monotonic()
            self.bot.ready()
        return self.bot.up_since

    def _settle(self) -> None:
        """Faults stop; time stops (the replay is paused); the bot must converge to the exchange's truth."""
        self.end_background_faults()
        if self.sim.process is None or self.sim.process.poll() is not None:
            self.sim.start()
        self._notice_crash()
        self._wait_ready()
        self.wait_exchange(lambda held: False, 3.0)  # bans (server time) run out before time stops
        self.sim.control("POST", "pause")
        deadline = time.monotonic() + self.config.settle_s
        while True:
            self._sample()
            try:
                evidence = Evidence(self._truth(), self._bot_view(), self._limits(), self._max_unprotected)
            except httpx.HTTPError as error:  # a leftover injected 503/429 answered this read: ask again
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no complete view to check within {self.config.settle_s} s: {error}") from None
                time.sleep(1.0)
                continue
            self.result.checks = check_all(evidence)
            self.result.checks["bot never crashed"] = (
                f"the bot exited on its own {self.result.figures['bot_crashes']:.0f} time(s)"
                if self.result.figures.get("bot_crashes") else None)
            if all(v is None for v in self.result.checks.values()) or time.monotonic() > deadline:
                break
            time.sleep(1.0)
            self._notice_crash()

    def _limits(self) -> Limits:
        return Limits(LIMITS.initial_quote, LIMITS.taker_fee_rate, LIMITS.daily_loss_limit_pct,
                      LIMITS.max_drawdown_pct, self.config.stop_grace_s)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.bot.ready():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot's API did not answer within {START_TIMEOUT_S:.0f} s")
            self._sample()
            self._notice_crash()
            time.sleep(0.5)

    def _truth(self) -> Truth:
        account = self.sim.signed("/api/v3/account")
        balances = {b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in account["balances"]}
        return Truth(orders=self.sim.signed("/api/v3/allOrders", symbol=SYMBOL, limit=1000),
                     trades=self.sim.signed("/api/v3/myTrades", symbol=SYMBOL, limit=1000),
                     balances=balances, price=Decimal(self.sim.control("GET", "state")["symbols"][SYMBOL]))

    def _bot_view(self) -> BotView:
        status = self.bot.api("GET", "/status").json()
        every = self.bot.api("GET", "/positions", params={"include_closed": "true"}).json()
        positions = [p for p in every if p["is_open"]]
        url = self.bot.database_url or f"sqlite:///{self.workdir / 'bot.db'}"
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(sa.text("SELECT client_order_id, leg, signal_id, status FROM orders"))
                orders = {r[0]: {"leg": r[1], "signal_id": r[2], "status": r[3]} for r in rows}
                fills = [(str(r[0]), str(r[1])) for r in
                         connection.execute(sa.text("SELECT trade_id, client_order_id FROM fills"))]
        finally:
            engine.dispose()
        return BotView(orders=orders, fill_ids=fills, open_qty=sum((Decimal(p["qty"]) for p in positions), Decimal(0)),
                       closed_positions=len(every) - len(positions),
                       mark_price=Decimal(positions[0]["mark_price"]) if positions else None,
                       equity=Decimal(status["metrics"]["equity"]), trading_state=status["trading_state"],
                       state_reason=status["trading_state_reason"])

    def _teardown(self) -> None:
        self.end_background_faults()
        self.bot.stop()
        self.sim.kill()
        if self.pg_database and not self.result.passed:  # kept for the post-mortem, named in the notes
            with (self.workdir / "notes.txt").open("a") as notes:
                notes.write(f"PostgreSQL database kept: {self.pg_database}\n")
        elif self.pg_database:
            import psycopg

            try:
                with psycopg.connect(self.pg_admin_url, autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
            except psycopg.Error:
                pass


def run_session(config: SessionConfig) -> SessionResult:
    return ChaosSession(config).run()


def describe(result: SessionResult) -> dict[str, Any]:
    return {"seed": result.seed, "database": result.database, "passed": result.passed, "error": result.error,
            "injected": dict(result.injected), "failures": {k: v for k, v in result.checks.items() if v},
            "checks": result.checks, "figures": result.figures}


def from_description(line: dict[str, Any]) -> SessionResult:
    """A journal line (``describe``) back into a result, to tally a campaign that was stopped midway."""
    return SessionResult(seed=line["seed"], database=line["database"], injected=Counter(line["injected"]),
                         checks=line.get("checks", {}), figures=line["figures"], error=line["error"])
