"""``ictbot download --exchange-info``: store the exchange's symbol rules for offline use.

The instrument catalogue reads them back (below live exchange rules, above the packaged snapshot)
in backtests, the simulator and paper trading.
"""

from __future__ import annotations

import time

from ictbot.cli.common import fail, make_console
from ictbot.domain.market import Market

out = make_console()


async def download_exchange_info(base_url: str, db_url: str, market: Market) -> None:
    from ictbot.adapters.binance.endpoints import BinanceEndpoints
    from ictbot.adapters.binance.rest import BinanceRestClient
    from ictbot.adapters.storage import Database
    from ictbot.adapters.storage.exchange_info import SqlExchangeInfoStore
    from ictbot.domain.errors import ExchangeError, InputDataError
    from ictbot.instruments import parse_exchange_info

    endpoints = BinanceEndpoints(rest=base_url, ws="", ws_api="", fapi_rest=base_url, fapi_ws="", name="download")
    db = Database(db_url)
    db.upgrade()
    client = BinanceRestClient(endpoints, market=market)
    try:
        payload = await client.exchange_info_raw()
        instruments = parse_exchange_info(payload, market)
        server_time = payload.get("serverTime") if isinstance(payload, dict) else None
        read_at = server_time if isinstance(server_time, int) else int(time.time() * 1000)
        stored = await SqlExchangeInfoStore(db).save(instruments, market, read_at, base_url)
    except (ExchangeError, InputDataError) as exc:
        fail(f"exchangeInfo download failed: {exc}", code=1)
    finally:
        await client.aclose()
        await db.close()
    trading = sum(1 for i in instruments.values() if i.status == "TRADING")
    out.print(f"stored the rules of {stored} {market.value} symbols ({trading} TRADING) from {base_url}")


def use_stored_rules() -> None:
    """Offline commands: the database's stored exchange rules (if any) above the packaged snapshot."""
    from ictbot.adapters.storage.exchange_info import stored_catalogue
    from ictbot.app.settings import Settings
    from ictbot.instruments import use_catalogue

    use_catalogue(stored_catalogue(Settings().resolved_database_url))
