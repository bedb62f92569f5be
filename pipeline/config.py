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
    user_agent: str | None = None
    contact: str | None = Field(default=None, description="URL or e-mail put in the User-Agent")
    obey_robots: bool = True
    concurrency_per_host: int = Field(default=2, ge=1, le=64)
    concurrency: int = Field(default=16, ge=1, le=512)
    download_delay: float = Field(default=0.5, ge=0)
    autothrottle: bool = True
    download_timeout: float = Field(default=30, gt=0)
    max_size_mb: float = Field(default=10, gt=0)
    retries: int = Field(default=2, ge=0, le=10)


class DiffConfig(Strict):
    removed_after: int = Field(default=3, ge=1, description="successful fetches without a figure before `removed`")
    flip_versions: int = Field(default=3, ge=0, description="a value seen in the last K versions does not re-alert")
    flip_window_days: float = Field(default=30, ge=0)
    notify_extractor_changes: bool = False


class ScheduleConfig(Strict):
    cron: str = "30 7 * * *"
    timezone: str = "Asia/Shanghai"
    misfire_grace_seconds: int = Field(default=3600, ge=1)


class SourceConfig(Strict):
    id: str
    url: str
    region: str | None = None
    province: str | None = None
    kind: Literal["page", "listing"] = "page"
    follow: str | None = None
    max_articles: int = Field(default=20, ge=1, le=500)
    schedule: str | None = Field(default=None, description="cron expression; the [schedule] default when absent")
    obey_robots: bool | None = None
    download_timeout: float | None = None
    max_size_mb: float | None = None
    retries: int | None = None
    user_agent: str | None = None

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


class Filters(Strict):
    regions: list[str] = []
    provinces: list[str] = []
    schemes: list[Literal["flexible", "resident", "employee"]] = []
    metrics: list[str] = []
    kinds: list[Literal["added", "changed", "new_period", "removed", "conflict"]] = []
    min_change: float = Field(default=0.0, ge=0, description="minimum relative change of a numeric figure (0.05 = 5%)")


class AlertBase(Filters):
    name: str | None = None
    mode: Literal["immediate", "digest"] = "digest"
    health: bool = Field(default=True, description="also send source-health notices")


class WebhookAlert(AlertBase):
    type: Literal["webhook"]
    url: str
    secret_env: str | None = None
    timeout: float = 10.0


class EmailAlert(AlertBase):
    type: Literal["email"]
    smtp: str
    from_: str = Field(alias="from")
    to: list[str]
    password_env: str | None = None


class AppriseAlert(AlertBase):
    type: Literal["apprise"]
    urls: list[str]
    max_chars: int = 3500


class FileAlert(AlertBase):
    type: Literal["file"]
    path: str


AlertConfig = Annotated[Union[WebhookAlert, EmailAlert, AppriseAlert, FileAlert], Field(discriminator="type")]


class Config(Strict):
    database: DatabaseConfig = DatabaseConfig()
    crawl: CrawlConfig = CrawlConfig()
    diff: DiffConfig = DiffConfig()
    schedule: ScheduleConfig = ScheduleConfig()
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
            model = {"webhook": WebhookAlert, "email": EmailAlert, "apprise": AppriseAlert,
                     "file": FileAlert}.get(str(kind))
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
