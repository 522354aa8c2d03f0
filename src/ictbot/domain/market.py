"""Symbols and market kinds."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

KNOWN_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY")


class Market(str, Enum):
    SPOT = "spot"
    USDM = "usdm"


@dataclass(frozen=True, slots=True)
class Symbol:
    """A tradable pair, e.g. ``Symbol("BTC", "USDT")`` written ``BTCUSDT`` on Binance."""

    base: str
    quote: str

    def __str__(self) -> str:
        return f"{self.base}{self.quote}"

    @property
    def name(self) -> str:
        return str(self)

    @classmethod
    def parse(cls, value: str) -> Symbol:
        """Split ``BTCUSDT`` / ``BTC/USDT`` / ``BTC_USDT`` into base and quote."""
        cleaned = value.strip().upper()
        for separator in ("/", "_", "-"):
            if separator in cleaned:
                base, _, quote = cleaned.partition(separator)
                quote = quote.split(":")[0]
                if base and quote:
                    return cls(base, quote)
        for quote in KNOWN_QUOTES:
            if cleaned.endswith(quote) and len(cleaned) > len(quote):
                return cls(cleaned[: -len(quote)], quote)
        raise ValueError(f"cannot split symbol {value!r} into base and quote assets")
