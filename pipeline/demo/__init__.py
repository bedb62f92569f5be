"""`yibao demo`: the whole pipeline, twice, on a bundled site — baseline, then changes.

The demo site (``site/``) holds pages written for this project in two
versions: v2 changes some figures and only rewords others. The demo serves
v1, runs ``yibao run`` (the baseline: no alerts), switches to v2, runs again
and prints the change events, where they were delivered and the exports.
Each run is a child process, as under cron: Scrapy's reactor runs once per
process.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from .receiver import Receiver
from .server import SiteServer

SECRET_ENV = "YIBAO_DEMO_WEBHOOK_SECRET"


def site_root() -> Path:
    return Path(str(resources.files(__package__).joinpath("site")))


def manifest() -> dict[str, Any]:
    return tomllib.loads((site_root() / "manifest.toml").read_text("utf-8"))


def charsets(man: dict[str, Any]) -> dict[str, str | None]:
    return {p["path"]: (p.get("encoding", "utf-8") if p.get("charset_header", True) else None) for p in man["page"]}


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def demo_config(base: str, db: Path, webhook: str, alerts_file: Path, man: dict[str, Any]) -> str:
    lines = [
        "# Written by `yibao demo`. All pages sit on one local server, so the",
        "# per-host politeness limits are lifted; keep the defaults for real sites.",
        "[database]", f"url = {_toml_str('sqlite:///' + str(db))}", "",
        "[crawl]", "download_delay = 0", "autothrottle = false", "concurrency_per_host = 8", "",
    ]
    for src in man["source"]:
        lines += ["[[source]]", f"id = {_toml_str(src['id'])}", f"url = {_toml_str(base + src['path'])}",
                  f"region = {_toml_str(src['region'])}", f"province = {_toml_str(src['province'])}",
                  f"kind = {_toml_str(src['kind'])}"]
        if src.get("follow"):
            lines.append(f"follow = {_toml_str(src['follow'])}")
        lines.append("")
    lines += ["[[alert]]", 'type = "webhook"', 'name = "demo-webhook"', f"url = {_toml_str(webhook)}",
              f"secret_env = {_toml_str(SECRET_ENV)}", "",
              "[[alert]]", 'type = "file"', 'name = "demo-file"', f"path = {_toml_str(str(alerts_file))}", ""]
    return "\n".join(lines)


def _run(config: Path, env: dict[str, str]) -> int:
    cmd = [sys.executable, "-m", "pipeline.cli", "--config", str(config), "run", "-v"]
    return subprocess.run(cmd, env=env, check=False).returncode


def run_demo(workdir: Path) -> int:
    workdir = workdir.resolve()
    if workdir.exists():
        for name in ("yibao-demo.db", "yibao-demo.db-wal", "yibao-demo.db-shm", "alerts.jsonl", "webhook.jsonl"):
            (workdir / name).unlink(missing_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    man = manifest()
    secret = secrets.token_hex(16)
    server = SiteServer(site_root(), charsets(man)).start()
    receiver = Receiver(secret, workdir / "webhook.jsonl").start()
    db = workdir / "yibao-demo.db"
    config = workdir / "yibao-demo.toml"
    alerts_file = workdir / "alerts.jsonl"
    config.write_text(demo_config(server.base, db, receiver.url, alerts_file, man), encoding="utf-8")
    env = {**os.environ, SECRET_ENV: secret}
    try:
        print(f"demo site: {server.base}  (version v1)")
        code = _run(config, env)
        if code not in (0, 1):
            print(f"the baseline run failed (exit {code})", file=sys.stderr)
            return code
        server.version = "v2"
        print(f"demo site: {server.base}  (switched to version v2: some figures changed, some only reworded)")
        code = _run(config, env)
        if code not in (0, 1):
            print(f"the second run failed (exit {code})", file=sys.stderr)
            return code
    finally:
        server.stop()
        receiver.stop()
    return _report(config, workdir, receiver)


def _report(config: Path, workdir: Path, receiver: Receiver) -> int:
    from ..config import load_config
    from ..export import export_table, frame

    cfg = load_config(config)
    changes = frame(cfg.database.url, "changes")
    print()
    print("change events:")
    if changes.empty:
        print("  (none)")
    for row in changes.itertuples():
        flag = "" if row.alerted else f"   [recorded, not alerted: {row.suppressed}]"
        qual = f"[{row.qualifier}]" if isinstance(row.qualifier, str) and row.qualifier else ""
        year = f" {int(row.year)}" if row.year == row.year and row.year is not None else ""
        print(f"  {row.kind:<10} {row.region} {row.scheme or '-'} {row.metric}{qual}{year}: "
              f"{row.old if row.old is not None else '—'} → {row.new if row.new is not None else '—'}"
              f"  ({row.source}){flag}")
    export_table(cfg.database.url, "changes", workdir / "changes.csv")
    export_table(cfg.database.url, "current", workdir / "current.csv")
    print()
    print(f"database:        {workdir / 'yibao-demo.db'}")
    print(f"config:          {config}")
    print(f"webhook:         {len(receiver.posts)} signed POST(s) received, kept in {workdir / 'webhook.jsonl'}")
    print(f"alerts file:     {workdir / 'alerts.jsonl'}")
    print(f"CSV export:      {workdir / 'changes.csv'}, {workdir / 'current.csv'}")
    print(f"try:             yibao --config {config} history 潍坊市")
    return 0
