"""Builds the notifier's channels from the ``notifications`` config and the environment."""

from __future__ import annotations

from dataclasses import dataclass, field

from ictbot.notify.config import NotificationsConfig, Secrets
from ictbot.notify.dispatcher import FailureAlert, Notifier
from ictbot.notify.email import EmailChannel
from ictbot.notify.telegram import BotCommands, TelegramChannel, TelegramCommandListener
from ictbot.notify.webhook import WebhookChannel


@dataclass
class NotificationSetup:
    notifier: Notifier
    listener: TelegramCommandListener | None = None
    secrets: list[str] = field(default_factory=list)  # for the log redactor


def build_notifications(config: NotificationsConfig, secrets: Secrets, *, on_failing: FailureAlert | None = None,
                        commands: BotCommands | None = None) -> NotificationSetup:
    """Raises ``ValueError`` naming the setting when a configured channel lacks its secret."""
    setup = NotificationSetup(Notifier(on_failing))
    if not config.enabled:
        return setup
    for hook in config.webhooks:
        if not hook.enabled:
            continue
        secret = secrets.get(hook.secret_env)
        setup.secrets.extend(s for s in (secret,) if s)
        channel = WebhookChannel(hook.name, hook.url, secret=secret, template=hook.template, preset=hook.format,
                                 headers=hook.headers, timeout=hook.timeout_seconds)
        setup.notifier.add(channel, hook)
    telegram = config.telegram
    if telegram is not None and telegram.enabled:
        token = secrets.get(telegram.token_env)
        if token is None:
            raise ValueError(f"notifications.telegram: environment variable {telegram.token_env} is not set")
        setup.secrets.append(token)
        bot = TelegramChannel(token, telegram.chat_id, base_url=telegram.base_url, timeout=telegram.timeout_seconds)
        setup.notifier.add(bot, telegram)
        if telegram.commands and commands is not None:
            setup.listener = TelegramCommandListener(bot, commands, poll_timeout=telegram.poll_timeout_seconds)
    email = config.email
    if email is not None and email.enabled:
        password = secrets.get(email.password_env)
        if email.username and password is None:
            raise ValueError(f"notifications.email: environment variable {email.password_env} is not set")
        setup.secrets.extend(s for s in (password,) if s)
        mail = EmailChannel(host=email.host, port=email.port, sender=email.sender, recipients=email.recipients,
                            starttls=email.starttls, username=email.username, password=password,
                            subject_prefix=email.subject_prefix, timeout=email.timeout_seconds)
        setup.notifier.add(mail, email)
    return setup
