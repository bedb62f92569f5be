"""The crawler against a real HTTP server on 127.0.0.1, one crawl per child process.

Scrapy's reactor cannot restart, so each crawl is ``python -m crawler`` with
a JSON job on stdin and one JSON line per fetch on stdout — the same module
a supervisor would use. Two crawls are shared by most tests: the first on an
empty memory, the rerun with the validators and article URLs the first one
produced, against a site where only one listing gained an article.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from crawler import CrawlSource, agent_string, polite_settings, resolve_sources

ROOT = Path(__file__).resolve().parent.parent
CONTACT = "https://example.org/yibao-contact"
MODIFIED = formatdate(1735689600, usegmt=True)
BIG = 5 * 1024 * 1024
#: fast but still polite: AutoThrottle stays on, 2 per host stays; only the delays and timeouts shrink
TEST_SETTINGS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0, "AUTOTHROTTLE_MAX_DELAY": 0.2,
                 "DOWNLOAD_TIMEOUT": 0.6}

Handler = Callable[[BaseHTTPRequestHandler], None]


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:12] + '"'


class Site:
    """A threaded fixture server: routes by path, a log of every request with its headers and timing."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.log: list[dict[str, Any]] = []
        self.hits: Counter[str] = Counter()
        self.inflight = 0
        self.max_inflight = 0
        self.lock = threading.Lock()
        site = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                with site.lock:
                    site.hits[path] += 1
                    site.log.append({"path": path, "host": self.headers.get("Host"), "headers": dict(self.headers)})
                site.routes.get(path, site.not_found)(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out or refused a big body hung up: expected here

        self.httpd = Server(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @staticmethod
    def send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", ctype: str | None = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None, length: bool = True) -> None:
        h.send_response(status)
        if ctype:
            h.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if length:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body:
            h.wfile.write(body)

    def not_found(self, h: BaseHTTPRequestHandler) -> None:
        self.send(h, 404, b"<html><body>404 Not Found</body></html>")

    def page(self, path: str, body: bytes, ctype: str = "text/html; charset=utf-8", etag: bool = True,
             last_modified: bool = True, delay: float = 0.0) -> None:
        """A static page with validators that answers a matching conditional GET with 304.

        In-flight requests are counted for the pages that answer well within the
        timeout: a timed-out client is gone while the server thread still sleeps.
        """
        track = delay < 0.3

        def serve(h: BaseHTTPRequestHandler) -> None:
            with self.lock:
                self.inflight += track
                self.max_inflight = max(self.max_inflight, self.inflight)
            try:
                time.sleep(delay)
                tag = _etag(body)
                headers = {**({"ETag": tag} if etag else {}), **({"Last-Modified": MODIFIED} if last_modified else {})}
                fresh = (etag and h.headers.get("If-None-Match") == tag) or (
                    not etag and last_modified and h.headers.get("If-Modified-Since") == MODIFIED)
                if fresh:
                    self.send(h, 304, b"", None, headers)
                else:
                    self.send(h, 200, body, ctype, headers)
            finally:
                with self.lock:
                    self.inflight -= track

        self.routes[path] = serve

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def listing_html(links: list[tuple[str, str]], charset_meta: str | None = None) -> str:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    items = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return f"<html><head>{meta}<title>通知公告</title></head><body><ul>{items}</ul></body></html>"


MATCHING = (2, 7, 11, 19, 25)  # positions (0 = newest) of the 5 articles of 30 about 医保


def build_site(site: Site) -> None:
    site.routes["/robots.txt"] = lambda h: site.send(h, 200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
    # a listing of 30 articles, newest first, 5 about 医保 (by link text), plus links that must not be followed
    links = [(f"/news/a{i:02d}.html", f"医保缴费通知（第{i}号）" if i in MATCHING else f"就业培训公告（第{i}号）")
             for i in range(30)]
    links.insert(0, ("/news/", "医保专栏首页"))  # the listing itself
    links.insert(3, (site.url("/news/offsite.html", "localhost"), "医保（另一个站点）"))  # another host
    links.insert(9, ("/news/a02.html#comments", "医保缴费通知（评论）"))  # the same article again
    site.page("/news/", listing_html(links).encode("utf-8"), delay=0.05)
    for i in range(30):
        site.page(f"/news/a{i:02d}.html", f"<html><body><p>第{i}号 基数上限为22080元</p></body></html>".encode(),
                  delay=0.2)
    # a GBK listing that declares its charset nowhere: neither header nor <meta>
    gbk_links = [("/gbk-news/1.html", "城乡居民医保集中征缴的通知"), ("/gbk-news/2.html", "职业技能培训补贴"),
                 ("/gbk-news/3.html", "灵活就业人员医保缴费基数"), ("/gbk-news/4.html", "失业保险金标准")]
    site.page("/gbk-news/", listing_html(gbk_links).encode("gbk"), "text/html")
    for i in range(1, 5):
        site.page(f"/gbk-news/{i}.html", f"<html><body>第{i}篇 医疗保险</body></html>".encode("gbk"), "text/html")
    # the listing that gains an article between the two crawls (see test_rerun_*)
    site.news2 = [("/news2/b1.html", "医保缴费基数调整"), ("/news2/b0.html", "医保待遇享受")]  # type: ignore[attr-defined]
    site.routes["/news2/"] = lambda h: site.routes["/news2/@"](h)
    site.page("/news2/@", listing_html(site.news2).encode())  # type: ignore[attr-defined]
    for name in ("b0", "b1", "b2"):
        site.page(f"/news2/{name}.html", f"<html><body>{name} 医保</body></html>".encode())
    # validators: ETag only, Last-Modified only, none
    site.page("/etag.html", "<html><body>ETag 页 缴费比例为10%</body></html>".encode(), last_modified=False)
    site.page("/lm.html", "<html><body>Last-Modified 页</body></html>".encode(), etag=False)
    gbk = "<html><body><p>潍坊市灵活就业人员医保缴费基数上限为22080元</p></body></html>".encode("gbk")
    site.page("/gbk-header.html", gbk, "text/html; charset=gbk", etag=False, last_modified=False)
    site.page("/gbk-bare.html", gbk, "text/html", etag=False, last_modified=False)
    # slow: always past the timeout; patient: slow but within its source's longer timeout
    site.page("/slow.html", b"<html>slow</html>", delay=2.0, etag=False, last_modified=False)
    site.page("/patient.html", b"<html>patient</html>", delay=0.9, etag=False, last_modified=False)

    def flaky(h: BaseHTTPRequestHandler) -> None:
        if site.hits["/flaky.html"] == 1:
            site.send(h, 500, b"<html>Internal Server Error</html>")
        else:
            site.send(h, 200, "<html><body>恢复了</body></html>".encode())

    site.routes["/flaky.html"] = flaky
    site.routes["/moved.html"] = lambda h: site.send(h, 302, b"", None, {"Location": site.url("/elsewhere.html",
                                                                                              "localhost")})
    site.routes["/moved-here.html"] = lambda h: site.send(h, 301, b"", None, {"Location": "/landing.html"})
    site.page("/landing.html", b"<html><body>landing</body></html>", last_modified=False)
    big = b"<html><body>" + b"x" * BIG + b"</body></html>"
    site.routes["/big.html"] = lambda h: site.send(h, 200, big)
    site.routes["/big-stream.html"] = lambda h: site.send(h, 200, big, length=False)  # HTTP/1.0, ends at close
    site.routes["/removed.html"] = lambda h: site.send(h, 410, b"<html>Gone</html>")
    site.page("/private/page.html", b"<html>private</html>", etag=False, last_modified=False)
    site.page("/ua.html", b"<html>ua</html>", etag=False, last_modified=False)
    for name in ("on", "off"):
        site.routes[f"/setcookie/{name}.html"] = (lambda n: lambda h: site.send(
            h, 302, b"", None, {"Set-Cookie": f"sid={n}; Path=/", "Location": f"/checkcookie/{n}.html"}))(name)
        site.page(f"/checkcookie/{name}.html", b"<html>cookie</html>", etag=False, last_modified=False)


def sources(site: Site) -> list[dict[str, Any]]:
    u = site.url
    return [
        {"id": "news", "url": u("/news/"), "kind": "listing", "follow": "医保"},
        {"id": "news-top3", "url": u("/news/"), "kind": "listing", "follow": "医保", "max_articles": 3},
        {"id": "gbk-news", "url": u("/gbk-news/"), "kind": "listing", "follow": "医保"},
        {"id": "news2", "url": u("/news2/"), "kind": "listing", "follow": "医保",
         "settings": {"revisit_articles": False}},
        {"id": "etag", "url": u("/etag.html")},
        {"id": "lm", "url": u("/lm.html")},
        {"id": "gbk-header", "url": u("/gbk-header.html")},
        {"id": "gbk-bare", "url": u("/gbk-bare.html")},
        {"id": "slow", "url": u("/slow.html")},
        {"id": "patient", "url": u("/patient.html"), "settings": {"download_timeout": 3, "retries": 0}},
        {"id": "flaky", "url": u("/flaky.html")},
        {"id": "moved", "url": u("/moved.html")},
        {"id": "moved-here", "url": u("/moved-here.html")},
        {"id": "big", "url": u("/big.html")},
        {"id": "big-stream", "url": u("/big-stream.html")},
        {"id": "big-allowed", "url": u("/big.html"), "settings": {"download_maxsize": 8 * 1024 * 1024}},
        {"id": "gone", "url": u("/gone.html")},
        {"id": "removed", "url": u("/removed.html")},
        {"id": "private", "url": u("/private/page.html")},
        {"id": "private-allowed", "url": u("/private/page.html"), "settings": {"obey_robots": False}},
        {"id": "custom-ua", "url": u("/ua.html"), "settings": {"user_agent": "TestAgent/1.0 (+mailto:t@example.org)"}},
        {"id": "cookies-on", "url": u("/setcookie/on.html"), "settings": {"cookies": True}},
        {"id": "cookies-off", "url": u("/setcookie/off.html")},
    ]


def run_crawl(job: dict[str, Any], timeout: float = 60, env: dict[str, str] | None = None
              ) -> tuple[list[dict[str, Any]], dict[str, Any], float]:
    """One crawl in a child process: (fetch rows, final stats line, seconds)."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "crawler"], input=json.dumps(job), capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})})
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert rows and rows[-1].get("done"), done.stdout[-2000:] + done.stderr[-2000:]
    return rows[:-1], rows[-1], elapsed


def by_source(rows: list[dict[str, Any]], source_id: str, role: str | None = None) -> list[dict[str, Any]]:
    return sorted((r for r in rows if r["source_id"] == source_id and (role is None or r["role"] == role)),
                  key=lambda r: (r["role"] != "listing", r["rank"]))


def one(rows: list[dict[str, Any]], source_id: str) -> dict[str, Any]:
    mine = by_source(rows, source_id)
    assert len(mine) == 1, mine
    return mine[0]


def memory_of(rows: list[dict[str, Any]]) -> tuple[dict[str, dict[str, str | None]], dict[str, list[str]]]:
    """What the pipeline would remember from a crawl: validators per URL, article URLs per source newest first."""
    validators = {r["url"]: {"etag": r["etag"], "last_modified": r["last_modified"]} for r in rows
                  if r["outcome"] == "ok" and (r["etag"] or r["last_modified"])}
    known: dict[str, list[str]] = {}
    for r in sorted(rows, key=lambda r: r["rank"]):
        if r["role"] == "article" and r["outcome"] in ("ok", "not_modified"):
            known.setdefault(r["source_id"], []).append(r["url"])
    return validators, known


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    site = Site()
    build_site(site)
    job = {"sources": sources(site), "settings": TEST_SETTINGS, "contact": CONTACT, "bodies": True}
    state = tmp_path_factory.mktemp("xdg-state")  # where Scrapy's RemoteControl would write its job file
    first, first_stats, first_s = run_crawl(job, env={"XDG_STATE_HOME": str(state)})
    first_log, first_hits = list(site.log), Counter(site.hits)
    first_max_inflight = site.max_inflight
    validators, known = memory_of(first)
    # between the crawls: news2 gains a newer article; nothing else changes
    site.news2.insert(0, ("/news2/b2.html", "医保新公告"))  # type: ignore[attr-defined]
    site.page("/news2/@", listing_html(site.news2).encode())  # type: ignore[attr-defined]
    site.log.clear()
    site.hits.clear()
    rerun_sources = [s for s in sources(site) if s["id"] in RERUN]
    second, second_stats, second_s = run_crawl({**job, "sources": rerun_sources, "validators": validators,
                                                "known_urls": known, "bodies": False})
    yield {"site": site, "state": state, "first": first, "first_stats": first_stats, "first_s": first_s, "first_log": first_log,
           "first_hits": first_hits, "first_max_inflight": first_max_inflight, "validators": validators,
           "known": known, "second": second, "second_stats": second_stats, "second_s": second_s,
           "second_log": list(site.log), "second_hits": Counter(site.hits)}
    site.stop()


RERUN = ("news", "gbk-news", "news2", "etag", "lm", "gbk-header", "gbk-bare", "moved-here")

# ---------------------------------------------------------------------------------------------- settings


def test_polite_defaults():
    s = polite_settings(contact=CONTACT)
    assert s["ROBOTSTXT_OBEY"] is True and s["AUTOTHROTTLE_ENABLED"] is True
    assert s["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2 and s["COOKIES_ENABLED"] is False
    assert 0 < s["DOWNLOAD_MAXSIZE"] < BIG, "a 5 MB page must exceed the default size limit"
    assert s["DOWNLOAD_TIMEOUT"] == 30 and s["RETRY_TIMES"] == 2 and {500, 502, 503, 504} <= set(s["RETRY_HTTP_CODES"])
    assert s["REDIRECT_ENABLED"] is False and s["METAREFRESH_ENABLED"] is False, "redirects go through the spider"
    assert s["USER_AGENT"].startswith("yibao-watch/") and CONTACT in s["USER_AGENT"]
    assert s["WARN_ON_GENERATOR_RETURN_VALUE"] is False, "Scrapy would re-parse the callback's source per request"
    assert agent_string("bot/1", "mailto:a@b.c") == "bot/1 (+mailto:a@b.c)"


def test_a_crawl_opens_no_remote_control_server(crawls):
    """Scrapy ≥ 2.19 starts, by default, an HTTP server that runs Python code sent to it, and writes its
    port and token to the user's state directory: a cron job on a shared server must not."""
    written = [str(p.relative_to(crawls["state"])) for p in crawls["state"].rglob("*")]
    assert written == [], f"the crawl wrote {written}"
    assert polite_settings().get("REMOTE_CONTROL_ENABLED") is False


def test_per_source_switches_resolve_to_crawl_settings():
    base = polite_settings(COOKIES_ENABLED=False, ROBOTSTXT_OBEY=True, AUTOTHROTTLE_ENABLED=True)
    srcs = [CrawlSource("a", "http://a.example/x", settings={"cookies": True, "concurrency_per_host": 1}),
            CrawlSource("b", "http://a.example/y", settings={"obey_robots": False, "download_delay": 3,
                                                               "concurrency_per_host": 4}),
            CrawlSource("c", "http://c.example/", settings={"autothrottle": False})]
    resolved, merged = resolve_sources(srcs, base)
    assert merged["COOKIES_ENABLED"] is True, "one source wanting cookies turns the middleware on"
    assert [s.settings["cookies"] for s in resolved] == [True, False, False], "the others opt out"
    assert [s.settings["obey_robots"] for s in resolved] == [True, False, True]
    assert merged["DOWNLOAD_SLOTS"]["a.example"] == {"concurrency": 1, "delay": 3.0}, "the politer of two"
    assert merged["DOWNLOAD_SLOTS"]["c.example"] == {"delay": 0.5}, "no AutoThrottle: the plain delay"
    with pytest.raises(ValueError, match="unknown crawl setting timeout; valid: obey_robots"):
        resolve_sources([CrawlSource("x", "http://x/", settings={"timeout": 1})], base)



def test_a_crawl_process_that_fails_hands_its_error_to_the_run():
    """crawl() raising in the forked crawl process (here: a setting it rejects) raises the same error here,
    with its message, not "the crawl process stopped"."""
    from crawler.child import CrawlChild

    got: list[object] = []
    with CrawlChild() as child:
        with pytest.raises(ValueError, match="unknown crawl setting timeout; valid: obey_robots"):
            child.crawl([CrawlSource("x", "http://127.0.0.1:9/", settings={"timeout": 1})], {}, got.append)
        assert not child.process.is_alive()
    assert got == []


def test_components_of_switched_off_features_are_not_even_loaded():
    """Scrapy imports a component before it asks whether it is on: aiohttp for RemoteControl, tldextract for
    cookies. Off features lose their components; a feature on, or not mentioned, keeps Scrapy's default."""
    from scrapy.settings import default_settings

    from crawler.runner import without_unused_components

    out = without_unused_components({"REMOTE_CONTROL_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
                                     "COOKIES_ENABLED": True}, default_settings)
    extensions = out["EXTENSIONS_BASE"]
    assert not any(k.endswith(("RemoteControl", "TelnetConsole")) for k in extensions)
    assert set(default_settings.EXTENSIONS_BASE) - set(extensions) == {
        "scrapy.extensions.remote_control.RemoteControl", "scrapy.extensions.telnet.TelnetConsole"}
    assert "DOWNLOADER_MIDDLEWARES_BASE" not in out, "cookies on, the HTTP cache not mentioned: Scrapy's list"
    off = without_unused_components({"COOKIES_ENABLED": False}, default_settings)["DOWNLOADER_MIDDLEWARES_BASE"]
    assert set(default_settings.DOWNLOADER_MIDDLEWARES_BASE) - set(off) == {
        "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"}


# ---------------------------------------------------------------------------------------------- first crawl


def test_listing_follows_the_matching_articles_on_the_same_host_newest_first(crawls):
    rows = crawls["first"]
    listing = by_source(rows, "news", "listing")
    assert [r["outcome"] for r in listing] == ["ok"]
    articles = by_source(rows, "news", "article")
    assert [r["url"] for r in articles] == [crawls["site"].url(f"/news/a{i:02d}.html") for i in MATCHING]
    assert [r["rank"] for r in articles] == [0, 1, 2, 3, 4]
    assert all(r["outcome"] == "ok" and r["status"] == 200 for r in articles)
    assert crawls["first_hits"]["/news/a02.html"] == 2, "once for `news`, once for `news-top3`; the #fragment is the same"
    assert crawls["first_hits"]["/news/a03.html"] == 0, "not about 医保: not followed"
    assert not any(e["host"].startswith("localhost") for e in crawls["first_log"]), "another host: not followed"
    top3 = by_source(rows, "news-top3", "article")
    assert [r["url"].rsplit("/", 1)[1] for r in top3] == ["a02.html", "a07.html", "a11.html"], "max_articles newest"


def test_listing_in_gbk_without_any_declared_charset(crawls):
    articles = by_source(crawls["first"], "gbk-news", "article")
    assert [r["url"].rsplit("/", 1)[1] for r in articles] == ["1.html", "3.html"]


def test_gbk_bodies_arrive_byte_for_byte_with_their_content_type(crawls):
    gbk = "潍坊市灵活就业人员医保缴费基数上限为22080元".encode("gbk")
    with_header, bare = one(crawls["first"], "gbk-header"), one(crawls["first"], "gbk-bare")
    assert gbk in base64.b64decode(with_header["body_b64"]) and gbk in base64.b64decode(bare["body_b64"])
    assert with_header["content_type"] == "text/html; charset=gbk" and bare["content_type"] == "text/html"


def test_validators_are_reported(crawls):
    etag, lm = one(crawls["first"], "etag"), one(crawls["first"], "lm")
    assert etag["etag"] and etag["last_modified"] is None
    assert lm["last_modified"] == MODIFIED and lm["etag"] is None


def test_a_page_that_never_answers_in_time_fails_after_its_retries(crawls):
    slow = one(crawls["first"], "slow")
    assert slow["outcome"] == "error" and slow["status"] is None
    assert slow["error"].startswith("DownloadTimeoutError: no answer within 0.6 s (3 attempts)")
    assert slow["attempts"] == 3 and crawls["first_hits"]["/slow.html"] == 3, "2 retries after a timeout"
    assert 500 <= slow["elapsed_ms"] < 3000, "the last attempt's time, not the whole crawl's"
    patient = one(crawls["first"], "patient")
    assert patient["outcome"] == "ok" and patient["attempts"] == 1, "a per-source timeout overrides the global one"
    assert 800 <= patient["elapsed_ms"] < 3000


def test_a_500_is_retried_and_the_200_kept(crawls):
    flaky = one(crawls["first"], "flaky")
    assert flaky["outcome"] == "ok" and flaky["status"] == 200 and flaky["attempts"] == 2
    assert crawls["first_hits"]["/flaky.html"] == 2


def test_a_redirect_to_another_host_is_refused_and_one_on_the_same_host_followed(crawls):
    moved = one(crawls["first"], "moved")
    assert moved["outcome"] == "error" and moved["status"] == 302
    assert "redirected to another host (http://localhost:" in moved["error"]
    assert crawls["first_hits"]["/elsewhere.html"] == 0
    here = one(crawls["first"], "moved-here")
    assert here["outcome"] == "ok" and here["url"].endswith("/moved-here.html")
    assert here["final_url"].endswith("/landing.html")


def test_a_5mb_page_is_refused_by_the_size_limit(crawls):
    for sid in ("big", "big-stream"):
        big = one(crawls["first"], sid)
        assert big["outcome"] == "error" and big["body_sha256"] is None, big
        assert "larger than the download size limit (4 MB)" in big["error"], big["error"]
    allowed = one(crawls["first"], "big-allowed")
    assert allowed["outcome"] == "ok" and allowed["size"] > BIG, "a per-source limit overrides"


def test_404_and_410_are_reported_with_their_status(crawls):
    gone, removed = one(crawls["first"], "gone"), one(crawls["first"], "removed")
    assert (gone["outcome"], gone["status"], gone["error"]) == ("error", 404, "HTTP 404 Not Found")
    assert (removed["outcome"], removed["status"], removed["error"]) == ("error", 410, "HTTP 410 Gone")
    assert crawls["first_hits"]["/gone.html"] == 1, "a 404 is not retried"


def test_robots_txt_is_obeyed_unless_the_source_says_otherwise(crawls):
    blocked = one(crawls["first"], "private")
    assert blocked["outcome"] == "blocked" and "robots.txt" in blocked["error"]
    assert one(crawls["first"], "private-allowed")["outcome"] == "ok"
    assert crawls["first_hits"]["/private/page.html"] == 1, "only the source that opted out asked for it"
    assert crawls["first_hits"]["/robots.txt"] == 1, "one robots.txt per host per crawl"


def test_the_user_agent_names_the_project_and_the_contact(crawls):
    agents = Counter(e["headers"].get("User-Agent") for e in crawls["first_log"] if e["path"] != "/ua.html")
    assert len(agents) == 1
    agent = next(iter(agents))
    assert agent.startswith("yibao-watch/") and CONTACT in agent
    ua = [e for e in crawls["first_log"] if e["path"] == "/ua.html"]
    assert [e["headers"]["User-Agent"] for e in ua] == ["TestAgent/1.0 (+mailto:t@example.org)"]


def test_cookies_are_off_unless_a_source_turns_them_on(crawls):
    cookie = {e["path"]: e["headers"].get("Cookie") for e in crawls["first_log"]}
    assert cookie["/checkcookie/on.html"] == "sid=on"
    assert cookie["/checkcookie/off.html"] is None
    assert not [e for e in crawls["first_log"] if e["headers"].get("Cookie") and "/checkcookie/on" not in e["path"]]


def test_at_most_two_requests_in_flight_per_host(crawls):
    assert 1 <= crawls["first_max_inflight"] <= 2


# ---------------------------------------------------------------------------------------------- the rerun


def test_rerun_with_nothing_changed_is_conditional_and_bodiless(crawls):
    rows = crawls["second"]
    outcomes = {(r["source_id"], r["role"], r["url"].rsplit("/", 1)[1] or "/"): r["outcome"] for r in rows}
    # the listing 304s; its remembered articles are asked again, conditionally, and 304 too
    assert [r["outcome"] for r in by_source(rows, "news")] == ["not_modified"] * 6
    assert [r["url"] for r in by_source(rows, "news", "article")] == crawls["known"]["news"]
    for sid in ("etag", "lm"):
        assert outcomes[(sid, "page", f"{sid}.html")] == "not_modified"
    etag_req = [e for e in crawls["second_log"] if e["path"] == "/etag.html"][0]["headers"]
    lm_req = [e for e in crawls["second_log"] if e["path"] == "/lm.html"][0]["headers"]
    assert etag_req.get("If-None-Match") and "If-Modified-Since" not in etag_req
    assert lm_req.get("If-Modified-Since") == MODIFIED
    # pages without validators can only be fetched again; the pipeline sees the same hash
    bodies = {r["source_id"]: r["body_sha256"] for r in crawls["first"] if r["role"] == "page"}
    assert one(rows, "gbk-bare")["body_sha256"] == bodies["gbk-bare"]
    assert sum(1 for r in rows if r["outcome"] == "ok" and r["source_id"] in ("news", "etag", "lm")) == 0
    # through a same-host redirect too: the target is asked with the validators filed under the source URL
    moved = one(rows, "moved-here")
    assert moved["outcome"] == "not_modified" and moved["final_url"].endswith("/landing.html")


def test_rerun_fetches_only_the_new_article_when_revisit_is_off(crawls):
    rows = by_source(crawls["second"], "news2")
    assert [(r["role"], r["outcome"], r["url"].rsplit("/", 1)[1]) for r in rows] == [
        ("listing", "ok", ""), ("article", "ok", "b2.html")]
    assert crawls["second_hits"]["/news2/b1.html"] == 0 and crawls["second_hits"]["/news2/b0.html"] == 0
    assert crawls["second_stats"]["stats"]["yibao/articles_skipped"] == 2


def test_rerun_request_count(crawls):
    """The measured cost of a rerun (reported in the note): requests and bytes of body received."""
    hits = crawls["second_hits"]
    unchanged = sum(n for path, n in hits.items() if not path.startswith("/news2/"))
    # robots.txt + news (1 + 5 articles) + gbk-news (1 + 2) + etag + lm + 2 GBK pages + moved-here (301 + 304)
    assert unchanged == 1 + 6 + 3 + 2 + 2 + 2
    received = sum(r["size"] or 0 for r in crawls["second"] if r["source_id"] in ("news", "etag", "lm", "moved-here"))
    assert received == 0
    print(f"\nfirst crawl: {sum(crawls['first_hits'].values())} requests in {crawls['first_s']:.1f} s; "
          f"rerun: {sum(hits.values())} requests ({unchanged} on unchanged sources) in {crawls['second_s']:.1f} s")


# ---------------------------------------------------------------------------------------------- yibao sources check


def test_sources_check_fetches_one_source_and_counts_its_facts(tmp_path, demo_site):
    from .conftest import yibao

    config = tmp_path / "yibao.toml"
    config.write_text(f"""
[database]
url = "sqlite:///{tmp_path / 'never.db'}"
[crawl]
download_delay = 0
autothrottle = false
[[source]]
id = "luoyang"
url = "{demo_site.base}/ly/ybj/tzgg/index.html"
region = "洛阳市"
province = "河南省"
kind = "listing"
follow = "医保|医疗保险|缴费"
[[source]]
id = "gone"
url = "{demo_site.base}/nowhere.html"
""", encoding="utf-8")
    done = yibao("--config", str(config), "sources", "check", "luoyang")
    assert done.returncode == 0, done.stderr
    lines = [line.split("\t") for line in done.stdout.splitlines()]
    assert [cols[0] for cols in lines] == ["listing", "article", "article"], "v1 lists 2 matching articles"
    assert all(cols[1] == "ok" and cols[2] == "200" for cols in lines)
    assert all(cols[5].endswith(" facts") and cols[5].split()[0].isdigit() for cols in lines), "facts counted"
    assert not (tmp_path / "never.db").exists(), "a check touches no database"
    gone = yibao("--config", str(config), "sources", "check", "gone")
    assert gone.returncode == 1 and "\terror\t404\t" in gone.stdout and "HTTP 404 Not Found" in gone.stdout
