"""`yibao report`: one self-contained HTML page, checked in a real headless chromium.

The browser is driven over the DevTools protocol on ``--remote-debugging-pipe``
(NUL-separated JSON on file descriptors 3 and 4), with only the standard
library: no websocket client, no downloaded browser. The data is the same
two real runs as the export tests, hostile page included.
"""
from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.progress import Progress
from pipeline.report import link, write_report

from .conftest import ROOT, yibao
from .test_export import HOSTILE_REGION, _watched_store, watched  # noqa: F401 - the shared two-run fixture

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                  "--hide-scrollbars", "--window-size=1280,900"]
VIEWPORT = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
DEMO_REGIONS = ["潍坊市", "淄博市", "洛阳市"]


def db_url(config: Path) -> str:
    return load_config(config).database.url


# --------------------------------------------------------------------------- a DevTools client on a pipe


class DevTools:
    """Chromium with ``--remote-debugging-pipe``: it reads commands on fd 3 and answers on fd 4."""

    def __init__(self, chromium: str, profile: Path, log: Path) -> None:
        to_r, self._to_w = os.pipe()
        self._from_r, from_w = os.pipe()
        # subprocess cannot renumber descriptors, so bash moves chromium's ends onto fds 3 and 4;
        # first lift them to 10 and up, lest one of them already be 3 or 4 and get closed in the shuffle.
        to_r, from_w = (self._lift(fd) for fd in (to_r, from_w))
        script = f'exec "$@" 3<&{to_r} 4>&{from_w} {to_r}<&- {from_w}>&-'
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            ["bash", "-c", script, "chromium", chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             "--remote-debugging-pipe", "about:blank"],
            pass_fds=(to_r, from_w), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            start_new_session=True)  # its own process group, so a hung browser goes with all its helpers
        os.close(to_r)
        os.close(from_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    @staticmethod
    def _lift(fd: int) -> int:
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return high

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(self._receive(deadline))

    def drain(self, seconds: float) -> None:
        """Collect whatever arrives for a moment: console messages may trail the load event."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._receive(deadline))
        except TimeoutError:
            pass

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._from_r], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_r, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (OSError, RuntimeError, TimeoutError, EOFError):
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        os.close(self._to_w)
        os.close(self._from_r)
        self._log.close()


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        pytest.skip("Debian's chromium is not installed (no /usr/bin/chromium); `apt-get install -y chromium`")
    if shutil.which("bash") is None:
        pytest.skip("bash is needed to hand chromium its DevTools pipe on fds 3 and 4")
    return path


PAGE_PROBE = """(async () => {
  const images = [...document.images];
  await Promise.all(images.map(i => i.decode().catch(() => null)));
  const shown = [];
  for (const img of images) {
    img.scrollIntoView({block: "center", inline: "center"});
    const r = img.getBoundingClientRect(), st = getComputedStyle(img);
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    shown.push({alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth,
      naturalHeight: img.naturalHeight, width: r.width, height: r.height,
      inViewport: r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth,
      onTop: hit === img, visible: st.visibility === "visible" && st.display !== "none" && +st.opacity > 0,
      src: img.src.slice(0, 22)});
  }
  const regions = [...document.querySelectorAll("section.region")].map(s => ({
    name: s.querySelector("h2").firstChild.textContent.trim(),
    charts: [...s.querySelectorAll("figure.chart figcaption")].map(f => f.textContent.split(" ")[0]),
    current: s.querySelectorAll("table.current tbody tr").length}));
  return {images: shown, regions, changes: document.querySelectorAll("#changes tbody tr").length,
          sourceLinks: [...document.querySelectorAll("#sources a[href]")].map(a => a.href),
          title: document.title};
})()"""


def open_in_chromium(chromium: str, page: Path, workdir: Path) -> tuple[dict[str, Any], list[dict[str, Any]], float]:
    """(what the page shows, every DevTools event, milliseconds to the load event)."""
    browser = DevTools(chromium, workdir / "profile", workdir / "chromium.log")
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride", VIEWPORT, session=session)
        started = time.monotonic()
        browser.send("Page.navigate", {"url": page.as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired", timeout=60)
        load_ms = (time.monotonic() - started) * 1000
        probe = browser.send("Runtime.evaluate", {"expression": PAGE_PROBE, "awaitPromise": True,
                                                  "returnByValue": True}, session=session, timeout=60)
        assert "exceptionDetails" not in probe, probe
        browser.drain(0.5)
        return probe["result"]["value"], browser.events, load_ms
    except Exception:
        log = (workdir / "chromium.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"chromium failed; the end of its log:\n{log}") from None
    finally:
        browser.close()


def console_problems(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            out.append(f"console.{p['type']}: {[a.get('value', a.get('description')) for a in p.get('args', [])]}")
        elif method == "Runtime.exceptionThrown":
            out.append(f"exception: {p['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
            out.append(f"log {p['entry']['level']} ({p['entry'].get('source')}): {p['entry'].get('text')}")
        elif method in ("Network.loadingFailed", "Page.javascriptDialogOpening"):
            out.append(f"{method}: {p}")
    return out


def test_report_loads_in_chromium_with_no_console_errors_and_visible_charts(watched, tmp_path, chromium):
    page = tmp_path / "report.html"
    done = yibao("--config", str(watched), "report", "-o", str(page), "--since", "2000-01-01")
    assert done.returncode == 0, done.stderr
    shown, events, load_ms = open_in_chromium(chromium, page, tmp_path)

    assert console_problems(events) == []
    requested = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    assert requested and all(u.startswith(("file:", "data:")) for u in requested), \
        f"the page must need nothing from the network: {[u for u in requested if not u.startswith('data:')]}"

    images = shown["images"]
    assert len(images) >= 10, "a chart per numeric core figure per region"
    for img in images:
        assert img["src"] == "data:image/png;base64,", img["alt"]
        assert img["complete"] and img["naturalWidth"] > 0 and img["naturalHeight"] > 0, img["alt"]
        assert img["width"] > 100 and img["height"] > 50, img
        assert img["inViewport"] and img["onTop"] and img["visible"], img

    regions = {r["name"]: r for r in shown["regions"]}
    assert set(DEMO_REGIONS) | {HOSTILE_REGION} <= set(regions)
    assert regions["潍坊市"]["charts"] == ["base_min", "base_max", "base_mid", "rate"]
    assert regions["淄博市"]["charts"] == ["base_min", "base_max", "rate"]
    assert regions["洛阳市"]["charts"] == ["base_min", "base_max", "base_mid", "rate"]
    assert regions[HOSTILE_REGION]["charts"] == ["base_min", "base_max", "rate"]
    assert all(r["current"] > 0 for r in regions.values())
    assert shown["changes"] >= 8, "every change event of the v2 run is listed"
    configured = {s.url for s in load_config(watched).source}
    assert set(shown["sourceLinks"]) == configured, "every configured source is linked"
    assert load_ms < 10_000


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_report_is_self_contained_escaped_and_links_to_sources(watched, tmp_path):
    page = tmp_path / "r.html"
    summary = write_report(db_url(watched), page, since=datetime(2000, 1, 1, tzinfo=timezone.utc))
    text = page.read_text("utf-8")
    assert "<script" not in text.lower() and "<link rel=\"stylesheet\"" not in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//(?!127\.0\.0\.1)""", text), "nothing external to load"
    sources = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert all(u.startswith(("data:", "#", "http://127.0.0.1:")) for u in sources), sources
    pngs = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(pngs) == summary.charts == text.count("<img ")
    assert all(_png_size(base64.b64decode(p)) == (720, 260) for p in pngs)
    assert "<img src=x onerror" not in text, "page text is escaped, never markup"
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "=HYPERLINK(&quot;http://evil.example/&quot;" in text
    assert re.search(r'<a href="http://127\.0\.0\.1:\d+/wf/[^"]+" rel="noopener noreferrer">weifang-', text)
    assert summary.regions == 4 and summary.changes >= 8 and summary.size == page.stat().st_size


