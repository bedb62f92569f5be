"""The one TOML file that configures a deployment (``--config PATH`` or ``YIBAO_CONFIG``).

Secrets never live in it: ``secret_env`` / ``password_env`` name environment
variables. Unknown keys, types and kinds fail at load with a message naming
the file, the key and the valid choices.
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from extractors.vocab import METRICS
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CONFIG_NAMES = ("yibao.toml",)


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and what to write instead."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DatabaseConfig(Strict):
    url: str = "sqlite:///yibao.db"
    auto_upgrade: bool = True


class CrawlConfig(Strict):
    """[crawl]: the polite defaults for every source; each [[source]] may override most of them."""

    user_agent: str | None = Field(default=None, description="User-Agent; default yibao-watch/VERSION (+project URL)")
    contact: str | None = Field(default=None, description="URL or e-mail a web team can reach you at, put in the "
                                                          "User-Agent (e.g. https://example.org/yibao-contact)")
    obey_robots: bool = Field(default=True, description="obey robots.txt")
    concurrency_per_host: int = Field(default=2, ge=1, le=64, description="requests in flight per host at most")
    concurrency: int = Field(default=16, ge=1, le=512, description="requests in flight in all at most")
    download_delay: float = Field(default=0.5, ge=0, description="seconds between requests to one host, at least")
    autothrottle: bool = Field(default=True, description="lengthen the delay when a host answers slowly")
    cookies: bool = Field(default=False, description="keep cookies (one jar per source); off: none sent or kept")
    download_timeout: float = Field(default=30, gt=0, description="seconds before a request is given up")
    max_size_mb: float = Field(default=4, gt=0, description="responses larger than this fail (the largest bureau "
                                                            "page in the corpus is ~0.1 MB)")
    retries: int = Field(default=2, ge=0, le=10, description="retries after a 5xx, 408, 429 or a timeout")

    def scrapy_overrides(self) -> dict[str, Any]:
        """These values as Scrapy settings, over ``crawler.polite_settings()``."""
        return {"ROBOTSTXT_OBEY": self.obey_robots, "CONCURRENT_REQUESTS_PER_DOMAIN": self.concurrency_per_host,
                "CONCURRENT_REQUESTS": self.concurrency, "DOWNLOAD_DELAY": self.download_delay,
                "AUTOTHROTTLE_ENABLED": self.autothrottle, "COOKIES_ENABLED": self.cookies,
                "DOWNLOAD_TIMEOUT": self.download_timeout, "DOWNLOAD_MAXSIZE": int(self.max_size_mb * 1024 * 1024),
                "RETRY_TIMES": self.retries}


class DiffConfig(Strict):
    removed_after: int = Field(default=3, ge=1, description="successful fetches without a figure before `removed`")
    flip_versions: int = Field(default=3, ge=0, description="a value seen in the last K versions does not re-alert")
    flip_window_days: float = Field(default=30, ge=0)
    notify_extractor_changes: bool = False


def _check_cron(value: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a cron expression (minute hour day month weekday, e.g. "
                         f"\"30 7 * * *\"): {exc}") from None
    return value


class ScheduleConfig(Strict):
    """[schedule]: when `yibao run --due` and the `yibao schedule` daemon fetch a source without its own."""

    cron: str = Field(default="30 7 * * *", description="minute hour day month weekday; default daily at 07:30")
    timezone: str = Field(default="Asia/Shanghai", description="the zone the cron expressions are read in")
    misfire_grace_seconds: int = Field(default=3600, ge=1, description="a tick missed (daemon down, busy) by no "
                                                                       "more than this still runs, once")
    max_run_seconds: int = Field(default=3 * 3600, ge=60, description="the daemon stops a run that takes longer")
    shutdown_grace_seconds: int = Field(default=60, ge=1, description="on SIGTERM, how long the daemon lets a "
                                                                      "running run finish before killing it")

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return _check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from None
        return value


class SourceConfig(Strict):
    id: str
    url: str
    region: str | None = None
    province: str | None = None
    kind: Literal["page", "listing"] = "page"
    follow: str | None = None
    max_articles: int = Field(default=20, ge=1, le=500)
    schedule: str | None = Field(default=None, description="cron expression; the [schedule] default when absent")
    revisit_articles: bool = Field(default=True, description="listing: re-request (conditionally) the articles "
                                                             "already seen; false fetches only new links")
    # Per-source overrides of [crawl]; absent = the [crawl] value.
    obey_robots: bool | None = Field(default=None, description="override [crawl] obey_robots")
    download_timeout: float | None = Field(default=None, gt=0, description="override [crawl] download_timeout")
    max_size_mb: float | None = Field(default=None, gt=0, description="override [crawl] max_size_mb")
    retries: int | None = Field(default=None, ge=0, le=10, description="override [crawl] retries")
    user_agent: str | None = Field(default=None, description="override the User-Agent for this source")
    cookies: bool | None = Field(default=None, description="override [crawl] cookies")
    autothrottle: bool | None = Field(default=None, description="override [crawl] autothrottle for this host")
    concurrency_per_host: int | None = Field(default=None, ge=1, le=64,
                                             description="override [crawl] concurrency_per_host for this host")
    download_delay: float | None = Field(default=None, ge=0, description="override [crawl] download_delay for "
                                                                         "this host")

    def crawl_overrides(self) -> dict[str, Any]:
        """The overrides set here, in the crawler's vocabulary (``crawler.SOURCE_SETTINGS``)."""
        values: dict[str, Any] = {
            "obey_robots": self.obey_robots, "download_timeout": self.download_timeout,
            "download_maxsize": int(self.max_size_mb * 1024 * 1024) if self.max_size_mb is not None else None,
            "retries": self.retries, "user_agent": self.user_agent, "cookies": self.cookies,
            "autothrottle": self.autothrottle, "concurrency_per_host": self.concurrency_per_host,
            "download_delay": self.download_delay,
            "revisit_articles": None if self.revisit_articles else False,
        }
        return {k: v for k, v in values.items() if v is not None}

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return _check_cron(value) if value is not None else None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}", value):
            raise ValueError("use letters, digits, '-', '_' or '.' (e.g. weifang-bendibao-flexible)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"https?://", value):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("follow")
    @classmethod
    def _follow(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"is not a valid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _listing(self) -> SourceConfig:
        if self.kind == "page" and self.follow:
            raise ValueError("`follow` only applies to kind = \"listing\"")
        return self


class AlertsConfig(Strict):
    """[alerts]: how the outbox retries, and when a failing source raises a notice."""

    retry_base_seconds: float = Field(default=60, ge=0, description="the first retry waits this long; each next "
                                                                   "one twice as long")
    retry_max_seconds: float = Field(default=6 * 3600, ge=0, description="the longest wait between two attempts")
    max_attempts: int = Field(default=30, ge=1, description="after this many failed attempts a delivery is "
                                                           "marked failed")
    health_failures: int = Field(default=3, ge=1, description="a source failing this many runs in a row raises one "
                                                             "notice (and one more when it recovers)")


class Filters(Strict):
    """Per-channel routing: an event reaches a channel only when it passes every filter set."""

    regions: list[str] = Field(default=[], description="full names, e.g. 潍坊市")
    provinces: list[str] = Field(default=[], description="full names, e.g. 山东省")
    schemes: list[Literal["flexible", "resident", "employee"]] = []
    metrics: list[Literal[METRICS]] = []  # type: ignore[valid-type]
    kinds: list[Literal["added", "changed", "new_period", "removed", "conflict"]] = []
    min_change: float = Field(default=0.0, ge=0, description="minimum relative change of a numeric figure (0.05 = 5%)")


class AlertBase(Filters):
    name: str | None = Field(default=None, description="the channel's name in `yibao alerts …`; TYPE-N by default")
    mode: Literal["immediate", "digest"] = Field(default="digest", description="digest: one message per run; "
                                                                               "immediate: one per event")
    health: bool = Field(default=True, description="also send source-health notices")


class WebhookAlert(AlertBase):
    type: Literal["webhook"]
    url: str
    secret_env: str | None = Field(default=None, description="env var holding the HMAC-SHA256 key")
    timeout: float = Field(default=10.0, gt=0)


class EmailAlert(AlertBase):
    type: Literal["email"]
    smtp: str = Field(description="smtp://[user@]host:port[?starttls=true] or smtps://…")
    from_: str = Field(alias="from")
    to: list[str]
    password_env: str | None = Field(default=None, description="env var holding the SMTP password")
    ca_file: str | None = Field(default=None, description="PEM file of the CA that signed the server's "
                                                          "certificate, for a private mail server")
    timeout: float = Field(default=20.0, gt=0)


class AppriseAlert(AlertBase):
    type: Literal["apprise"]
    urls: list[str] = Field(description="Apprise URLs: dingtalk://…, wecombot://…, feishu://…, …")
    max_chars: int | None = Field(default=None, ge=200, description="split longer messages; default: the "
                                                                   "service's own limit")


class FileAlert(AlertBase):
    type: Literal["file"]
    path: str


AlertConfig = Annotated[Union[WebhookAlert, EmailAlert, AppriseAlert, FileAlert], Field(discriminator="type")]


class Config(Strict):
    database: DatabaseConfig = DatabaseConfig()
    crawl: CrawlConfig = CrawlConfig()
    diff: DiffConfig = DiffConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    alerts: AlertsConfig = AlertsConfig()
    source: list[SourceConfig] = []
    alert: list[AlertConfig] = []
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _unique(self) -> Config:
        ids = [s.id for s in self.source]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"source ids must be unique; repeated: {', '.join(dup)}")
        names = [channel_name(a, i) for i, a in enumerate(self.alert)]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"alert names must be unique; give each [[alert]] a distinct name: {', '.join(dup)}")
        return self

    def source_by_id(self, source_id: str) -> SourceConfig | None:
        index = self.__dict__.get("_index")
        if index is None or len(index) != len(self.source):
            index = {s.id: s for s in self.source}
            self.__dict__["_index"] = index
        return index.get(source_id)

    def channels(self) -> dict[str, AlertBase]:
        return {channel_name(a, i): a for i, a in enumerate(self.alert)}


