"""Issue 9's benchmark: yibao-watch against urlwatch and a bare Scrapy crawl, on the same generated pages.

    .venv/bin/python benchmarks/run.py                    # N = 1000 and 10000, growth test
    .venv/bin/python benchmarks/run.py --n 1000           # one size
    .venv/bin/python benchmarks/run.py --n 1000 --repeat 5 --skip-growth   # medians of 5 (make bench does
    .venv/bin/python benchmarks/run.py --n 10000 --reuse --profile          #  these two, ~25 min)
    .venv/bin/python benchmarks/run.py --quick            # smoke: N = 200, growth 200 sources x 5 runs
    .venv/bin/python benchmarks/run.py --n 1000 --profile # also py-spy one first run and one rerun

For each N it starts ``benchmarks/server.py`` (its own process) with N pages
(``benchmarks/pages.py``) and times, each as a child process measured with
``os.wait4`` (wall seconds, user+sys CPU seconds, peak RSS):

* ``yibao --config … run`` — first run, rerun with nothing changed, rerun
  with 10% of the pages' figures changed — and the database size after each
  (SQLite file + -wal);
* urlwatch (its own venv, ``benchmarks/.venv-urlwatch``, created when
  missing) with one job per page, ``css`` filter on the article and
  ``html2text``, the same three phases, its cache file size after each;
* ``benchmarks/bare_scrapy.py`` — a fetch-and-lxml-parse floor — first run
  and a rerun (no conditional requests);
* for each yibao run also its CPU per process (the run's own, ``yibao-crawl``,
  ``yibao-writer``, the ``yibao-reader`` pool), polled from ``/proc``, and
  from it the first run's floor: CPU / cores is the least wall any schedule
  of that work could reach on this machine;
* extraction alone: ``extractors.extract_facts`` over the pages, in this
  process, pages per CPU second (one thread: per core).

Then the growth test (1000 sources, 30 runs, 1% of pages changing before each
run) and the targets of the issue, PASS/FAIL. It prints a table and writes
``benchmarks/RESULTS.md`` (``--quick``: ``benchmarks/out/quick/RESULTS-quick.md``)
and ``benchmarks/out/results.json``. Work files go to ``benchmarks/out/``.

The pipeline's packages are copied to ``benchmarks/out/code`` at the start and
every yibao child runs that snapshot (``--live``: the working tree), so edits
made while the benchmark runs do not change what it measures; each section
(``out/sections/*.json``) records the code's fingerprint (a hash of its
sources and the newest file's time), the command and the time. ``--reuse``
adds saved sections of earlier invocations to the report (say, N=10000 run
once, N=1000 rerun after a change); ``--report-only`` measures nothing and
rewrites the report. Every child is killed after ``--timeout`` seconds.
The 1-minute load average before each child is kept: on a shared machine it
tells a quiet measurement from a contended one.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shlex
import hashlib
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pages import CSS_SELECTOR, BenchSite  # noqa: E402
from benchmarks.server import ServerProcess, load_test  # noqa: E402

PY = Path(sys.executable)
YIBAO = PY.parent / "yibao"
#: how the children run yibao: the snapshot launcher (default) or the live `yibao` (--live); set in main()
YIBAO_CMD: list[str] = [str(YIBAO)]
CODE_ROOT = ROOT  # where the measured pipeline code lives (the snapshot, unless --live)
UW_VENV = BENCH / ".venv-urlwatch"
UW_BIN = UW_VENV / "bin"
MB = 1_000_000
MIB = 1 << 20
CONCURRENCY = 16          # requests in flight in all (Scrapy's default, yibao's [crawl] concurrency default)
PER_HOST = 16             # lifted from yibao's polite 2: every page is on one local host
CRAWL_TOML = f"""[crawl]
# Benchmark only: every page sits on one local host, so the per-host politeness limits are lifted
# (urlwatch has none either). robots.txt is still obeyed.
concurrency = {CONCURRENCY}
concurrency_per_host = {PER_HOST}
download_delay = 0
autothrottle = false
obey_robots = true
"""
URLWATCH_WORKERS = "10 threads (urlwatch.worker.MAX_WORKERS; not configurable)"

# Targets of issue 9.
T_WALL_VS_URLWATCH = 1.0
T_WALL_VS_SCRAPY = 1.25
T_NOCHANGE_VS_URLWATCH = 0.8
T_RSS_MIB = 500
T_SCALE = 11.0
T_GROWTH_MB = 2.0
T_EXTRACT = 300.0


@dataclass
class Measure:
    tool: str
    phase: str
    wall: float
    user: float
    sys: float
    maxrss_kib: int
    rc: int
    db_bytes: int | None = None
    served: dict[str, int] = field(default_factory=dict)
    note: str = ""
    load_before: float = 0.0
    rep: int = 0  # which repetition (--repeat) measured it
    by_process: dict[str, float] = field(default_factory=dict)  # CPU s per process name (yibao runs)

    @property
    def cpu(self) -> float:
        return self.user + self.sys

    @property
    def rss_mib(self) -> float:
        return self.maxrss_kib / 1024


TIMEOUT = 1800.0  # seconds; a child still running then is killed (with its process group) and marked


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> tuple[str, float] | None:
    """(name, user+sys CPU s) of a live process, from /proc/PID/stat; None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name, rest = raw[raw.index("(") + 1:raw.rindex(")")], raw[raw.rindex(")") + 2:].split()
    return name, (int(rest[11]) + int(rest[12])) / _TICK


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            out += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        pass
    return out


class ProcessCPU:
    """CPU per process of a child's tree, by process name (yibao names its own: yibao-crawl, yibao-writer,
    yibao-reader; the root is "main"), polled from /proc every 50 ms while it runs.

    The last ≤ 50 ms of a process that exits between two polls is not seen, so the parts add up to a little
    less than the tree's total from wait4. Linux only; elsewhere it reports nothing.
    """

    def __init__(self, root: int) -> None:
        self.root, self.last, self.names = root, {}, {}  # type: ignore[var-annotated]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        if Path("/proc/self/stat").exists():
            self.thread.start()

    def _poll(self) -> None:
        while not self.stop.wait(0.05):
            todo = [self.root]
            while todo:
                pid = todo.pop()
                got = _proc_cpu(pid)
                if got is not None:
                    self.names[pid] = "main" if pid == self.root else got[0]
                    self.last[pid] = got[1]
                    todo += _children(pid)

    def result(self) -> dict[str, float]:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()
        out: dict[str, float] = {}
        for pid, cpu in self.last.items():
            out[self.names[pid]] = round(out.get(self.names[pid], 0.0) + cpu, 3)
        return out