def test_report_filters_regions_and_lists_changes_since_a_date(watched, tmp_path):
    page = tmp_path / "wf.html"
    later = datetime.now(timezone.utc) + timedelta(days=1)
    summary = write_report(db_url(watched), page, since=later, regions=["潍坊市"])
    text = page.read_text("utf-8")
    assert summary.regions == 1 and summary.charts == 4 and summary.changes == 0
    assert f"Changes since {later:%Y-%m-%d}" in text and "No change events since then." in text
    assert "淄博市" not in text and "洛阳市" not in text
    default = write_report(db_url(watched), tmp_path / "all.html")
    assert default.changes >= 8, "by default the last 30 days of changes"


def test_report_of_an_empty_database_says_so(sqlite_url, tmp_path):
    summary = write_report(sqlite_url, tmp_path / "empty.html")
    text = (tmp_path / "empty.html").read_text("utf-8")
    assert summary.charts == 0 and "No figures recorded yet" in text and "No change events" in text


def test_report_cli_rejects_an_unknown_region(watched, tmp_path):
    done = yibao("--config", str(watched), "report", "-o", str(tmp_path / "r.html"), "--region", "北京市")
    assert done.returncode == 1 and "no figures recorded for 北京市; known regions:" in done.stderr
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("url, html", [
    ("http://a.example/x?a=1&b=2", '<a href="http://a.example/x?a=1&amp;b=2" rel="noopener noreferrer">t</a>'),
    ("javascript:alert(1)", "t"), ("data:text/html,<b>x</b>", "t"), (None, "t"),
])
def test_links_are_made_only_of_http_urls(url, html):
    assert link(url, "t") == html


