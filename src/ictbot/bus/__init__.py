"""Typed in-process event bus."""

from ictbot.bus.bus import BackpressureError, BackpressurePolicy, Envelope, EventBus, Subscription
from ictbot.bus.topics import TOPIC_PAYLOADS, Topic

__all__ = [
    "TOPIC_PAYLOADS",
    "BackpressureError",
    "BackpressurePolicy",
    "Envelope",
    "EventBus",
    "Subscription",
    "Topic",
]
