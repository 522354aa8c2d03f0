"""API settings. Secure by default: loopback only, auth on, CORS off, small request bodies."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class ApiSettings(BaseModel):
    """Built by the application from its own settings (``ictbot.app.settings``), or by tests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    # Trade scope (state changes). Read scope (GETs, WebSocket). Unset: generated into token_file.
    token: SecretStr | None = None
    read_token: SecretStr | None = None
    token_file: Path = Path(".config/api_token")
    # CORS stays off unless origins are listed explicitly ("*" is refused).
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: Annotated[int, Field(ge=1024, le=16 * 1024 * 1024)] = 64 * 1024
    docs_enabled: bool = True
    dashboard_enabled: bool = True
    # ``--reports DIR``: backtest results (``ictbot backtest --json``) the dashboard lists; None: none
    reports_dir: Path | None = None
    ws_queue_size: Annotated[int, Field(ge=8, le=100_000)] = 1024
    ws_ring_size: Annotated[int, Field(ge=0, le=1_000_000)] = 5000
    ws_heartbeat_s: Annotated[float, Field(gt=0, le=300)] = 15.0
    ws_auth_timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    ws_max_clients: Annotated[int, Field(ge=1, le=100_000)] = 2000
    ws_max_message_bytes: Annotated[int, Field(ge=256, le=1024 * 1024)] = 16 * 1024

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _explicit_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin == "*" or not origin.startswith(("http://", "https://")):
                raise ValueError(f"CORS origin must be an explicit http(s) origin, not {origin!r}")
        return value

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False
