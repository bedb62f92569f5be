"""The benchmark's web server: N generated pages on 127.0.0.1, from memory.

* every response is prebuilt bytes (status line, headers, body), so a request
  costs a dict lookup and one ``sendall``; HTTP/1.1 keep-alive; a listen
  backlog of 1024 (socketserver's default of 5 drops connections under load);
* strong ``ETag`` (a hash of the body) and ``Last-Modified`` (per page and
  version); ``If-None-Match`` (which wins when present, RFC 9110) or else
  ``If-Modified-Since`` answer ``304 Not Modified``;
* ``/robots.txt`` allows everything; GBK pages are sent as ``text/html`` with
  no charset (their ``<meta charset="gbk">`` says it), others with
  ``charset=utf-8``;
* control, for the harness, on the same port: ``POST /__bench/versions`` with
  a JSON body ``{"versions": {"17": 1, ...}}`` (or ``{"reset": true}``)
  switches pages to a version (rendered before the answer), ``GET
  /__bench/stats`` returns the status counts since the last ``POST
  /__bench/stats/reset``.

Run it in its own process (``python benchmarks/server.py --n 10000``, or
:class:`ServerProcess`) so it never competes with the client for the GIL; the
in-process :class:`BenchServer` is for the smoke test.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.pages import BenchSite, Page  # noqa: E402

ROBOTS = b"User-agent: *\nAllow: /\n"
NOT_FOUND = b"<html><body>404 Not Found</body></html>"


class Entry:
    __slots__ = ("etag", "last_modified", "modified_ts", "full", "head", "not_modified")

    def __init__(self, body: bytes, content_type: str, modified_ts: int | None, etag: bool = True,
                 status: str = "200 OK") -> None:
        self.etag = ('"' + hashlib.blake2b(body, digest_size=10).hexdigest() + '"') if etag else None
        self.modified_ts = modified_ts
        self.last_modified = formatdate(modified_ts, usegmt=True) if modified_ts is not None else None
        validators = ""
        if self.etag:
            validators += f"ETag: {self.etag}\r\n"
        if self.last_modified:
            validators += f"Last-Modified: {self.last_modified}\r\n"
        head = (f"HTTP/1.1 {status}\r\nServer: yibao-bench\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\n{validators}\r\n").encode("latin-1")
        self.head = head
        self.full = head + body
        self.not_modified = f"HTTP/1.1 304 Not Modified\r\nServer: yibao-bench\r\n{validators}\r\n".encode("latin-1")


class Store:
    """path → prebuilt responses of the current version of every page."""

    def __init__(self, site: BenchSite) -> None:
        self.site = site
        self.versions: dict[int, int] = {}
        self.entries: dict[str, Entry] = {}
        self.index_of: dict[str, int] = {}
        self.counts: Counter[int] = Counter()
        self.lock = threading.Lock()
        self.entries["/robots.txt"] = Entry(ROBOTS, "text/plain", 1735689600)
        for i in range(site.n):
            self._put(site.page(i, 0))

    def _put(self, page: Page) -> None:
        self.entries[page.path] = Entry(page.body, page.content_type, page.last_modified)
        self.index_of[page.path] = page.index
        self.versions[page.index] = page.version

    def set_versions(self, versions: dict[int, int]) -> int:
        pages = [self.site.page(i, v) for i, v in versions.items() if self.versions.get(i) != v]
        with self.lock:
            for page in pages:
                self._put(page)
        return len(pages)

    def reset(self) -> int:
        return self.set_versions({i: 0 for i, v in self.versions.items() if v})

    def count(self, status: int) -> None:
        self.counts[status] += 1  # a lost increment under a thread race is acceptable for a statistic


def _not_modified(entry: Entry, inm: str | None, ims: str | None) -> bool:
    if inm is not None:
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or (entry.etag is not None and entry.etag in tags)
    if ims and entry.modified_ts is not None:
        try:
            since = parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False
        return entry.modified_ts <= since
    return False


def make_handler(store: Store) -> type[BaseHTTPRequestHandler]:
    missing = Entry(NOT_FOUND, "text/html; charset=utf-8", None, etag=False, status="404 Not Found")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            if path.startswith("/__bench/"):
                return self._control(path)
            entry = store.entries.get(path)
            if entry is None:
                store.count(404)
                self.wfile.write(missing.full)
                return
            if _not_modified(entry, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")):
                store.count(304)
                self.wfile.write(entry.not_modified)
                return
            store.count(200)
            self.wfile.write(entry.head if self.command == "HEAD" else entry.full)

        do_HEAD = do_GET

        def do_POST(self) -> None:  # noqa: N802
            self._control(self.path.split("?", 1)[0])

        def _control(self, path: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            data: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}") if length else {}
            if path == "/__bench/versions" and self.command == "POST":
                changed = store.reset() if data.get("reset") else 0
                changed += store.set_versions({int(k): int(v) for k, v in data.get("versions", {}).items()})
                answer: dict[str, Any] = {"changed": changed}
            elif path == "/__bench/stats/reset" and self.command == "POST":
                answer = dict(store.counts)
                store.counts.clear()
            elif path == "/__bench/stats":
                answer = {str(k): v for k, v in store.counts.items()}
            else:
                answer = {"error": "unknown control path"}
            body = json.dumps(answer).encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class AsyncServer:
    """The same answers from one asyncio event loop: no thread per connection, a hand-rolled request parser.

    About three times the throughput of ThreadingHTTPServer when every request opens a new connection
    (as urlwatch's do); the process mode uses it.
    """

    def __init__(self, store: Store, port: int = 0) -> None:
        self.store = store
        self.port = port
        self.missing = Entry(NOT_FOUND, "text/html; charset=utf-8", None, etag=False, status="404 Not Found")

    async def _client(self, reader: Any, writer: Any) -> None:
        store = self.store
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = (lines[0].split(" ") + ["", "", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                path = target.split("?", 1)[0]
                if path.startswith("/__bench/"):
                    writer.write(self._control(method, path, body))
                else:
                    entry = store.entries.get(path)
                    if entry is None:
                        store.count(404)
                        writer.write(self.missing.full)
                    elif _not_modified(entry, headers.get("if-none-match"), headers.get("if-modified-since")):
                        store.count(304)
                        writer.write(entry.not_modified)
                    else:
                        store.count(200)
                        writer.write(entry.head if method == "HEAD" else entry.full)
                conn = headers.get("connection", "").lower()
                if conn == "close" or (version == "HTTP/1.0" and conn != "keep-alive"):
                    await writer.drain()
                    return
                if writer.transport.get_write_buffer_size() > 1 << 20:
                    await writer.drain()
        finally:
            writer.close()

    def _control(self, method: str, path: str, raw: bytes) -> bytes:
        store = self.store
        data: dict[str, Any] = json.loads(raw or b"{}")
        if path == "/__bench/versions" and method == "POST":
            changed = store.reset() if data.get("reset") else 0
            changed += store.set_versions({int(k): int(v) for k, v in data.get("versions", {}).items()})
            answer: dict[str, Any] = {"changed": changed}
        elif path == "/__bench/stats/reset" and method == "POST":
            answer = {str(k): v for k, v in store.counts.items()}
            store.counts.clear()
        elif path == "/__bench/stats":
            answer = {str(k): v for k, v in store.counts.items()}
        else:
            answer = {"error": "unknown control path"}
        body = json.dumps(answer).encode()
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
                + b"\r\n\r\n" + body)

    def serve_forever(self, ready: Any = None) -> None:
        async def run() -> None:
            server = await asyncio.start_server(self._client, "127.0.0.1", self.port, backlog=1024)
            self.port = server.sockets[0].getsockname()[1]
            if ready:
                ready(self.port)
            async with server:
                await server.serve_forever()

        asyncio.run(run())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True


class BenchServer:
    """In-process server (a thread); use :class:`ServerProcess` for timing runs."""

    def __init__(self, site: BenchSite, port: int = 0) -> None:
        self.store = Store(site)
        self.httpd = _Server(("127.0.0.1", port), make_handler(self.store))
        self.httpd.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BenchServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Control:
    """The harness's side of the control paths."""

    base: str

    def _call(self, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        req = urllib.request.Request(self.base + path, data=json.dumps(data).encode() if data is not None else None,
                                     method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=600) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def set_versions(self, versions: dict[int, int], reset: bool = False) -> int:
        return int(self._call("/__bench/versions", {"versions": {str(k): v for k, v in versions.items()},
                                                     "reset": reset})["changed"])

    def stats(self, reset: bool = False) -> dict[str, int]:
        got = self._call("/__bench/stats/reset", {}) if reset else self._call("/__bench/stats")
        return {str(k): int(v) for k, v in got.items()}


class ServerProcess(Control):
    """``python benchmarks/server.py`` in a child process; ``with ServerProcess(n) as srv: srv.base``."""

    def __init__(self, n: int, seed: int = 9, python: str = sys.executable, threaded: bool = False) -> None:
        self.n, self.seed, self.python, self.threaded = n, seed, python, threaded
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def base(self) -> str:  # type: ignore[override]
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        self.proc = subprocess.Popen([self.python, str(Path(__file__).resolve()), "--n", str(self.n), "--seed",
                                      str(self.seed), *(["--threaded"] if self.threaded else [])],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class InProcessControl(Control):
    def __init__(self, server: BenchServer) -> None:
        self.base = server.base


# --------------------------------------------------------------------------- load test


def load_test(base: str, paths: list[str], concurrency: int = 16, conditional: bool = False,
              seconds: float = 5.0) -> dict[str, float]:
    """Keep-alive GETs from `concurrency` threads for a bounded time (in this process: run it in its own)."""
    import http.client

    stop_at = time.monotonic() + seconds
    done = Counter[str]()
    etags: dict[str, str] = {}
    host, port = base.split("//", 1)[1].split(":")

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        n = 0
        j = k
        while time.monotonic() < stop_at:
            path = paths[j % len(paths)]
            j += concurrency
            headers = {"If-None-Match": etags[path]} if conditional and path in etags else {}
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                etags[path] = resp.getheader("ETag") or ""
            n += 1
        done[str(k)] = n
        conn.close()

    if conditional:  # learn the validators first
        conn = http.client.HTTPConnection(host, int(port))
        for path in paths:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            etags[path] = resp.getheader("ETag") or ""
        conn.close()
    t0 = time.perf_counter()
    cpu0 = os.times()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    total = sum(done.values())
    return {"requests": total, "seconds": wall, "rps": total / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description="Serve N generated benchmark pages on 127.0.0.1.")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--load-test", action="store_true", help="serve in a child, run a 5 s keep-alive load test, "
                                                             "print requests per second and exit")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--threaded", action="store_true", help="ThreadingHTTPServer instead of the asyncio server")
    args = ap.parse_args()
    if args.load_test:
        site = BenchSite(args.n, args.seed)
        paths = [s.path for s in site.specs]
        with ServerProcess(args.n, args.seed) as srv:
            for conditional in (False, True):
                r = load_test(srv.base, paths, args.concurrency, conditional)
                print(f"{'304' if conditional else '200'}: {r['rps']:.0f} requests/s "
                      f"({r['requests']:.0f} in {r['seconds']:.1f} s, {args.concurrency} keep-alive connections)")
        return
    site = BenchSite(args.n, args.seed)
    try:
        if args.threaded:
            server = BenchServer(site, args.port)
            print(f"PORT {server.port}", flush=True)
            server.httpd.serve_forever()
        else:
            AsyncServer(Store(site), args.port).serve_forever(lambda port: print(f"PORT {port}", flush=True))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
