"""Optional venue capabilities beyond ``ExecutionVenue`` (checked at runtime, never required)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class AccountSetupVenue(Protocol):
    """Futures venues that let the bot choose leverage and margin type per symbol."""

    async def set_leverage(self, symbol: str, leverage: int) -> object: ...

    async def set_margin_type(self, symbol: str, margin_type: str) -> object: ...
