"""Strategies: the contract, the registry, the synchronous runner and the bus service."""

from ictbot.strategies.base import BaseStrategy, Strategy, StrategyConfig, StrategyContext
from ictbot.strategies.registry import (
    StrategyEntry,
    StrategyRegistry,
    StrategyStatus,
    default_strategies_config,
)
from ictbot.strategies.runner import StrategyOutputError, StrategyRunner
from ictbot.strategies.service import StrategyService

__all__ = [
    "BaseStrategy",
    "Strategy",
    "StrategyConfig",
    "StrategyContext",
    "StrategyEntry",
    "StrategyOutputError",
    "StrategyRegistry",
    "StrategyRunner",
    "StrategyService",
    "StrategyStatus",
    "default_strategies_config",
]
