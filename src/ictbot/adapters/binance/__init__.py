"""Our thin Binance adapter: signed REST (httpx) + streams (websockets), typed parsing to domain
objects, error translation, one shared rate budget, ``ExecutionVenue`` implementations."""

from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.errors import translate_error
from ictbot.adapters.binance.factory import BinanceConfig, build_client, build_venue
from ictbot.adapters.binance.ratelimit import LocalRateBudget, RateBudget, RateLimitRule, shared_budget
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.signing import Credentials, Ed25519Signer, HmacSigner
from ictbot.adapters.binance.timesync import ServerTime
from ictbot.adapters.binance.user_stream import FuturesUserDataStream, SpotUserDataStream, UserDataStream
from ictbot.adapters.binance.venue import BinanceFuturesVenue, BinanceVenue

__all__ = [
    "BinanceConfig",
    "BinanceEndpoints",
    "BinanceFuturesVenue",
    "BinanceRestClient",
    "BinanceVenue",
    "Credentials",
    "Ed25519Signer",
    "FuturesUserDataStream",
    "HmacSigner",
    "LocalRateBudget",
    "RateBudget",
    "RateLimitRule",
    "ServerTime",
    "SpotUserDataStream",
    "UserDataStream",
    "build_client",
    "build_venue",
    "shared_budget",
    "translate_error",
]