# --------------------------------------------------------------------------- progress and quiet


def _run_with_stderr_on_a_terminal(args: list[str]) -> tuple[int, bytes, str]:
    """Run the CLI with stderr on a pseudo-terminal; (exit status, stdout, what the terminal showed)."""
    master, slave = os.openpty()
    shown = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        done = subprocess.run([sys.executable, "-m", "pipeline.cli", *args], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=slave, cwd=ROOT, timeout=240)
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    return done.returncode, done.stdout, shown.decode("utf-8", errors="replace")


def test_report_shows_progress_on_a_terminal_and_prints_nothing_under_cron(watched, tmp_path):
    quiet = yibao("--config", str(watched), "report", "-o", str(tmp_path / "cron.html"))
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == "", "no TTY: nothing at all"
    code, stdout, terminal = _run_with_stderr_on_a_terminal(
        ["--config", str(watched), "report", "-o", str(tmp_path / "tty.html")])
    assert code == 0 and stdout == b""
    assert re.search(r"\rreport: charts \d+/\d+ ", terminal), terminal
    assert re.search(r"wrote .*tty\.html: 4 regions, \d+ charts, \d+ changes, \d+ KiB in [\d.]+ s", terminal)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_without_a_terminal():
    stream = io.StringIO()
    with Progress("fetch", 3, stream) as bar:
        for url in ("a", "b", "c"):
            bar.advance(item=url)
    assert bar.done == 3 and stream.getvalue() == ""


def test_progress_redraws_one_line_and_wipes_it_on_a_terminal():
    stream = _Terminal()
    bar = Progress("extract", 2, stream, min_interval=0)
    bar.advance(item="http://a.example/long-page-name")
    bar.advance(item="b")
    assert stream.getvalue().startswith("\rextract 1/2 http://a.example/long-page-name\rextract 2/2 b ")
    bar.close()
    assert stream.getvalue().endswith("\r" + " " * len("extract 2/2 b") + "\r")
    unknown = _Terminal()
    with Progress("fetch", None, unknown, min_interval=0) as b:
        b.advance(item="x")
    assert unknown.getvalue().startswith("\rfetch 1 x")