def timed(tool: str, phase: str, cmd: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None,
          timeout: float | None = None, by_process: bool = False) -> Measure:
    """Run cmd as a child; wall from fork to reap, CPU and peak RSS from wait4 (its rusage includes its children).

    The 1-minute load average just before is kept: on a shared machine it tells a quiet measurement from a
    contended one.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env or os.environ.copy(),
                                start_new_session=True)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout or TIMEOUT, kill)
        timer.start()
        poller = ProcessCPU(proc.pid) if by_process else None
        _, status, ru = os.wait4(proc.pid, 0)
        timer.cancel()
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    m = Measure(tool, phase, wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, proc.returncode, load_before=load,
                by_process=poller.result() if poller else {})
    if killed.is_set():
        m.note = f"TIMED OUT after {timeout or TIMEOUT:.0f} s, killed"
    return m


def join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


CODE_DIRS = ("crawler", "pipeline", "storage", "extractors", "alerts")


def code_fingerprint(root: Path | None = None) -> dict[str, str]:
    """Which pipeline code was measured: a hash of its sources and the time of the newest file (no VCS needed)."""
    root = root or CODE_ROOT
    digest = hashlib.sha256()
    newest = 0.0
    for d in CODE_DIRS:
        for f in sorted((root / d).rglob("*")):
            if f.is_file() and f.suffix in (".py", ".toml", ".tsv", ".yaml") and "__pycache__" not in f.parts:
                digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
                newest = max(newest, f.stat().st_mtime)
    return {"sha256": digest.hexdigest()[:16],
            "newest_file": datetime.fromtimestamp(newest, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")}


def snapshot_code(out: Path) -> Path:
    """Copy the pipeline's packages to out/code and write a launcher that runs `yibao` from there.

    The working tree may be edited while a benchmark runs (someone optimising the pipeline); every run of
    one invocation then measures the same code. copy2 keeps the mtimes, so the fingerprint names the
    newest file as it was in the tree.
    """
    code = out / "code"
    if code.exists():
        shutil.rmtree(code)
    for d in CODE_DIRS:
        shutil.copytree(ROOT / d, code / d, ignore=shutil.ignore_patterns("__pycache__"))
    launcher = out / "yibao_snapshot.py"
    # entry(), as the `yibao` console script (pyproject [project.scripts]): main() alone would add the heap
    # teardown that entry() skips after a finished run — 0.3-0.5 s a run that users never pay.
    launcher.write_text(f"import sys\nsys.path.insert(0, {str(code)!r})\nfrom pipeline.cli import entry\n"
                        "sys.argv[0] = 'yibao'\nentry()\n", encoding="utf-8")
    return code


def save_section(args: argparse.Namespace, name: str, data: Any, command: str, before: dict[str, str]) -> None:
    """out/sections/NAME.json: one section's results with the command, time and code that produced them."""
    after = code_fingerprint()
    doc = {"command": command, "measured_at": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "code": before,
           "code_changed_during": after["sha256"] != before["sha256"], "snapshot": CODE_ROOT != ROOT,
           "data": data}
    path = args.out / "sections" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False, default=str), encoding="utf-8")


def load_section(args: argparse.Namespace, name: str) -> dict[str, Any] | None:
    path = args.out / "sections" / f"{name}.json"
    if not path.exists():
        return None
    doc: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return doc


