"""A local exchange that speaks Binance's wire protocol (spot + USD-M, REST + WebSocket).

Public API::

    from ictbot.exchange_sim import SimConfig, SimulatorServer

    async with SimulatorServer(SimConfig(seed=7)) as sim:
        ...  # sim.base_url, sim.ws_url, sim.ws_api_url, sim.futures_ws_url, sim.control, sim.clock

See docs/simulator.md.
"""

from ictbot.exchange_sim.clock import SimClock
from ictbot.exchange_sim.config import AS_FAST_AS_POSSIBLE, STEP_MODE, SimConfig
from ictbot.exchange_sim.control import SimControl
from ictbot.exchange_sim.core import Simulator
from ictbot.exchange_sim.engine import MatchingConfig, MatchingEngine
from ictbot.exchange_sim.errors import SimError
from ictbot.exchange_sim.runner import SimulatorServer

__all__ = [
    "AS_FAST_AS_POSSIBLE", "STEP_MODE", "MatchingConfig", "MatchingEngine", "SimClock", "SimConfig", "SimControl",
    "SimError", "Simulator", "SimulatorServer",
]
