"""REST API, WebSocket feed and dashboard over the application facade."""

from ictbot.api.app import create_app, start_background, stop_background
from ictbot.api.auth import Scope, TokenAuthority, load_or_create_tokens
from ictbot.api.broadcaster import Broadcaster
from ictbot.api.settings import ApiSettings

__all__ = [
    "ApiSettings", "Broadcaster", "Scope", "TokenAuthority", "create_app", "load_or_create_tokens",
    "start_background", "stop_background",
]
