"""A webhook receiver for the demo and the tests: verifies the signature, keeps every POST."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Receiver:
    def __init__(self, secret: str | None, log_path: Path | None = None, fail_first: int = 0) -> None:
        self.secret = secret
        self.log_path = log_path
        self.fail_first = fail_first
        self.posts: list[dict[str, Any]] = []  # accepted deliveries
        self.attempts: list[dict[str, Any]] = []  # every POST, accepted or not
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                status = receiver.handle(dict(self.headers), raw)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def verified(self, headers: dict[str, str], raw: bytes) -> bool:
        if self.secret is None:
            return True
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("X-Yibao-Signature", ""))

    def handle(self, headers: dict[str, str], raw: bytes) -> int:
        with self.lock:
            entry = {"delivery": headers.get("X-Yibao-Delivery"), "signature_ok": self.verified(headers, raw),
                     "body": json.loads(raw.decode("utf-8"))}
            self.attempts.append(entry)
            if not entry["signature_ok"]:
                return 401
            if len(self.attempts) <= self.fail_first:
                return 503
            self.posts.append(entry)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            return 204
