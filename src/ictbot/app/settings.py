"""Process settings from the environment (and an optional ``.env`` file).

Secrets are ``SecretStr``: they never appear in ``repr``, logs or API responses.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class TradingMode(str, Enum):
    PAPER = "paper"  # against the built-in Binance-protocol simulator (no keys, no network)
    TESTNET = "testnet"  # Binance spot/futures testnet (keys required)
    LIVE = "live"  # Binance mainnet (keys required, real money)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    binance_api_key: SecretStr | None = Field(default=None, validation_alias="BINANCE_API_KEY")
    binance_secret_key: SecretStr | None = Field(default=None, validation_alias="BINANCE_SECRET_KEY")
    binance_private_key_path: Path | None = Field(
        default=None, validation_alias="BINANCE_PRIVATE_KEY_PATH",
        description="Ed25519 private key (PEM) used instead of the HMAC secret",
    )
    testnet: bool = Field(default=True, validation_alias="TESTNET")
    trading_mode: TradingMode = Field(default=TradingMode.PAPER, validation_alias="TRADING_MODE")
    binance_rest_url: str | None = Field(default=None, validation_alias="BINANCE_REST_URL")
    binance_ws_url: str | None = Field(default=None, validation_alias="BINANCE_WS_URL")
    binance_ws_api_url: str | None = Field(
        default=None, validation_alias="BINANCE_WS_API_URL",
        description="full spot WebSocket API URL (requests and the user-data stream), e.g. ws://host/ws-api/v3",
    )
    binance_futures_rest_url: str | None = Field(default=None, validation_alias="BINANCE_FUTURES_REST_URL")
    binance_futures_ws_url: str | None = Field(
        default=None, validation_alias="BINANCE_FUTURES_WS_URL",
        description="USD-M stream host; Binance's routed paths (/market, /private) are appended",
    )

    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    log_dir: Path = Field(default=Path("logs"), validation_alias="LOG_DIR")

    database_path: Path = Field(default=Path("data/ictbot.db"), validation_alias="DATABASE_PATH")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    # Closed candles kept in memory per (symbol, timeframe) for the API and restarts (docs/storage.md).
    candle_window: int = Field(default=500, ge=10, le=100_000, validation_alias="ICTBOT_CANDLE_WINDOW")
    # Samples kept for the in-process statistics (latencies, slippage, closed trades; docs/storage.md).
    metrics_window: int = Field(default=10_000, ge=10, le=1_000_000, validation_alias="ICTBOT_METRICS_WINDOW")
    # > 0: prune closed trades and candles older than this many days once a day (app/retention.py).
    retention_days: int = Field(default=0, ge=0, le=36_500, validation_alias="ICTBOT_RETENTION_DAYS")

    api_host: str = Field(default="127.0.0.1", validation_alias="API_HOST")
    api_port: int = Field(default=8000, ge=0, le=65535, validation_alias="API_PORT")
    api_token: SecretStr | None = Field(default=None, validation_alias="ICTBOT_API_TOKEN")
    api_read_token: SecretStr | None = Field(default=None, validation_alias="ICTBOT_API_READ_TOKEN")
    api_cors_origins: str = Field(default="", validation_alias="ICTBOT_CORS_ORIGINS")
    # the dashboard's backtests view lists the results documents in this folder (--reports DIR)
    reports_dir: Path | None = Field(default=None, validation_alias="ICTBOT_REPORTS_DIR")
    # backtests started from the dashboard run in worker processes, at most this many at once
    backtest_jobs: int = Field(default=1, ge=1, le=64, validation_alias="ICTBOT_BACKTEST_JOBS")

    config_file: Path = Field(
        default=Path(".config/trading_config.json"),
        validation_alias=AliasChoices("ICTBOT_CONFIG_FILE", "CONFIG_FILE"),
    )
    config_history_versions: int = Field(
        default=500, ge=1, le=1_000_000, validation_alias="ICTBOT_CONFIG_HISTORY_VERSIONS",
        description="configuration versions kept in <config>.history.jsonl (the oldest are dropped)",
    )
    config_history_bytes: int = Field(
        default=5 * 1024 * 1024, ge=10_000, validation_alias="ICTBOT_CONFIG_HISTORY_BYTES",
        description="size cap of the configuration history file",
    )
    bus_backend: str = Field(default="memory", validation_alias="ICTBOT_BUS")
    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias="NATS_URL")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return upper

    @field_validator("bus_backend")
    @classmethod
    def _known_bus(cls, value: str) -> str:
        if value == "nats":
            # Refused when the settings are read, not accepted and then refused at start.
            raise ValueError(
                "'nats' is not available yet: the JetStream bus (ictbot.bus.nats) is not wired into the app; "
                "unset ICTBOT_BUS or set it to 'memory'"
            )
        if value != "memory":
            raise ValueError("must be 'memory' (the in-process bus)")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.database_path}"

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redactor."""
        found = [self.binance_api_key, self.binance_secret_key, self.api_token, self.api_read_token]
        return [secret.get_secret_value() for secret in found if secret and secret.get_secret_value()]


