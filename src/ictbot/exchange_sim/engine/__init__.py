"""The matching engine shared by the simulator server and the paper venue."""

from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.exchange_sim.engine.matching import MatchingEngine
from ictbot.exchange_sim.engine.model import (
    AlgoEvent,
    AlgoOrder,
    BalanceEvent,
    EngineEvent,
    ListEvent,
    OrderEvent,
    OrderList,
    OrderRequest,
    SimOrder,
    Trade,
)

__all__ = [
    "AlgoEvent", "AlgoOrder", "BalanceEvent", "EngineEvent", "ListEvent", "MatchingConfig", "MatchingEngine",
    "OrderEvent", "OrderList", "OrderRequest", "SimOrder", "Trade",
]
