"""Delivery only: a :class:`~alerts.notice.Notice` in, one message out per channel.

Channels are looked up in :data:`~alerts.channels.CHANNELS` by the word users
write in config (``webhook``, ``email``, ``apprise``).
"""
from .channels import CHANNELS, Channel, make_channel, signature
from .notice import Change, DeliveryFailed, HealthNotice, Notice

__all__ = ["CHANNELS", "Change", "Channel", "DeliveryFailed", "HealthNotice", "Notice", "make_channel", "signature"]
