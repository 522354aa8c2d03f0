"""Research checks on a strategy through the backtest code path (docs/strategies.md#checking-a-strategy):

* ``lookahead``: the strategy on the full data and on copies cut at random points; a decision made at
  or before a cut that differs between the two used candles after the cut.
* ``recursive``: runs started at later candles; a decision after the declared warm-up that differs
  from the earliest run's used more history than the strategy declares.
"""

from ictbot.analysis.compare import Difference, FieldDifference
from ictbot.analysis.lookahead import LookaheadReport, lookahead_analysis
from ictbot.analysis.recursive import RecursiveReport, recursive_analysis

__all__ = [
    "Difference",
    "FieldDifference",
    "LookaheadReport",
    "RecursiveReport",
    "lookahead_analysis",
    "recursive_analysis",
]