def channel_name(alert: AlertBase, index: int) -> str:
    return alert.name or f"{getattr(alert, 'type')}-{index + 1}"


def _where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """[[source]] #2 (id = "x") key 'folow' — a location a user can find in the file."""
    parts: list[str] = []
    node: Any = data
    i = 0
    while i < len(loc):
        key = loc[i]
        if isinstance(key, str) and isinstance(node, dict) and key in ("source", "alert") and i + 1 < len(loc) \
                and isinstance(loc[i + 1], int):
            idx = loc[i + 1]
            item = node.get(key, [])[idx] if idx < len(node.get(key, [])) else {}
            label = f' (id = "{item.get("id")}")' if isinstance(item, dict) and item.get("id") else ""
            if key == "alert" and isinstance(item, dict) and item.get("type"):
                label = f' (type = "{item.get("type")}")'
            parts.append(f"[[{key}]] #{idx + 1}{label}")
            node = item
            i += 2
            if i < len(loc) and loc[i] in ("webhook", "email", "apprise", "file"):
                i += 1
            continue
        if isinstance(node, dict) and isinstance(key, str):
            parts.append(f"[{key}]" if isinstance(node.get(key), dict) else f"key '{key}'")
            node = node.get(key, {})
        else:
            parts.append(f"item {key}")
        i += 1
    return " ".join(parts) or "top level"


