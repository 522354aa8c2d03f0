"""Request parameters as Binance reads them (query string + form body, query wins)."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qsl

from ictbot.exchange_sim.errors import SimError, mandatory
from ictbot.exchange_sim.formatting import parse_decimal_param


class Params:
    def __init__(self, query: str, body: str) -> None:
        self.raw_query = query
        self.raw_body = body
        values = dict(parse_qsl(body, keep_blank_values=True))
        values.update(parse_qsl(query, keep_blank_values=True))
        self.values = values

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> Params:
        params = cls("", "")
        params.values = {k: _ws_string(v) for k, v in values.items() if v is not None}
        return params

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value not in (None, "") else None

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise mandatory(name)
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise SimError(
                -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."
            ) from None

    def decimal(self, name: str) -> Decimal | None:
        value = self.get(name)
        return None if value is None else parse_decimal_param(name, value)

    def boolean(self, name: str) -> bool:
        return (self.get(name) or "false").lower() == "true"

    def time_ms(self, name: str) -> int | None:
        value = self.integer(name)
        if value is not None and value > 10**14:
            value //= 1000
        return value

    def symbol_list(self) -> list[str] | None:
        raw = self.get("symbols")
        if raw is None:
            return None
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            raise SimError(-1100, "Illegal characters found in parameter 'symbols'.") from None
        if not isinstance(parsed, list) or not all(isinstance(s, str) for s in parsed):
            raise SimError(-1100, "Illegal characters found in parameter 'symbols'.")
        return [s for s in parsed]


def _ws_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