def db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def sh(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


# --------------------------------------------------------------------------- urlwatch


def ensure_urlwatch() -> str:
    """The separate venv with urlwatch (created and installed when missing); its version."""
    if not (UW_BIN / "urlwatch").exists():
        print(f"creating {UW_VENV} with urlwatch …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(UW_VENV)], check=True)
        subprocess.run([str(UW_BIN / "python"), "-m", "pip", "install", "--quiet", "urlwatch"], check=True)
    return sh([str(UW_BIN / "python"), "-c", "import urlwatch; print(urlwatch.__version__)"])


def write_urlwatch(dirn: Path, site: BenchSite, base: str) -> None:
    jobs = []
    for spec in site.specs:
        job = {"name": f"page {spec.index}", "url": base + spec.path,
               "filter": [{"css": CSS_SELECTOR}, "html2text"]}
        if spec.encoding != "utf-8":
            job["encoding"] = spec.encoding  # no charset header: urlwatch would read GBK bytes as latin-1
        jobs.append(json.dumps(job, ensure_ascii=False))  # JSON is YAML
    (dirn / "urls.yaml").write_text("\n---\n".join(jobs) + "\n", encoding="utf-8")
    (dirn / "urlwatch.yaml").write_text(
        "display: {new: true, error: true, unchanged: false, empty-diff: true}\n"
        "report:\n  text: {details: true, footer: true, line_length: 75, minimal: false, separate: false}\n"
        "  stdout: {enabled: true, color: false}\n", encoding="utf-8")
    (dirn / "home").mkdir(exist_ok=True)


def urlwatch_cmd(dirn: Path) -> list[str]:
    return [str(UW_BIN / "urlwatch"), "--urls", str(dirn / "urls.yaml"), "--config", str(dirn / "urlwatch.yaml"),
            "--hooks", str(dirn / "hooks.py"), "--cache", str(dirn / "cache.db")]


def urlwatch_counts(log: Path) -> str:
    text = log.read_text("utf-8", errors="replace")
    found = Counter(m.group(1) for m in re.finditer(r"^\d+\. (NEW|CHANGED|ERROR|UNCHANGED|EMPTY)", text, re.M))
    return ", ".join(f"{k.lower()} {v}" for k, v in sorted(found.items())) or "no report"


# --------------------------------------------------------------------------- yibao


def write_yibao(dirn: Path, site: BenchSite, base: str) -> Path:
    lines = ['[database]\nurl = "sqlite:///yibao.db"\n', CRAWL_TOML]
    for spec in site.specs:
        lines.append(f'[[source]]\nid = "bench-{spec.index:05d}"\nurl = "{base}{spec.path}"\n'
                     f'region = "{spec.city.name}"\nprovince = "{spec.city.province}"\nkind = "page"\n')
    cfg = dirn / "yibao.toml"
    cfg.write_text("\n".join(lines), encoding="utf-8")
    return cfg


def yibao_summary(log: Path) -> str:
    text = log.read_text("utf-8", errors="replace").strip()
    lines = [line for line in text.splitlines() if line.startswith("run ")]
    if lines:
        return re.sub(r"; failed sources: .*", "; failed sources: …", lines[-1])
    return text.splitlines()[-1][:200] if text else ""


# --------------------------------------------------------------------------- one N


def changed_subset(n: int, share: float, seed: str) -> list[int]:
    return sorted(random.Random(seed).sample(range(n), max(1, round(n * share))))


def extraction_alone(site: BenchSite, limit: int) -> dict[str, Any]:
    if str(CODE_ROOT) not in sys.path:
        sys.path.insert(0, str(CODE_ROOT))
    from extractors import extract_facts

    count = min(site.n, limit)
    pages = [site.page(i) for i in range(count)]
    base = "http://127.0.0.1:8000"
    t0, w0 = time.process_time(), time.perf_counter()
    facts = 0
    found = 0
    for p in pages:
        got = extract_facts(p.body, url=base + p.path, region_hint=p.region, province_hint=p.province,
                            content_type=p.content_type)
        facts += len(got)
        want = str(p.figures.resident if p.layout == "bureau-resident" else p.figures.base_max)
        found += any(str(f.value) == want for f in got)
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    return {"pages": count, "cpu": cpu, "wall": wall, "pages_per_cpu_s": count / cpu, "facts_per_page": facts / count,
            "key_figure_found": found / count, "kib_per_page": sum(len(p.body) for p in pages) / count / 1024,
            "gbk_share": sum(p.encoding == "gbk" for p in pages) / count}


def bench_n(n: int, args: argparse.Namespace, log: list[str]) -> dict[str, Any]:
    out = args.out / f"n{n}"
    if out.exists():
        shutil.rmtree(out)
    for sub in ("yibao", "urlwatch", "scrapy"):
        (out / sub).mkdir(parents=True)
    site = BenchSite(n, args.seed)
    changed = changed_subset(n, 0.10, f"{args.seed}:changed:{n}")
    measures: list[Measure] = []

    def say(m: Measure) -> None:
        line = (f"  N={n:<6} {m.tool:<9} {m.phase:<10} wall {m.wall:7.2f} s  cpu {m.cpu:7.2f} s  "
                f"rss {m.rss_mib:6.0f} MiB  db {(m.db_bytes or 0) / MB:7.2f} MB  rc {m.rc}  {m.note}")
        print(line, flush=True)
        log.append(line)
        measures.append(m)

    def fresh(sub: str) -> Path:
        d = out / sub
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        return d

    def yibao_phases(srv: ServerProcess, rep: int) -> None:
        ydir = fresh("yibao")
        cfg = write_yibao(ydir, site, srv.base)
        ycmd = [*YIBAO_CMD, "--config", str(cfg)]
        srv.set_versions({}, reset=True)
        setup = timed("yibao", "db upgrade", ycmd + ["db", "upgrade"], ydir, ydir / "upgrade.log")
        setup.db_bytes, setup.rep = db_bytes(ydir / "yibao.db"), rep
        say(setup)
        for phase, versions in (("first", None), ("no-change", None), ("10%-changed", {i: 1 for i in changed})):
            if versions:
                srv.set_versions(versions)
            srv.stats(reset=True)
            m = timed("yibao", phase, ycmd + ["run", "-v"], ydir, ydir / f"{phase}.log", by_process=True)
            m.db_bytes, m.served, m.rep = db_bytes(ydir / "yibao.db"), srv.stats(), rep
            m.note = join(m.note, yibao_summary(ydir / f"{phase}.log"))
            say(m)

    def urlwatch_phases(srv: ServerProcess, rep: int) -> None:
        udir = fresh("urlwatch")
        write_urlwatch(udir, site, srv.base)
        env = {**os.environ, "HOME": str(udir / "home")}
        srv.set_versions({}, reset=True)
        for phase, versions in (("first", None), ("no-change", None), ("10%-changed", {i: 1 for i in changed})):
            if versions:
                srv.set_versions(versions)
            srv.stats(reset=True)
            m = timed("urlwatch", phase, urlwatch_cmd(udir), udir, udir / f"{phase}.log", env)
            m.db_bytes, m.served, m.rep = db_bytes(udir / "cache.db"), srv.stats(), rep
            m.note = join(m.note, urlwatch_counts(udir / f"{phase}.log"))
            say(m)

    def scrapy_phases(srv: ServerProcess, rep: int) -> None:
        sdir = fresh("scrapy")
        (sdir / "urls.txt").write_text("".join(srv.base + s.path + "\n" for s in site.specs), encoding="utf-8")
        srv.set_versions({}, reset=True)
        scmd = [str(PY), str(BENCH / "bare_scrapy.py"), "--urls", str(sdir / "urls.txt"), "--concurrency",
                str(CONCURRENCY), "--per-host", str(PER_HOST)]
        for phase in ("first", "rerun"):
            srv.stats(reset=True)
            m = timed("scrapy", phase, scmd, sdir, sdir / f"{phase}.log")
            m.served, m.rep = srv.stats(), rep
            m.note = join(m.note, ((sdir / f"{phase}.log").read_text("utf-8", errors="replace").strip().splitlines()
                                   or [""])[-1])
            say(m)

    t_start = time.perf_counter()
    with ServerProcess(n, args.seed) as srv:
        server_start = time.perf_counter() - t_start
        # the tools take turns within each repetition, so a machine that slows down for a minute
        # slows every tool's figures, not one tool's
        for rep in range(args.repeat):
            yibao_phases(srv, rep)
            if not args.skip_urlwatch:
                urlwatch_phases(srv, rep)
            scrapy_phases(srv, rep)
        srv.set_versions({}, reset=True)
    extraction = _median_by([extraction_alone(site, args.extract_pages) for _ in range(args.repeat)],
                            "pages_per_cpu_s")
    line = (f"  N={n:<6} extraction alone: {extraction['pages_per_cpu_s']:.0f} pages/s per core "
            f"({extraction['pages']} pages, {extraction['cpu']:.2f} CPU s, {extraction['facts_per_page']:.1f} facts/page, "
            f"key figure found on {extraction['key_figure_found']:.0%})")
    print(line, flush=True)
    log.append(line)
    every = [asdict(m) | {"cpu": m.cpu, "rss_mib": m.rss_mib} for m in measures]
    return {"n": n, "server_start_s": server_start, "changed_pages": len(changed), "repeat": args.repeat,
            "measures": median_measures(every), "every_measure": every, "extraction": extraction}


def _median_by(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The item with the median value of ``key`` (the lower middle one of an even count): a real run, not a mean."""
    ranked = sorted(items, key=lambda d: d[key])
    return ranked[(len(ranked) - 1) // 2]


def median_measures(every: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per tool and phase, the repetition with the median wall, carrying every repetition's wall."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in every:
        groups.setdefault((m["tool"], m["phase"]), []).append(m)
    return [_median_by(g, "wall") | {"walls": [m["wall"] for m in g]} for g in groups.values()]


# --------------------------------------------------------------------------- growth


def growth(args: argparse.Namespace, log: list[str]) -> dict[str, Any]:
    n, runs = args.growth_sources, args.growth_runs
    out = args.out / "growth"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    site = BenchSite(n, args.seed)
    versions = {i: 0 for i in range(n)}
    sizes: list[int] = []
    walls: list[float] = []
    with ServerProcess(n, args.seed) as srv:
        cfg = write_yibao(out, site, srv.base)
        ycmd = [*YIBAO_CMD, "--config", str(cfg)]
        timed("yibao", "db upgrade", ycmd + ["db", "upgrade"], out, out / "upgrade.log")
        m = timed("yibao", "first", ycmd + ["run"], out, out / "run-00.log")
        sizes.append(db_bytes(out / "yibao.db"))
        walls.append(m.wall)
        failures: list[str] = []
        if m.rc not in (0, 1):
            failures.append(f"first run: exit {m.rc} {m.note}: " + (out / "run-00.log").read_text("utf-8", "replace")[-300:])
        for r in range(1, runs + 1):
            if failures:
                break
            picked = changed_subset(n, 0.01, f"{args.seed}:growth:{r}")
            for i in picked:
                versions[i] += 1
            srv.set_versions({i: versions[i] for i in picked})
            m = timed("yibao", f"run {r}", ycmd + ["run"], out, out / f"run-{r:02d}.log")
            sizes.append(db_bytes(out / "yibao.db"))
            walls.append(m.wall)
            if m.rc not in (0, 1):
                print(f"  growth run {r}: exit {m.rc}; see {out / f'run-{r:02d}.log'}", file=sys.stderr)
                failures.append(f"run {r}: exit {m.rc} {m.note}: "
                                + (out / f"run-{r:02d}.log").read_text("utf-8", "replace")[-300:])
            print(f"  growth run {r:2d}/{runs}: {len(picked)} pages changed, db {sizes[-1] / MB:.3f} MB, "
                  f"wall {m.wall:.2f} s", flush=True)
    if failures:
        line = f"  growth: FAILED: {failures[0]}"
        print(line, flush=True)
        log.append(line)
        return {"sources": n, "runs": runs, "sizes": sizes, "walls": walls, "failures": failures}
    grown = sizes[-1] - sizes[0]
    per = grown / MB * (1000 / n) * (30 / runs)
    line = (f"  growth: {n} sources, {runs} runs with 1% changed: {sizes[0] / MB:.2f} MB after the first run, "
            f"{sizes[-1] / MB:.2f} MB after run {runs}: +{grown / MB:.3f} MB = {per:.3f} MB per 1000 sources per 30 runs")
    print(line, flush=True)
    log.append(line)
    return {"sources": n, "runs": runs, "sizes": sizes, "walls": walls, "grown_bytes": grown,
            "mb_per_1000_per_30": per}


# --------------------------------------------------------------------------- profile


# py-spy names frames "func (package/module.py:line)", the path relative to its sys.path entry.
CATEGORIES = [
    ("imports (module loading)", "<frozen importlib"), ("extractors (extract_facts)", "(extractors/"),
    ("storage (repo, models)", "(storage/"), ("pipeline (stages, diff)", "(pipeline/"), ("crawler (spider)", "(crawler/"),
    ("alembic", "(alembic/"), ("sqlalchemy", "(sqlalchemy/"), ("scrapy", "(scrapy/"), ("twisted", "(twisted/"),
    ("lxml", "(lxml/"), ("pydantic", "(pydantic"), ("sqlite3", "(sqlite3/"),
    ("multiprocessing (IPC)", "(multiprocessing/"), ("asyncio + selectors (event loop)", "(asyncio/"),
    ("asyncio + selectors (event loop)", "(selectors.py"), ("threading", "(threading.py"),
]
PROJECT = ("(extractors/", "(storage/", "(pipeline/", "(crawler/")


def _category(frame: str) -> str:
    for name, needle in CATEGORIES:
        if needle in frame:
            return name
    return "other"


def summarise_profile(raw: Path, top: int = 15) -> dict[str, Any]:
    """Collapsed py-spy stacks → share of samples per component (inclusive and self) and the top functions."""
    incl: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    funcs: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text("utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        c = int(count)
        total += c
        frames = stack.split(";")
        cats = {_category(f) for f in frames} - {"other"}  # every stack starts in "other" (the script)
        for cat in cats:
            incl[cat] += c
        self_[_category(frames[-1])] += c
        for f in {re.sub(r":\d+\)", ")", f) for f in frames}:
            if any(p in f for p in PROJECT):
                funcs[f] += c
        if not frames[-1].startswith("process "):  # py-spy's per-process root frame: a process with no Python frame
            own[re.sub(r":\d+\)", ")", frames[-1])] += c
    total = total or 1
    return {"samples": total,
            "inclusive": [(k, v / total) for k, v in incl.most_common()],
            "self": [(k, v / total) for k, v in self_.most_common()],
            "project_functions": [(k, v / total) for k, v in funcs.most_common(top)],
            "self_functions": [(k, v / total) for k, v in own.most_common(top)]}


def profile(args: argparse.Namespace, log: list[str]) -> dict[str, Any]:
    pyspy = UW_BIN / "py-spy"
    if not pyspy.exists():
        subprocess.run([str(UW_BIN / "python"), "-m", "pip", "install", "--quiet", "py-spy"], check=False)
    if not pyspy.exists():
        return {"error": "py-spy is not installed"}
    n = args.profile_n
    out = args.out / "profile"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    site = BenchSite(n, args.seed)
    result: dict[str, Any] = {"n": n}
    with ServerProcess(n, args.seed) as srv:
        cfg = write_yibao(out, site, srv.base)
        ycmd = [*YIBAO_CMD, "--config", str(cfg)]
        timed("yibao", "db upgrade", ycmd + ["db", "upgrade"], out, out / "upgrade.log")
        for phase, versions in (("first", None), ("no-change", None),
                                ("10%-changed", {i: 1 for i in changed_subset(n, 0.1, f"{args.seed}:changed:{n}")})):
            if versions:
                srv.set_versions(versions)
            raw = out / f"{phase}.txt"
            m = timed("py-spy", phase, [str(pyspy), "record", "--format", "raw", "--rate", "200", "--subprocesses",
                                        "--nonblocking", "-o", str(raw), "--"] + ycmd + ["run"], out,
                      out / f"{phase}.log")
            if not raw.exists():
                result[phase] = {"error": (out / f"{phase}.log").read_text("utf-8", errors="replace")[-500:]}
                continue
            result[phase] = summarise_profile(raw) | {"wall_under_profiler": m.wall}
            s = result[phase]
            line = f"  profile {phase}: " + ", ".join(f"{k} {v:.0%}" for k, v in s["inclusive"][:8])
            print(line, flush=True)
            log.append(line)
    return result


# --------------------------------------------------------------------------- report


def machine(uw_version: str) -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "0")
    versions = sh([str(PY), "-c", "import scrapy, lxml.etree, sqlalchemy, sqlite3, twisted; "
                                  "print(scrapy.__version__, '.'.join(map(str, lxml.etree.LXML_VERSION)), "
                                  "sqlalchemy.__version__, sqlite3.sqlite_version, twisted.__version__)"]).split()
    versions += ["?"] * (5 - len(versions))
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "ram": f"{int(mem) / 1024 / 1024:.1f} GiB",
            "python": platform.python_version(), "scrapy": versions[0], "lxml": versions[1],
            "sqlalchemy": versions[2], "sqlite": versions[3], "twisted": versions[4], "urlwatch": uw_version,
            "kernel": platform.release()}


def _get(res: dict[str, Any], tool: str, phase: str) -> dict[str, Any] | None:
    return next((m for m in res["measures"] if m["tool"] == tool and m["phase"] == phase), None)


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a is not None and b not in (None, 0) else "–"


def fmt(v: float | None, spec: str = ".2f") -> str:
    return format(v, spec) if v is not None else "–"


PHASES = [("first", "first", "first"), ("no-change", "no-change", "rerun"), ("10%-changed", "10%-changed", "rerun")]


def phase_table(res: dict[str, Any]) -> list[str]:
    rows = ["| phase | metric | yibao | urlwatch | bare Scrapy | yibao / urlwatch | yibao / bare Scrapy |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for yphase, uphase, sphase in PHASES:
        y, u, s = _get(res, "yibao", yphase), _get(res, "urlwatch", uphase), _get(res, "scrapy", sphase)
        slabel = f" ({sphase})" if sphase != yphase else ""
        for metric, key, spec, unit in (("wall", "wall", ".2f", "s"), ("CPU (user+sys)", "cpu", ".2f", "s"),
                                        ("peak RSS", "rss_mib", ".0f", "MiB"), ("DB size", "db_bytes", ".2f", "MB")):
            def val(m: dict[str, Any] | None) -> float | None:
                if m is None or m.get(key) is None:
                    return None
                return m[key] / MB if key == "db_bytes" else m[key]
            yv, uv, sv = val(y), val(u), val(s) if key != "db_bytes" else None
            rows.append(f"| {yphase}{slabel if metric == 'wall' else ''} | {metric} ({unit}) | {fmt(yv, spec)} | "
                        f"{fmt(uv, spec)} | {fmt(sv, spec)} | {ratio(yv, uv)} | {ratio(yv, sv)} |")
    return rows


PROCESS_ORDER = ("main", "yibao-crawl", "yibao-writer", "yibao-reader")


def process_table(res: dict[str, Any], cores: int) -> list[str]:
    """yibao's CPU per process, and what it means for the wall: no schedule on ``cores`` cores beats CPU / cores."""
    rows = [f"| phase | {' | '.join(PROCESS_ORDER)} (all) | other | sum | sum / {cores} cores | wall |",
            "|---|" + "---:|" * (len(PROCESS_ORDER) + 4)]
    for phase, _, _ in PHASES:
        m = _get(res, "yibao", phase)
        if not m or not m.get("by_process"):
            continue
        parts = dict(m["by_process"])
        known = [parts.pop(name, 0.0) for name in PROCESS_ORDER]
        total = sum(known) + sum(parts.values())
        rows.append(f"| {phase} | {' | '.join(f'{v:.2f}' for v in known)} | {sum(parts.values()):.2f} | "
                    f"{total:.2f} | {total / cores:.2f} | {m['wall']:.2f} |")
    first, bare = _get(res, "yibao", "first"), _get(res, "scrapy", "first")
    if len(rows) == 2 or not first or not first.get("by_process") or not bare:
        return []
    parts = first["by_process"]
    total, crawl = sum(parts.values()), parts.get("yibao-crawl", 0.0)
    target = T_WALL_VS_SCRAPY * bare["wall"]
    rows += ["", f"The floor of the first run: its processes' CPU is {total:.2f} s, so on {cores} cores no schedule "
             f"finishes it in less than {total / cores:.2f} s, whatever overlaps. The crawl's process alone costs "
             f"{crawl:.2f} s (the bare Scrapy crawl {bare['cpu']:.2f} s, with its lxml parse). {T_WALL_VS_SCRAPY}× "
             f"bare Scrapy's wall is {target:.2f} s: even with both cores busy from the first to the last "
             f"millisecond, everything but the crawl (imports, extraction, the store, the hand-offs) would have to fit "
             f"in {max(0.0, cores * target - crawl):.2f} CPU s; it takes {total - crawl:.2f} s"
             + (", so that target lies below this machine's floor for this work: only less CPU can reach it, not "
                "more overlap." if total / cores > target else
                f"; the CPU allows it, so what the wall loses beyond {total / cores:.2f} s is overlap (the start, "
                "before the first page, and the tail after the last fetch).")]
    return rows


def served_table(res: dict[str, Any]) -> list[str]:
    rows = ["| tool | phase | exit | load avg before | walls (s) | server answered (status: count) | "
            "what the tool said |", "|---|---|---:|---:|---|---|---|"]
    for m in res["measures"]:
        served = ", ".join(f"{k}: {v}" for k, v in sorted(m["served"].items())) or "–"
        walls = ", ".join(f"{w:.2f}" for w in m.get("walls", [m["wall"]]))
        rows.append(f"| {m['tool']} | {m['phase']} | {m['rc']} | {m.get('load_before', 0):.2f} | {walls} | {served} | "
                    f"{m['note'] or ''} |")
    return rows


def targets(results: dict[int, dict[str, Any]], grow: dict[str, Any] | None, quick: bool) -> list[tuple[str, str, str]]:
    """(target, measured, PASS/FAIL/not run)."""
    out: list[tuple[str, str, str]] = []
    small = min(results) if quick and results else 1000
    r1 = results.get(small)

    def check(ok: bool | None) -> str:
        return "not run" if ok is None else ("PASS" if ok else "FAIL")

    def wall(res: dict[str, Any] | None, tool: str, phase: str) -> float | None:
        m = _get(res, tool, phase) if res else None
        return m["wall"] if m else None

    for yphase, uphase, sphase, label in (("first", "first", "first", "first run"),
                                          ("10%-changed", "10%-changed", "rerun", "10%-changed rerun")):
        y, u, s = wall(r1, "yibao", yphase), wall(r1, "urlwatch", uphase), wall(r1, "scrapy", sphase)
        out.append((f"N={small} {label}: wall ≤ {T_WALL_VS_URLWATCH}× urlwatch's",
                    f"{fmt(y)} s vs {fmt(u)} s = {ratio(y, u)}", check(None if None in (y, u) else y <= T_WALL_VS_URLWATCH * u)))  # type: ignore[operator]
        out.append((f"N={small} {label}: wall ≤ {T_WALL_VS_SCRAPY}× bare Scrapy's ({sphase})",
                    f"{fmt(y)} s vs {fmt(s)} s = {ratio(y, s)}", check(None if None in (y, s) else y <= T_WALL_VS_SCRAPY * s)))  # type: ignore[operator]
    y, u = wall(r1, "yibao", "no-change"), wall(r1, "urlwatch", "no-change")
    out.append((f"N={small} no-change rerun: wall ≤ {T_NOCHANGE_VS_URLWATCH}× urlwatch's no-change run",
                f"{fmt(y)} s vs {fmt(u)} s = {ratio(y, u)}", check(None if None in (y, u) else y <= T_NOCHANGE_VS_URLWATCH * u)))  # type: ignore[operator]
    big = max(results) if results else None
    r10 = results.get(10000) if not quick else (results.get(big) if big and big != small else None)
    bign = 10000 if not quick else big
    rss = max((m["rss_mib"] for m in r10["measures"] if m["tool"] == "yibao"), default=None) if r10 else None
    out.append((f"N={bign}: yibao peak RSS < {T_RSS_MIB} MiB", f"{fmt(rss, '.0f')} MiB",
                check(None if rss is None else rss < T_RSS_MIB)))
    for phase in ("first", "no-change", "10%-changed"):
        a, b = wall(r10, "yibao", phase), wall(r1, "yibao", phase)
        out.append((f"N={bign} {phase}: wall ≤ {T_SCALE:g}× the N={small} figure",
                    f"{fmt(a)} s vs {fmt(b)} s = {ratio(a, b)}", check(None if None in (a, b) else a <= T_SCALE * b)))  # type: ignore[operator]
    g = grow.get("mb_per_1000_per_30") if grow else None
    out.append((f"DB growth, 1% of sources changing per run: ≤ {T_GROWTH_MB:g} MB per 1000 sources per 30 runs",
                f"{fmt(g, '.3f')} MB", check(None if g is None else g <= T_GROWTH_MB)))
    ext = r1["extraction"]["pages_per_cpu_s"] if r1 else (next(iter(results.values()))["extraction"]["pages_per_cpu_s"]
                                                          if results else None)
    out.append((f"extraction alone ≥ {T_EXTRACT:g} pages/s per core", f"{fmt(ext, '.0f')} pages/s",
                check(None if ext is None else ext >= T_EXTRACT)))
    return out


def write_results(path: Path, args: argparse.Namespace, mach: dict[str, str], server: dict[str, Any],
                  results: dict[int, dict[str, Any]], grow: dict[str, Any] | None, prof: dict[str, Any] | None,
                  startup: Measure | None, command: str, elapsed: float,
                  sections: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    tg = targets(results, grow, args.quick)
    commands = sorted({v["command"] for v in sections.values()} | (set() if args.report_only else {command}))
    md = [f"# Benchmarks{' (quick smoke run: indicative only)' if args.quick else ''}", "",
          f"Written {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by", "", *[f"    {c}" for c in commands], "",
          "| section | measured | by | pipeline code (sha256 of crawler/ pipeline/ storage/ extractors/ alerts/; "
          "newest file) |", "|---|---|---|---|",
          *[f"| {k} | {v['measured_at']} | `{v['command']}` | {v['code']['sha256']}, {v['code']['newest_file']}"
            f"{' (a snapshot, not the live tree)' if v.get('snapshot') else ' (the live tree)'}"
            f"{' — **the code changed while this section ran**' if v.get('code_changed_during') else ''} |"
            for k, v in sorted(sections.items())], "",
          "(`make bench` runs the full set: N = 1000 five times, N = 10000 once, the 30-run growth test, "
          "the profile.) "
          "See `benchmarks/run.py`'s docstring for what each figure is.", "",
          "## Machine", "",
          f"- {mach['nproc']} cores: {mach['cpu']}; RAM {mach['ram']}; Linux {mach['kernel']}",
          f"- Python {mach['python']}, Scrapy {mach['scrapy']}, Twisted {mach['twisted']}, lxml {mach['lxml']}, "
          f"SQLAlchemy {mach['sqlalchemy']}, SQLite {mach['sqlite']}; urlwatch {mach['urlwatch']} "
          "(its own venv, `benchmarks/.venv-urlwatch`)", "",
          "## Set-up", "",
          "- Pages: `benchmarks/pages.py`, from the three demo layouts (本地宝 article with teaser sidebars, "
          "医保局 notice — flexible or resident —, 税务局 notice in GBK with `<meta charset=\"gbk\">` and no "
          "charset header: 10% of pages); city names from `extractors/data/regions.tsv`; seed "
          f"{args.seed}. Sources on the same city agree; a changed page moves one or two of its figures.",
          f"- Server: `benchmarks/server.py`, its own process (asyncio, prebuilt responses, strong ETag, "
          f"Last-Modified, 304 on If-None-Match / If-Modified-Since, robots.txt allowing all). Its throughput "
          f"here, measured by {server.get('how', '?')}: {server.get('summary', 'not measured')}. The tools reach "
          "at most a few hundred requests per second, so it is not the bottleneck.",
          "- **yibao-watch's benchmark config lifts the per-host politeness limits**, because every page sits on "
          "one local host (urlwatch has no such limits either):", "", "```toml", CRAWL_TOML.strip(), "```", "",
          "  One `[[source]]` per page, `kind = \"page\"`, `region` and `province` set; SQLite database. "
          "`yibao db upgrade` runs first, untimed (a deployment does it once); each phase is "
          "`yibao --config yibao.toml run -v` as a child process, run from a snapshot of the pipeline code "
          "taken when the invocation started (see the section table above for its fingerprint).",
          f"- urlwatch: one job per page, `filter: [css: {CSS_SELECTOR}, html2text]` (the class "
          "`bench-article` is on the article container of every layout), `encoding: gbk` on the GBK pages "
          "(they send no charset; a user would have to say so), stdout text report to a file, its own cache "
          f"file. Concurrency: {URLWATCH_WORKERS}; one new connection per request (requests without a session). "
          "It sends If-None-Match / If-Modified-Since from its cache, so its reruns see 304s too.",
          f"- Bare Scrapy: `benchmarks/bare_scrapy.py`, same Scrapy, same crawl settings as yibao's config "
          f"({CONCURRENCY} in flight, {PER_HOST} per host, no delay, no AutoThrottle, robots.txt obeyed; like "
          "yibao, no telnet console, no RemoteControl server and no cookies, and — as in yibao — those "
          "features' components left out of Scrapy's component lists, not only switched off: Scrapy imports "
          "a listed component before asking it whether it is on (aiohttp, tldextract, twisted.conch: ~0.2 s "
          "of CPU a run); so the floor pays for nothing yibao does not), "
          "parses every body with `lxml.html.fromstring` and does nothing else. It sends no conditional "
          "requests, so its rerun fetches every page in full; the no-change and 10%-changed rows compare "
          "against that rerun.",
          "- Each figure: wall = fork to reap; CPU = user + sys of the child from `os.wait4`; peak RSS = the "
          "child's `ru_maxrss`; DB size = the SQLite file + `-wal` (urlwatch: its cache file) after the phase. "
          "Extraction alone = `extractors.extract_facts` on the generated pages in one process, pages per CPU "
          "second (single-threaded, so per core). yibao's CPU by process: each process of the run's tree polled "
          "from `/proc/PID/stat` every 50 ms, by the name yibao gives it (`yibao-crawl`, `yibao-writer`, "
          "`yibao-reader`; `main` is the run's own process).",
          "- The *load avg before* column (1-minute load average just before each child started) shows how busy "
          "the 2 cores were: a child that starts at a load near 2 shares the machine with other work (on a "
          "developer's machine: other sessions' test runs) and its figures can be 20–30% slower than on a quiet "
          "machine; compare ratios of rows measured at similar loads, and rerun (`--n 1000 --reuse`) when in doubt.",
          ""]
    if startup:
        md += [f"- For scale: `yibao --help` (the command line alone: the pipeline's modules load when a command "
               f"needs them) takes {startup.wall:.2f} s wall, {startup.cpu:.2f} s CPU, "
               f"{startup.rss_mib:.0f} MiB.", ""]
    md += ["## Targets (issue 9)", "", "| target | measured | result |", "|---|---|---|"]
    md += [f"| {a} | {b} | **{c}** |" for a, b, c in tg]
    for n, res in sorted(results.items()):
        e = res["extraction"]
        md += ["", f"## N = {n}", "", f"{res['changed_pages']} pages changed for the 10%-changed phase.", ""]
        if res.get("repeat", 1) > 1:
            md += [f"Each tool ran every phase {res['repeat']} times, the tools taking turns; each figure below is "
                   "the repetition with the median wall (walls of all repetitions in the last table), and "
                   "extraction alone the median of as many runs.", ""]
        md += phase_table(res)
        md += ["", f"Extraction alone: **{e['pages_per_cpu_s']:.0f} pages/s per core** ({e['pages']} pages, "
                   f"{e['cpu']:.2f} CPU s; {e['kib_per_page']:.1f} KiB/page, {e['gbk_share']:.0%} GBK; "
                   f"{e['facts_per_page']:.1f} facts/page; the page's key figure found on {e['key_figure_found']:.0%}).",
               "", "What each run did:", ""]
        md += served_table(res)
        by_process = process_table(res, int(mach["nproc"]))
        if by_process:
            md += ["", "yibao's CPU by process (s; the repetition above, polled from /proc every 50 ms — the parts "
                   "miss up to 50 ms of each process, `other` is any process not named):", "", *by_process]
    if grow and grow.get("failures"):
        md += ["", "## Database growth", "", "**Failed:** " + " / ".join(f"`{f}`" for f in grow["failures"][:2])]
    elif grow:
        sizes = grow["sizes"]
        md += ["", "## Database growth", "",
               f"{grow['sources']} sources; a first run, then {grow['runs']} runs each after 1% of the pages "
               f"({max(1, round(grow['sources'] * 0.01))}) changed their figures. Database (file + WAL): "
               f"{sizes[0] / MB:.3f} MB after the first run, {sizes[-1] / MB:.3f} MB after run {grow['runs']}: "
               f"+{grow['grown_bytes'] / MB:.3f} MB, i.e. **{grow['mb_per_1000_per_30']:.3f} MB per 1000 sources "
               f"per 30 runs** (MB = 10^6 bytes). Mean wall per run {sum(grow['walls'][1:]) / max(1, len(grow['walls']) - 1):.2f} s.",
               "", "Size after each run (MB): " + ", ".join(f"{s / MB:.3f}" for s in sizes)]
    if prof and "error" not in prof:
        md += ["", f"## Where yibao's time goes (py-spy, N = {prof['n']})", "",
               "Share of py-spy samples (200 Hz, all threads) whose stack includes the component (inclusive) "
               "or ends in it (self). Categories are by file path; `imports` is module loading.", ""]
        for phase in ("first", "no-change", "10%-changed"):
            p = prof.get(phase)
            if not p or "error" in p:
                md += [f"- {phase}: {p.get('error', 'no profile') if p else 'no profile'}"]
                continue
            md += [f"### {phase} ({p['wall_under_profiler']:.1f} s under the profiler, {p['samples']} samples)", "",
                   "| component | inclusive | self |", "|---|---:|---:|"]
            selfs = dict(p["self"])
            md += [f"| {k} | {v:.0%} | {selfs.get(k, 0):.0%} |" for k, v in p["inclusive"]]
            md += ["", "Project functions (inclusive):", ""]
            md += [f"- {v:.0%} `{k}`" for k, v in p["project_functions"][:10]]
            md += ["", "Hottest leaf frames (self):", ""]
            md += [f"- {v:.0%} `{k}`" for k, v in p["self_functions"][:10]]
            md += [""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(md) + "\n", encoding="utf-8")
    return tg


def server_throughput(args: argparse.Namespace) -> dict[str, Any]:
    """A short bounded load test of the server on this machine: ab when installed, else a Python client."""
    site = BenchSite(1000, args.seed)
    paths = [s.path for s in site.specs]
    with ServerProcess(1000, args.seed) as srv:
        ab = shutil.which("ab")
        if ab:
            got = {}
            for label, extra in (("200, new connection per request", []),):
                text = sh([ab, "-q", "-n", "5000", "-c", "16", *extra, srv.base + paths[1]])
                m = re.search(r"Requests per second:\s+([\d.]+)", text)
                got[label] = float(m.group(1)) if m else 0.0
            r200 = load_test(srv.base, paths, 16, False, 3.0)
            r304 = load_test(srv.base, paths, 16, True, 3.0)
            summary = (f"{got['200, new connection per request']:.0f} requests/s with a new connection per request "
                       f"(ab -c 16, like urlwatch); ≥ {r200['rps']:.0f} (200) and ≥ {r304['rps']:.0f} (304) "
                       "requests/s over 16 keep-alive connections (a Python client, itself the limit; like Scrapy)")
            return {"how": "`ab` and a Python keep-alive client", "summary": summary, "ab": got, "keepalive_200": r200,
                    "keepalive_304": r304}
        r200 = load_test(srv.base, paths, 16, False, 3.0)
        r304 = load_test(srv.base, paths, 16, True, 3.0)
        return {"how": "a Python keep-alive client (16 threads; the client is the limit)",
                "summary": f"≥ {r200['rps']:.0f} (200) and ≥ {r304['rps']:.0f} (304) requests/s",
                "keepalive_200": r200, "keepalive_304": r304}


def main() -> None:
    global TIMEOUT, YIBAO_CMD, CODE_ROOT
    ap = argparse.ArgumentParser(description="yibao-watch vs urlwatch vs bare Scrapy (issue 9).")
    ap.add_argument("--n", type=int, action="append", help="pages/sources; repeat (default: 1000 and 10000)")
    ap.add_argument("--quick", action="store_true", help="smoke run: N=200, growth 200 sources x 5 runs")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--growth-sources", type=int)
    ap.add_argument("--growth-runs", type=int)
    ap.add_argument("--skip-sizes", action="store_true", help="run none of the per-N benchmarks")
    ap.add_argument("--skip-growth", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="run each tool's phases R times, taking turns, and "
                                                           "report the median (per N)")
    ap.add_argument("--skip-urlwatch", action="store_true")
    ap.add_argument("--profile", action="store_true", help="also record py-spy profiles of yibao runs")
    ap.add_argument("--profile-n", type=int, default=1000)
    ap.add_argument("--extract-pages", type=int, default=2000, help="pages for 'extraction alone' (at most N)")
    ap.add_argument("--reuse", action="store_true", help="report also the saved sections (out/sections/*.json) "
                                                         "of earlier invocations for the parts not run now")
    ap.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds before a child is killed")
    ap.add_argument("--report-only", action="store_true", help="measure nothing: rewrite the results from the saved "
                                                               "sections (profiles re-summarised from their raw "
                                                               "stacks)")
    ap.add_argument("--keep-snapshot", action="store_true", help="measure the snapshot already in OUT/code (from an "
                                                                 "earlier invocation) instead of taking a new one")
    ap.add_argument("--live", action="store_true", help="run the working tree's code, not a snapshot of it taken "
                                                        "at the start (edits during the run then change what is "
                                                        "measured)")
    ap.add_argument("--out", type=Path, default=BENCH / "out")
    ap.add_argument("--results", type=Path, help="default benchmarks/RESULTS.md (--quick: out/RESULTS-quick.md)")
    args = ap.parse_args()
    if args.quick:
        args.n = args.n or [200]
        args.growth_sources = args.growth_sources or 200
        args.growth_runs = args.growth_runs or 5
        args.profile_n = min(args.profile_n, max(args.n))
        args.out = args.out / "quick" if args.out == BENCH / "out" else args.out
    args.n = [] if args.skip_sizes else sorted(set(args.n or [1000, 10000]))
    args.growth_sources = args.growth_sources or 1000
    args.growth_runs = args.growth_runs or 30
    args.results = args.results or (args.out / "RESULTS-quick.md" if args.quick else BENCH / "RESULTS.md")
    args.out.mkdir(parents=True, exist_ok=True)
    TIMEOUT = args.timeout
    command = shlex.join([os.path.relpath(sys.executable, ROOT), os.path.relpath(__file__, ROOT), *sys.argv[1:]])
    t0 = time.perf_counter()
    if not YIBAO.exists():
        sys.exit(f"{YIBAO} not found: run `make venv` first")
    if not args.live and not args.report_only:
        CODE_ROOT = snapshot_code(args.out) if not (args.keep_snapshot and (args.out / "code").is_dir()) \
            else args.out / "code"
        YIBAO_CMD = [str(PY), str(args.out / "yibao_snapshot.py")]
        os.environ["PYTHONPATH"] = os.pathsep.join([str(CODE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    fp = code_fingerprint()
    print(f"code: {'snapshot of the tree' if not args.live else 'the live tree'}: sha256 {fp['sha256']}, newest file "
          f"{fp['newest_file']}", flush=True)
    log: list[str] = []
    sections: dict[str, dict[str, Any]] = {}
    saved_env = load_section(args, "env") if args.report_only else None
    if saved_env:
        mach, server = saved_env["data"]["machine"], saved_env["data"]["server"]
        startup = Measure(**saved_env["data"]["startup"])
    else:
        uw_version = "" if args.skip_urlwatch else ensure_urlwatch()
        mach = machine(uw_version or "not run")
        print(f"machine: {mach['nproc']} × {mach['cpu']}, {mach['ram']}; Python {mach['python']}, Scrapy "
              f"{mach['scrapy']}, urlwatch {mach['urlwatch']}", flush=True)
        server = server_throughput(args)
        print(f"server: {server['summary']}", flush=True)
        startup = timed("yibao", "--help", [*YIBAO_CMD, "--help"], args.out, args.out / "startup.log")
        save_section(args, "env", {"machine": mach, "server": server, "startup": asdict(startup)}, command,
                     code_fingerprint())
    if args.report_only:
        args.n, args.skip_growth, args.profile, args.reuse = [], True, False, True

    def section(name: str, fn: Any) -> None:
        before = code_fingerprint()
        data = fn()
        save_section(args, name, data, command, before)
        loaded = load_section(args, name)
        assert loaded is not None
        sections[name] = loaded

    for n in args.n:
        section(f"n{n}", lambda n=n: bench_n(n, args, log))
    if not args.skip_growth:
        section("growth", lambda: growth(args, log))
    if args.profile:
        section("profile", lambda: profile(args, log))
    if args.reuse:
        for path in sorted((args.out / "sections").glob("*.json")):
            if path.stem not in sections and path.stem != "env":
                sections[path.stem] = json.loads(path.read_text("utf-8"))
    if args.report_only and "profile" in sections:  # categories may have changed since
        for phase, p in sections["profile"]["data"].items():
            raw = args.out / "profile" / f"{phase}.txt"
            if isinstance(p, dict) and "samples" in p and raw.exists():
                p.update(summarise_profile(raw))
    results = {int(k[1:]): v["data"] for k, v in sections.items() if re.fullmatch(r"n\d+", k)}
    grow = sections["growth"]["data"] if "growth" in sections else None
    prof = sections["profile"]["data"] if "profile" in sections else None
    elapsed = time.perf_counter() - t0
    tg = write_results(args.results, args, mach, server, results, grow, prof, startup, command, elapsed, sections)
    (args.out / "results.json").write_text(json.dumps(
        {"command": command, "machine": mach, "server": server, "sections": sections, "targets": tg}, indent=1,
        ensure_ascii=False, default=str), encoding="utf-8")
    print()
    for n, res in sorted(results.items()):
        print(f"N = {n}")
        for row in phase_table(res):
            print(row)
        print()
    width = max(len(a) for a, _, _ in tg)
    for a, b, c in tg:
        print(f"{c:<8} {a:<{width}}  {b}")
    print(f"\nwrote {os.path.relpath(args.results, Path.cwd())} ({elapsed / 60:.1f} min)")


if __name__ == "__main__":
    main()
