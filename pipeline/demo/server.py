"""A tiny fixture web server: serves one version of a folder of pages on 127.0.0.1.

It answers the way real bureau sites do where that matters to the crawler:
ETag and Last-Modified with conditional GET (304), a robots.txt, and
Content-Type with or without a charset as the page's entry says.
"""
from __future__ import annotations

import hashlib
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

Route = Callable[[BaseHTTPRequestHandler], bool]


class SiteServer:
    def __init__(self, root: Path, charsets: dict[str, str | None] | None = None) -> None:
        self.root = root
        self.version = "v1"
        self.charsets = charsets or {}  # path → charset to declare in the header, or None for none
        self.requests: list[tuple[str, str, int]] = []
        self.routes: list[Route] = []
        self.modified = {"v1": formatdate(1735689600, usegmt=True), "v2": formatdate(1756684800, usegmt=True)}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                for route in server.routes:
                    if route(self):
                        return
                server.serve(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> SiteServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def serve(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        if path == "/robots.txt":
            self._send(h, 200, b"User-agent: *\nAllow: /\n", "text/plain", None, None)
            return
        file = (self.root / self.version / path.lstrip("/")).resolve()
        if not str(file).startswith(str(self.root.resolve())) or not file.is_file():
            self._send(h, 404, b"<html><body>404 Not Found</body></html>", "text/html; charset=utf-8", None, None)
            return
        body = file.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        modified = self.modified.get(self.version, self.modified["v1"])
        if h.headers.get("If-None-Match") == etag:
            self._send(h, 304, b"", None, etag, modified)
            return
        charset = self.charsets.get(path, "utf-8")
        ctype = "text/html" + (f"; charset={charset}" if charset else "")
        self._send(h, 200, body, ctype, etag, modified)

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str | None, etag: str | None,
              modified: str | None) -> None:
        self.requests.append((h.command, h.path, status))
        h.send_response(status)
        if ctype:
            h.send_header("Content-Type", ctype)
        if etag:
            h.send_header("ETag", etag)
        if modified:
            h.send_header("Last-Modified", modified)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body and h.command != "HEAD":
            h.wfile.write(body)
