"""Every account's money: spot balances and the locks that reserve them, USD-M wallets, positions,
leverage and margin type, and the balance events an engine call ends with."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import book, fees
from ictbot.exchange_sim.engine.accounts import FuturesAccount, SpotAccount
from ictbot.exchange_sim.engine.batch import Batch
from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.exchange_sim.engine.model import LIMIT_LIKE, STOP_TYPES, BalanceEvent, Lock, OrderRequest, SimOrder
from ictbot.exchange_sim.errors import SimError
from ictbot.exchange_sim.formatting import round_half_up
from ictbot.exchange_sim.symbols import SymbolSpec

ZERO = Decimal(0)
PriceOf = Callable[[str], Decimal]


class Funds:
    def __init__(self, config: MatchingConfig) -> None:
        self.config = config
        self.spot_accounts: dict[str, SpotAccount] = {}
        self.futures_accounts: dict[str, FuturesAccount] = {}
        self.locks: dict[int, Lock] = {}
        self._next_lock_id = 1

    def spot_account(self, account: str) -> SpotAccount:
        acct = self.spot_accounts.get(account)
        if acct is None:
            acct = SpotAccount(free=dict(self.config.initial_balances))
            self.spot_accounts[account] = acct
        return acct

    def futures_account(self, account: str) -> FuturesAccount:
        acct = self.futures_accounts.get(account)
        if acct is None:
            acct = FuturesAccount(wallet=dict(self.config.futures_initial_balances))
            self.futures_accounts[account] = acct
        return acct

    # ---- spot reservations --------------------------------------------------------------------------

    def reservation(self, spec: SymbolSpec, req: OrderRequest, qty: Decimal, last: Decimal) -> tuple[str, Decimal]:
        """The asset and amount a new spot order locks (a MARKET BUY: what walking the book costs)."""
        if req.side == "SELL":
            return spec.base, qty
        if req.type in LIMIT_LIKE:
            return spec.quote, (req.price or ZERO) * qty
        if req.type in STOP_TYPES:
            return spec.quote, (req.stop_price or ZERO) * qty
        if req.quote_order_qty is not None:
            return spec.quote, req.quote_order_qty
        fills = book.walk(spec, last, "BUY", self.config, qty=qty)
        return spec.quote, sum((p * q for p, q in fills), ZERO)

    def lock(self, acct: SpotAccount, asset: str, amount: Decimal, holders: set[int]) -> int:
        """Reserve ``amount`` for the orders ``holders`` (an OCO's legs share one lock); its id."""
        lock_id = self._next_lock_id
        self._next_lock_id += 1
        acct.lock(asset, amount)
        self.locks[lock_id] = Lock(asset, amount, set(holders))
        return lock_id

    def release(self, order: SimOrder) -> None:
        """The order closed: what its lock still holds goes back to free once no holder is left."""
        lock = self.locks.get(order.lock_id)
        if lock is None:
            return
        lock.holders.discard(order.order_id)
        if not lock.holders:
            if lock.amount > 0:
                self.spot_account(order.account).unlock(lock.asset, lock.amount)
            del self.locks[order.lock_id]

    def _pay(self, acct: SpotAccount, order: SimOrder, asset: str, amount: Decimal) -> None:
        """Spend ``amount`` of ``asset`` from the order's lock first, then (overflow) from free."""
        lock = self.locks.get(order.lock_id)
        from_lock = min(lock.amount, amount) if lock is not None else ZERO
        if lock is not None:
            lock.amount -= from_lock
            acct.spend_locked(asset, from_lock)
        if amount > from_lock:
            acct.credit(asset, -(amount - from_lock))

    # ---- fills ------------------------------------------------------------------------------------

    def settle_fill(self, order: SimOrder, spec: SymbolSpec, price: Decimal, qty: Decimal, is_maker: bool,
                    now: int) -> tuple[Decimal, str, Decimal]:
        """Move the money of one fill; returns (commission, commission asset, realised PnL)."""
        commission, asset = fees.commission(self.config, spec, order.side, qty, price, is_maker)
        quote_qty = price * qty
        if spec.market is Market.SPOT:
            acct = self.spot_account(order.account)
            if order.side == "BUY":
                self._pay(acct, order, spec.quote, quote_qty)
                acct.credit(spec.base, qty - commission)
            else:
                self._pay(acct, order, spec.base, qty)
                acct.credit(spec.quote, quote_qty - commission)
            acct.update_time = now
            return commission, asset, ZERO
        facct = self.futures_account(order.account)
        position = facct.position(spec.symbol)
        realized = position.apply_fill(order.side, qty, price)
        position.update_time = now
        facct.wallet[spec.quote] = facct.wallet.get(spec.quote, ZERO) + realized - commission
        facct.update_time = now
        return commission, asset, realized

    def apply_funding(self, symbol: str, mark: Decimal, rate: Decimal, now: int, batch: Batch) -> None:
        """Longs pay ``rate × notional`` to shorts (rate > 0), into each holder's USDT wallet."""
        for account, acct in self.futures_accounts.items():
            position = acct.positions.get(symbol)
            if position is None or position.amt == 0:
                continue
            fee = round_half_up(-position.amt * mark * rate, 8)
            acct.wallet["USDT"] = acct.wallet.get("USDT", ZERO) + fee
            acct.update_time = now
            batch.touch_futures(account, symbol)

    # ---- USD-M settings and margin --------------------------------------------------------------------

    def leverage(self, account: str, symbol: str) -> int:
        return self.futures_account(account).leverage.get(symbol, self.config.default_leverage)

    def set_leverage(self, account: str, symbol: str, leverage: int) -> int:
        if not 1 <= leverage <= 125:
            raise SimError(-4028, "Leverage is not valid")
        self.futures_account(account).leverage[symbol] = leverage
        return leverage

    def set_margin_type(self, account: str, symbol: str, margin_type: str) -> None:
        wanted = {"ISOLATED": "isolated", "CROSSED": "cross"}.get(margin_type)
        if wanted is None:
            raise SimError(-1116, "Invalid marginType.")
        acct = self.futures_account(account)
        if acct.margin_type.get(symbol, "cross") == wanted:
            raise SimError(-4046, "No need to change margin type.")
        acct.margin_type[symbol] = wanted

    def available_margin(self, account: str, price_of: PriceOf, open_orders: Iterable[SimOrder]) -> Decimal:
        """Equity (wallet + unrealised PnL) less the margin of the positions and open opening orders."""
        acct = self.futures_account(account)
        equity = acct.wallet.get("USDT", ZERO)
        used = ZERO
        for symbol, pos in acct.positions.items():
            mark = price_of(symbol)
            equity += (mark - pos.entry) * pos.amt
            used += abs(pos.amt) * mark / self.leverage(account, symbol)
        for order in open_orders:
            if not order.reduce_only:
                price = order.price if order.price > 0 else price_of(order.symbol)
                used += order.remaining * price / self.leverage(account, order.symbol)
        return equity - used

    # ---- wrap-up ------------------------------------------------------------------------------------

    def balance_events(self, batch: Batch, price_of: PriceOf, now: int) -> list[BalanceEvent]:
        """One balance event per touched account, spot first, accounts in name order."""
        events = [BalanceEvent(account, Market.SPOT, self.spot_account(account).view(assets), now)
                  for account, assets in sorted(batch.touched_spot.items())]
        leverage = self.config.default_leverage
        for account, symbols in sorted(batch.touched_futures.items()):
            acct = self.futures_account(account)
            positions = tuple(acct.position_view(s, price_of(s), leverage) for s in sorted(symbols))
            events.append(BalanceEvent(account, Market.USDM, acct.balances(), now,
                                       "FUNDING_FEE" if batch.funding else "ORDER", positions))
        return events