def _explain(exc: ValidationError, data: dict[str, Any], path: str) -> str:
    lines = []
    for err in exc.errors():
        where = _where(tuple(err["loc"]), data)
        kind = err["type"]
        if kind == "extra_forbidden":
            model_fields = _fields_for(tuple(err["loc"][:-1]), data)
            msg = f"unknown key; valid keys: {', '.join(model_fields)}" if model_fields else "unknown key"
        elif kind == "union_tag_invalid":
            msg = f"unknown alert type {err.get('input', {}).get('type')!r}; valid: webhook, email, apprise, file" \
                if isinstance(err.get("input"), dict) else err["msg"]
        elif kind == "union_tag_not_found":
            msg = "missing `type`; valid: webhook, email, apprise, file"
        elif kind == "literal_error":
            msg = f"got {err.get('input')!r}; valid: {err['ctx']['expected']}"
        elif kind == "missing":
            msg = "is required"
        else:
            msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {where}: {msg}")
    return "\n".join(lines)


def _fields_for(loc: tuple[Any, ...], data: dict[str, Any]) -> list[str]:
    model: type[BaseModel] | None = Config
    i = 0
    while model is not None and i < len(loc):
        key = loc[i]
        field = model.model_fields.get(key) if isinstance(key, str) else None
        if key == "source":
            model, i = SourceConfig, i + 2
            continue
        if key == "alert":
            kind = loc[i + 2] if i + 2 < len(loc) else None
            alerts: dict[str, type[BaseModel]] = {"webhook": WebhookAlert, "email": EmailAlert,
                                                  "apprise": AppriseAlert, "file": FileAlert}
            model = alerts.get(str(kind))
            i += 3
            continue
        if field is None:
            return []
        ann = field.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        i += 1
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items() if name != "path"]


def parse_config(data: dict[str, Any], path: str = "<config>") -> Config:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, data, path)) from None
    config.path = Path(path) if path != "<config>" else None
    return config


def config_path(explicit: str | None) -> Path | None:
    """--config, then $YIBAO_CONFIG, then ./yibao.toml; None when there is none."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("YIBAO_CONFIG")
    if env:
        return Path(env)
    for name in DEFAULT_CONFIG_NAMES:
        if Path(name).exists():
            return Path(name)
    return None


def load_config(path: str | Path | None) -> Config:
    if path is None:
        return Config()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file; create it (see sources.example.toml) or pass --config") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text; save the file as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    config = parse_config(data, str(p))
    url = config.database.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        # a relative SQLite path is relative to the config file, not the cwd of cron
        rel = url.removeprefix("sqlite:///")
        config.database.url = "sqlite:///" + str((p.parent / rel).resolve())
    return config
