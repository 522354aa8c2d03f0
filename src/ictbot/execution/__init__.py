"""Order execution: intents → venue orders, order journal, protective orders, reconciliation."""

from ictbot.execution.config import ExecutionConfig
from ictbot.execution.errors import EntriesBlockedError, ExecutionError, OrderNotOpenError, UnknownOrderError
from ictbot.execution.executor import LOST_REASON, OrderExecutor
from ictbot.execution.ids import entry_client_id, is_ours, parse_client_id, position_id_for
from ictbot.execution.reconciler import Reconciler, ReconcileResult
from ictbot.execution.service import ExecutionService
from ictbot.execution.venue_ext import AccountSetupVenue

__all__ = [
    "LOST_REASON",
    "AccountSetupVenue",
    "EntriesBlockedError",
    "ExecutionConfig",
    "ExecutionError",
    "ExecutionService",
    "OrderExecutor",
    "OrderNotOpenError",
    "ReconcileResult",
    "Reconciler",
    "UnknownOrderError",
    "entry_client_id",
    "is_ours",
    "parse_client_id",
    "position_id_for",
]
