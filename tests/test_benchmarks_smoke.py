"""The benchmark harness (benchmarks/) must not rot: pages, server and extraction on N=20, in seconds.

No timing is asserted here; benchmarks/run.py measures.
"""
from __future__ import annotations

import http.client
import json
import urllib.request

import pytest

from benchmarks.pages import ARTICLE_CLASS, BenchSite
from benchmarks.server import BenchServer, InProcessControl
from extractors import extract_facts

N = 20


@pytest.fixture(scope="module")
def site() -> BenchSite:
    return BenchSite(N, seed=9)


@pytest.fixture(scope="module")
def server(site: BenchSite):  # type: ignore[no-untyped-def]
    with BenchServer(site) as srv:
        yield srv


def get(srv: BenchServer, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    resp.body = resp.read()  # type: ignore[attr-defined]
    conn.close()
    return resp


def test_pages_are_generated_deterministically_with_some_gbk(site: BenchSite) -> None:
    pages = [site.page(i) for i in range(N)]
    assert len({p.path for p in pages}) == N
    assert all(8_000 <= len(p.body) <= 40_000 for p in pages), [len(p.body) for p in pages]
    gbk = [p for p in pages if p.encoding == "gbk"]
    assert len(gbk) == N // 10
    for p in gbk:
        assert b'<meta charset="gbk">' in p.body and p.content_type == "text/html"
        p.body.decode("gbk")
        with pytest.raises(UnicodeDecodeError):
            p.body.decode("utf-8")
    assert {p.layout for p in pages} >= {"bendibao", "tax"}
    assert all(ARTICLE_CLASS.encode() in p.body for p in pages)
    assert BenchSite(N, seed=9).page(3).body == pages[3].body  # deterministic
    assert BenchSite(N, seed=10).page(3).body != pages[3].body
    changed = site.page(3, 1)
    assert changed.body != pages[3].body and changed.figures != pages[3].figures


def test_server_etag_last_modified_304_and_version_switch(site: BenchSite, server: BenchServer) -> None:
    assert get(server, "/robots.txt").body == b"User-agent: *\nAllow: /\n"  # type: ignore[attr-defined]
    path = site.specs[0].path
    first = get(server, path)
    assert first.status == 200 and first.body == site.page(0).body  # type: ignore[attr-defined]
    etag, modified = first.getheader("ETag"), first.getheader("Last-Modified")
    assert etag and etag.startswith('"') and modified
    assert get(server, path, {"If-None-Match": etag}).status == 304
    assert get(server, path, {"If-Modified-Since": modified}).status == 304
    assert get(server, path, {"If-None-Match": '"other"'}).status == 200
    assert get(server, "/nope.html").status == 404
    gbk = next(s for s in site.specs if s.encoding == "gbk")
    assert get(server, gbk.path).getheader("Content-Type") == "text/html"

    control = InProcessControl(server)
    assert control.set_versions({0: 1}) == 1
    again = get(server, path, {"If-None-Match": etag})
    assert again.status == 200 and again.body == site.page(0, 1).body  # type: ignore[attr-defined]
    assert again.getheader("ETag") != etag
    control.set_versions({}, reset=True)
    assert get(server, path, {"If-None-Match": etag}).status == 304
    stats = json.loads(urllib.request.urlopen(server.base + "/__bench/stats", timeout=10).read())
    assert stats["304"] >= 3 and stats["200"] >= 3


def test_extract_facts_finds_the_generated_figures(site: BenchSite) -> None:
    for i in range(N):
        page = site.page(i)
        facts = extract_facts(page.body, url="http://127.0.0.1:8000" + page.path, region_hint=page.region,
                              province_hint=page.province, content_type=page.content_type)
        values = {str(f.value) for f in facts}
        f = page.figures
        want = str(f.resident if page.layout == "bureau-resident" else f.base_max)
        assert want in values, (i, page.layout, want, sorted(values))
        assert all(fact.region == page.region for fact in facts), i  # teasers name other cities: not facts
        changed = site.page(i, 1)
        after = {(x.metric, str(x.value)) for x in extract_facts(
            changed.body, url="http://127.0.0.1:8000" + page.path, region_hint=page.region,
            province_hint=page.province, content_type=page.content_type)}
        assert after != {(x.metric, str(x.value)) for x in facts}, i