def validate_environment(settings: Settings) -> list[str]:
    """Problems that prevent starting in the requested mode (empty list: fine).

    Keys are required only for trading on Binance itself (testnet or live); paper trading against
    the built-in simulator needs none.
    """
    problems: list[str] = []
    if settings.trading_mode in (TradingMode.LIVE, TradingMode.TESTNET):
        if settings.binance_api_key is None or not settings.binance_api_key.get_secret_value().strip():
            problems.append(
                "BINANCE_API_KEY is not set: it is required for "
                f"{settings.trading_mode.value} trading (paper mode needs no keys)"
            )
        has_secret = settings.binance_secret_key is not None and settings.binance_secret_key.get_secret_value()
        if not has_secret and settings.binance_private_key_path is None:
            problems.append(
                "BINANCE_SECRET_KEY (or BINANCE_PRIVATE_KEY_PATH for an Ed25519 key) is not set: it is "
                f"required for {settings.trading_mode.value} trading"
            )
        if settings.binance_private_key_path is not None and not settings.binance_private_key_path.exists():
            problems.append(f"BINANCE_PRIVATE_KEY_PATH {settings.binance_private_key_path} does not exist")
    problems.extend(endpoint_override_problems(settings))
    if settings.trading_mode is TradingMode.LIVE and settings.testnet:
        problems.append("TRADING_MODE=live with TESTNET=true is contradictory: set TESTNET=false for mainnet")
    problems.extend(api_token_problems(settings))
    if settings.api_host not in ("127.0.0.1", "localhost", "::1") and settings.api_token is None:
        problems.append(
            f"API_HOST={settings.api_host} exposes the API beyond this machine: set ICTBOT_API_TOKEN explicitly"
        )
    return problems


MIN_API_TOKEN_LENGTH = 16  # the API refuses shorter bearer tokens (ictbot.api.auth)


def api_token_problems(settings: Settings) -> list[str]:
    """One line per configured API token that the API would refuse (too short to resist guessing)."""
    problems: list[str] = []
    for name, secret in (("ICTBOT_API_TOKEN", settings.api_token), ("ICTBOT_API_READ_TOKEN", settings.api_read_token)):
        if secret is not None and len(secret.get_secret_value()) < MIN_API_TOKEN_LENGTH:
            problems.append(f"{name} has {len(secret.get_secret_value())} characters: it must have at least "
                            f"{MIN_API_TOKEN_LENGTH}")
    return problems


# Groups of URLs that must be overridden together: a signed request or the user-data stream must
# never go to a Binance host the operator did not configure while the rest points elsewhere.
_OVERRIDE_GROUPS = (
    ("BINANCE_REST_URL", ("BINANCE_WS_URL", "BINANCE_WS_API_URL")),
    ("BINANCE_FUTURES_REST_URL", ("BINANCE_FUTURES_WS_URL",)),
)


def endpoint_override_problems(settings: Settings) -> list[str]:
    """One line per URL that is left at Binance's default while its REST base is overridden."""
    if settings.trading_mode is TradingMode.PAPER:
        return []  # paper mode always talks to the built-in simulator
    values = {
        "BINANCE_REST_URL": settings.binance_rest_url,
        "BINANCE_WS_URL": settings.binance_ws_url,
        "BINANCE_WS_API_URL": settings.binance_ws_api_url,
        "BINANCE_FUTURES_REST_URL": settings.binance_futures_rest_url,
        "BINANCE_FUTURES_WS_URL": settings.binance_futures_ws_url,
    }
    problems: list[str] = []
    for rest, companions in _OVERRIDE_GROUPS:
        if not values[rest]:
            continue
        for companion in companions:
            if not values[companion]:
                problems.append(
                    f"{companion} is not set while {rest} is: the bot would connect to Binance's own host "
                    f"instead of the one configured; set {companion} too"
                )
    return problems
