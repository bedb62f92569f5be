"""Delivery channels, keyed by the word users write in ``[[alert]] type = …``.

Each channel turns a :class:`Notice` into one message and either returns
(delivered — the receiver confirmed) or raises :class:`DeliveryFailed`
saying whether a retry can help. Channels never retry themselves; the
outbox does, across runs, so one slow channel never blocks another.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Callable, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from . import render
from .notice import DeliveryFailed, Notice

log = logging.getLogger(__name__)
USER_AGENT = "yibao-watch/0.1 (+https://github.com/yibao-watch)"


class Channel(Protocol):
    name: str

    def send(self, notice: Notice) -> None: ...


def _secret(env_name: str | None) -> str | None:
    if not env_name:
        return None
    value = os.environ.get(env_name)
    if not value:
        raise DeliveryFailed(f"environment variable {env_name} is not set; export it or remove secret_env",
                             retry=False)
    return value


def signature(secret: str, body: bytes) -> str:
    """The X-Yibao-Signature header value: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class WebhookChannel:
    """POST the JSON contract; 2xx delivered, 408/429/5xx/timeouts retried, other 4xx permanent."""

    name: str
    url: str
    secret_env: str | None = None
    timeout: float = 10.0
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, notice: Notice) -> bytes:
        return json.dumps(notice.payload(), ensure_ascii=False, sort_keys=True).encode("utf-8")

    def send(self, notice: Notice) -> None:
        body = self.body(notice)
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                   "X-Yibao-Delivery": notice.delivery_id, **self.headers}
        secret = _secret(self.secret_env)
        if secret:
            headers["X-Yibao-Signature"] = signature(secret, body)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            raise DeliveryFailed(f"webhook {self.url}: {getattr(exc, 'reason', exc)}", retry=True) from exc
        if 200 <= status < 300:
            return
        retry = status in (408, 425, 429) or status >= 500
        raise DeliveryFailed(f"webhook {self.url} answered HTTP {status}", retry=retry)


@dataclass
class EmailChannel:
    """One digest per notice over SMTP (smtp://, smtps://, ?starttls=true); password from the environment."""

    name: str
    smtp: str
    sender: str
    to: list[str]
    password_env: str | None = None
    ca_file: str | None = None
    timeout: float = 20.0

    def _tls(self) -> ssl.SSLContext:
        """Certificates are verified; a private server's CA can be named with ca_file."""
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()

    def message(self, notice: Notice) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = render.subject(notice)
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(idstring=notice.delivery_id[:16], domain="yibao-watch")
        msg["X-Yibao-Delivery"] = notice.delivery_id
        msg.set_content(render.plain(notice))
        msg.add_alternative(render.html_digest(notice), subtype="html")
        return msg

    def send(self, notice: Notice) -> None:
        parts = urlsplit(self.smtp)
        if parts.scheme not in ("smtp", "smtps"):
            raise DeliveryFailed(f"smtp url {self.smtp!r} must start with smtp:// or smtps://", retry=False)
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
        host = parts.hostname or "localhost"
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
        user = unquote(parts.username) if parts.username else None
        password = _secret(self.password_env) if self.password_env else (unquote(parts.password) if parts.password else None)
        try:
            if parts.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=self._tls())
            else:
                client = smtplib.SMTP(host, port, timeout=self.timeout)
            with client:
                if starttls:
                    client.starttls(context=self._tls())
                if user and password:
                    client.login(user, password)
                client.send_message(self.message(notice))
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(f"smtp {host}:{port} refused the login for {user}: {exc.smtp_error!r}",
                                 retry=False) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"smtp {host}:{port} refused every recipient: {list(exc.recipients)}",
                                 retry=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"smtp {host}:{port}: {exc}", retry=True) from exc


# Message limits of the chat services people here use, in characters, a little
# under each service's documented byte limit for Chinese text (3 bytes a
# character): DingTalk robot 20000 bytes, WeCom robot markdown 4096 bytes,
# Feishu/Lark ~30000 bytes, Telegram 4096 characters. Unknown services: 3500.
SERVICE_LIMITS = {"dingtalk": 6000, "wecombot": 1300, "wxteams": 1300, "feishu": 9000, "lark": 9000, "tgram": 4000,
                  "slack": 3500, "discord": 1900, "mailto": 100000, "json": 100000}
# Services whose messages render Markdown; the others get plain text.
MARKDOWN_SERVICES = frozenset({"dingtalk", "wecombot", "wxteams", "feishu", "lark", "tgram", "slack", "discord",
                               "json"})


@dataclass
class AppriseChannel:
    """Chat apps through Apprise URLs (dingtalk://, wecombot://, feishu:// …): Markdown where the
    service renders it, and long digests split to each service's message limit."""

    name: str
    urls: list[str]
    max_chars: int | None = None

    def send(self, notice: Notice) -> None:
        import apprise  # heavy import: only when this channel is used

        for url in self.urls:
            app = apprise.Apprise()
            if not app.add(url):
                raise DeliveryFailed(f"apprise cannot use the URL {url!r}; see https://github.com/caronc/apprise/wiki",
                                     retry=False)
            service = url.split("://", 1)[0].lower()
            limit = self.max_chars or SERVICE_LIMITS.get(service, 3500)
            markdown = service in MARKDOWN_SERVICES
            text = render.markdown(notice) if markdown else render.plain(notice)
            fmt = apprise.NotifyFormat.MARKDOWN if markdown else apprise.NotifyFormat.TEXT
            parts = split_message(text, limit)
            for i, chunk in enumerate(parts, 1):
                title = render.subject(notice) + (f"（{i}/{len(parts)}）" if len(parts) > 1 else "")
                if not app.notify(body=chunk, title=title, body_format=fmt):
                    raise DeliveryFailed(f"apprise could not deliver to {service}://…", retry=True)


@dataclass
class FileChannel:
    """Append each notice as one JSON line to a file: for cron mail-less setups, audits and the demo."""

    name: str
    path: str

    def send(self, notice: Notice) -> None:
        line = json.dumps({"delivery": notice.delivery_id, **notice.payload()}, ensure_ascii=False, sort_keys=True)
        try:
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise DeliveryFailed(f"cannot append to {self.path}: {exc.strerror}", retry=True) from exc


def split_message(text: str, limit: int) -> list[str]:
    """Split on line boundaries so each part fits a chat service's message limit."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current.strip():
        parts.append(current)
    return parts or [""]


ChannelFactory = Callable[..., Channel]

#: The word in config → the channel class; unknown words fail at config load.
CHANNELS: dict[str, ChannelFactory] = {
    "webhook": WebhookChannel,
    "email": EmailChannel,
    "apprise": AppriseChannel,
    "file": FileChannel,
}


def make_channel(kind: str, **options: Any) -> Channel:
    try:
        factory = CHANNELS[kind]
    except KeyError:
        raise ValueError(f"unknown alert type {kind!r}; valid: {', '.join(CHANNELS)}") from None
    return factory(**options)
