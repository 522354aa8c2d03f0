"""Notifications: journal records to Telegram, webhooks and e-mail, never blocking the pipeline."""

from ictbot.notify.dispatcher import Channel, ChannelWorker, Notifier

__all__ = ["Channel", "ChannelWorker", "Notifier"]
