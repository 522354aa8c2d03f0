"""The ``notifications`` section of the trading config, and its secrets from the environment.

Secrets never live in the config file: each channel names the environment variable that holds
its secret (with a sensible default name). ``ICTBOT_WEBHOOK_URL`` alone adds a webhook that
receives every event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ictbot.domain.events import AlertLevel
from ictbot.monitoring.journal_records import JOURNAL_EVENTS

WEBHOOK_URL_ENV = "ICTBOT_WEBHOOK_URL"
WEBHOOK_SECRET_ENV = "ICTBOT_WEBHOOK_SECRET"
TELEGRAM_TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
SMTP_PASSWORD_ENV = "SMTP_PASSWORD"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelOptions(_Strict):
    """What a channel receives and how often it may send."""

    enabled: bool = True
    events: list[str] | None = Field(default=None, description="journal events to send; unset: all")
    min_severity: AlertLevel = AlertLevel.INFO
    max_per_minute: int = Field(default=20, ge=1, le=600, description="sends per minute; bursts are batched")
    max_batch: int = Field(default=20, ge=1, le=200, description="records in one batched message at most")
    retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=1.0, gt=0, le=300)
    queue_size: int = Field(default=1000, ge=1, le=100_000, description="records waiting at most; oldest dropped")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str] | None) -> list[str] | None:
        for event in value or []:
            if event not in JOURNAL_EVENTS:
                raise ValueError(f"unknown event {event!r}; one of {', '.join(JOURNAL_EVENTS)}")
        return value


class WebhookOptions(ChannelOptions):
    name: str = "webhook"
    url: str = Field(pattern=r"^https?://", description="where the JSON is POSTed")
    secret_env: str = Field(default=WEBHOOK_SECRET_ENV, description="env var with the HMAC-SHA256 signing key")
    format: Literal["json", "slack", "discord"] = "json"
    template: dict[str, Any] | None = Field(
        default=None, description="JSON body; strings may use $text $event $severity $count, \"$events\" the list",
    )
    headers: dict[str, str] = Field(default_factory=dict)


class TelegramOptions(ChannelOptions):
    chat_id: str = Field(min_length=1, description="the only chat messages go to and commands are taken from")
    token_env: str = TELEGRAM_TOKEN_ENV
    base_url: str = Field(default="https://api.telegram.org", pattern=r"^https?://")
    commands: bool = Field(default=True, description="accept /status /positions /profit /halt /resume")
    poll_timeout_seconds: int = Field(default=25, ge=0, le=60, description="getUpdates long-poll timeout")


class EmailOptions(ChannelOptions):
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password_env: str = SMTP_PASSWORD_ENV
    sender: str = Field(min_length=3)
    recipients: list[str] = Field(min_length=1)
    subject_prefix: str = "[ictbot]"
    min_severity: AlertLevel = AlertLevel.WARNING
    max_per_minute: int = Field(default=2, ge=1, le=600)


class NotificationsConfig(_Strict):
    enabled: bool = True
    webhooks: list[WebhookOptions] = Field(default_factory=list)
    telegram: TelegramOptions | None = None
    email: EmailOptions | None = None


class Secrets:
    """Secret look-ups by env var name (the process environment, or a mapping in tests)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None


def effective_config(section: Mapping[str, Any] | None, environ: Mapping[str, str]) -> NotificationsConfig:
    """The validated section plus the env-only webhook (``ICTBOT_WEBHOOK_URL``: every event)."""
    config = NotificationsConfig.model_validate(dict(section or {}))
    url = environ.get(WEBHOOK_URL_ENV, "").strip()
    if url and all(hook.url != url for hook in config.webhooks):
        try:
            hook = WebhookOptions(name="env-webhook", url=url)
        except ValidationError:
            raise ValueError(f"{WEBHOOK_URL_ENV}: {url!r} is not an http:// or https:// URL") from None
        config = config.model_copy(update={"webhooks": [*config.webhooks, hook]})
    return config
