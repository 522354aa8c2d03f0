"""Paper trading / backtest venue on the exchange simulator's matching engine."""

from ictbot.adapters.paper.venue import PaperVenue, translate

__all__ = ["PaperVenue", "translate"]
