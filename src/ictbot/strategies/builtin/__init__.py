"""Built-in ICT strategies (see docs/strategies.md)."""

from __future__ import annotations

from typing import Any

from ictbot.strategies.base import BaseStrategy
from ictbot.strategies.builtin.strategy_a import StrategyA, StrategyAConfig
from ictbot.strategies.builtin.strategy_b import StrategyB, StrategyBConfig

BUILTIN_STRATEGIES: tuple[type[BaseStrategy[Any]], ...] = (StrategyA, StrategyB)

__all__ = ["BUILTIN_STRATEGIES", "StrategyA", "StrategyAConfig", "StrategyB", "StrategyBConfig"]
