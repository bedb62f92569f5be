"""One crawl as a child process: a JSON job on stdin, one JSON line per fetch on stdout.

``python -m crawler < job.json`` — Scrapy's reactor runs once per process,
so whatever needs several crawls (the tests, a supervisor) runs each in its
own ``python -m crawler``. The job::

    {"sources": [{"id": "…", "url": "…", "kind": "listing", "follow": "医保", "max_articles": 20,
                  "settings": {"download_timeout": 5}}],
     "validators": {"URL": {"etag": "…", "last_modified": "…"}},
     "known_urls": {"SOURCE_ID": ["URL", …]},
     "settings": {"DOWNLOAD_DELAY": 0},     # Scrapy settings over polite_settings()
     "contact": "https://example.org/contact",
     "bodies": true}                          # include each body, base64

Each output line is a FetchResult's fields (``body_b64`` instead of
``body``, ``body_sha256`` and ``size`` always); the last line is
``{"done": true, "stats": {...}}``.
"""
from __future__ import annotations

import base64
import hashlib
import json
import sys
from dataclasses import asdict
from typing import Any, TextIO

from .model import CrawlSource, FetchResult, Validators
from .runner import crawl, polite_settings


def result_json(result: FetchResult, bodies: bool) -> dict[str, Any]:
    row = asdict(result)
    body = row.pop("body")
    row["fetched_at"] = result.fetched_at.isoformat() if result.fetched_at else None
    row["size"] = len(body) if body is not None else None
    row["body_sha256"] = hashlib.sha256(body).hexdigest() if body is not None else None
    if bodies and body is not None:
        row["body_b64"] = base64.b64encode(body).decode("ascii")
    return row


def run_job(job: dict[str, Any], out: TextIO) -> int:
    sources = [CrawlSource(s["id"], s["url"], s.get("kind", "page"), s.get("follow"), s.get("max_articles", 20),
                           dict(s.get("settings", {}))) for s in job["sources"]]
    validators = {url: Validators(v.get("etag"), v.get("last_modified")) for url, v in job.get("validators", {}).items()}
    settings = polite_settings(job.get("user_agent"), job.get("contact"), **job.get("settings", {}))
    bodies = bool(job.get("bodies", False))

    def emit(result: FetchResult) -> None:
        out.write(json.dumps(result_json(result, bodies), ensure_ascii=False) + "\n")
        out.flush()

    outcome = crawl(sources, validators, emit, settings, job.get("known_urls"))
    stats = {k: v for k, v in outcome.stats.items() if isinstance(v, (int, float, str))}
    out.write(json.dumps({"done": True, "close_reason": outcome.close_reason, "stats": stats}) + "\n")
    return 0 if outcome.callback_error is None else 2


def main() -> None:
    sys.exit(run_job(json.load(sys.stdin), sys.stdout))
