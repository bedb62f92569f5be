"""The `yibao` command: a thin layer of subcommands over the pipeline's functions."""
from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from crawler.child import CrawlChild

    from .config import Config
    from .run import RunReport

log = logging.getLogger("yibao")


def _config(ctx: click.Context) -> Config:
    """The config, loaded once; imported here, not with the module: `yibao run` forks its crawl process
    first, and the sooner it forks, the sooner Scrapy is loaded (see crawler.child)."""
    from .config import ConfigError, config_path, load_config

    obj = ctx.find_root().obj
    if "config" not in obj:
        try:
            obj["config"] = load_config(config_path(obj.get("config_path")))
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
    config: Config = obj["config"]
    return config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path_", metavar="FILE", envvar="YIBAO_CONFIG",
              help="TOML config (default: $YIBAO_CONFIG, then ./yibao.toml).")
@click.option("-v", "--verbose", count=True, help="-v: a summary line; -vv: debug logging.")
@click.version_option(package_name="yibao-watch")
@click.pass_context
def main(ctx: click.Context, config_path_: str | None, verbose: int) -> None:
    """Watch medical-insurance (医保) payment pages and report when a figure changes.

    \b
    Example:
      yibao --config yibao.toml run -v
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path_
    ctx.obj["verbose"] = verbose
    level = logging.DEBUG if verbose >= 2 else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        # Scrapy resets the root logger's level; the handler's own level keeps cron quiet.
        handler.setLevel(level)


@main.command(short_help="Crawl, extract, diff and alert: one run.")
@click.option("--source", "sources", multiple=True, metavar="ID", help="Only this source (repeatable).")
@click.option("--due", is_flag=True, help="Only sources whose schedule says they are due.")
@click.option("-v", "--verbose", count=True, help="Print one summary line.")
@click.pass_context
def run(ctx: click.Context, sources: tuple[str, ...], due: bool, verbose: int) -> None:
    """Crawl every source, extract, diff, record change events and deliver alerts.

    Silent unless something changed or failed, so cron mails only then.
    Exit status: 0 ok, 1 some sources failed, 2 the run failed.

    \b
    Example:
      yibao --config yibao.toml run --source weifang-bendibao-flexible -v
    """
    from crawler.child import CrawlChild

    verbose += ctx.find_root().obj.get("verbose", 0)
    # forked before the storage is imported: Scrapy loads in the child while this process opens the database
    with CrawlChild() as crawl_child:
        report = _run(ctx, sources, due, crawl_child)
    counts = report.counts
    if verbose:
        click.echo(report.summary_line())
    elif sum(counts.events.values()) or counts.failed_sources or counts.delivery_failures:
        click.echo(report.summary_line())
    global _RUN_FINISHED
    _RUN_FINISHED = True
    sys.exit(report.exit_code)


def _run(ctx: click.Context, sources: tuple[str, ...], due: bool, crawl_child: CrawlChild) -> RunReport:
    """run_once, with a run's failure as one line on stderr and exit status 2."""
    from .config import ConfigError
    from .run import EXIT_RUN_FAILED, RunFailed, run_once

    config = _config(ctx)
    try:
        due_filter = None
        if due:
            from .schedule import due_sources

            due_filter = due_sources(config)
        return run_once(config, list(sources) or None, due=due_filter, crawl_child=crawl_child)
    except (RunFailed, ConfigError) as exc:
        click.echo(f"yibao run: {exc}", err=True)
        sys.exit(EXIT_RUN_FAILED)
    except Exception as exc:  # noqa: BLE001 - one line for cron, the traceback under -vv
        log.debug("run failed", exc_info=True)
        click.echo(f"yibao run: failed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_RUN_FAILED)


def _read_input(item: str) -> tuple[bytes, str | None, str | None]:
    """Bytes, URL and Content-Type of a path or an http(s) URL."""
    if item.startswith(("http://", "https://")):
        import urllib.request

        req = urllib.request.Request(item, headers={"User-Agent": "yibao-watch/0.1 (extract)"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read(), item, resp.headers.get("Content-Type")
    path = Path(item)
    data = path.read_bytes()
    ctype = "text/html" if path.suffix.lower() in (".html", ".htm") else (
        "text/plain" if path.suffix.lower() == ".txt" else None)
    return data, None, ctype


FACT_FIELDS = ("page", "region", "province", "scheme", "metric", "value", "unit", "year", "qualifier", "evidence")


@main.command()
@click.argument("pages", nargs=-1, required=True, metavar="PATH_OR_URL...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per fact per line (FACTS.md fields).")
@click.option("--region", metavar="R", help="The region the page is about, as a source would configure it.")
@click.option("--province", metavar="P", help="The province of --region.")
def extract(pages: tuple[str, ...], as_json: bool, region: str | None, province: str | None) -> None:
    """Print the facts of each page (.html or .txt, a file or a URL).

    \b
    Example:
      yibao extract page.html --json --region 潍坊市
    """
    from extractors import extract_facts

    failed = 0
    for item in pages:
        try:
            data, url, ctype = _read_input(item)
            facts = extract_facts(data, url=url, region_hint=region, province_hint=province, content_type=ctype)
        except (OSError, ValueError) as exc:
            click.echo(f"yibao extract: {item}: {exc}", err=True)
            failed += 1
            continue
        for f in facts:
            row: dict[str, Any] = {"page": item, **{k: getattr(f, k) for k in FACT_FIELDS if k != "page"}}
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                qual = f"（{f.qualifier}）" if f.qualifier else ""
                click.echo(f"{item}\t{f.region or '-'}\t{f.scheme or '-'}\t{f.metric}\t{f.value} {f.unit}\t"
                           f"{f.year or '-'}{qual}\t{f.evidence[:60]}")
    if failed:
        sys.exit(1)


DATE = click.DateTime(formats=["%Y-%m-%d"])


def _tell(ctx: click.Context, message: str) -> None:
    """A line for a person at a terminal (or under -v); nothing under cron, whose mail it would be."""
    from .progress import is_terminal

    if ctx.find_root().obj.get("verbose") or is_terminal(sys.stderr):
        click.echo(message, err=True)


def _check_regions(url: str, regions: tuple[str, ...]) -> None:
    from .export import known_regions

    if not regions:
        return
    known = known_regions(url)
    unknown = [r for r in regions if r not in known]
    if unknown:
        raise click.ClickException(f"no figures recorded for {', '.join(unknown)}; "
                                   f"known regions: {', '.join(known) or 'none yet (run `yibao run` first)'}")


@main.command(short_help="Tables for analysts, as CSV or XLSX.")
@click.option("--what", type=click.Choice(["current", "wide", "history", "changes"]), default="current",
              show_default=True, help="current: the figures now, one row each; wide: one row per region and scheme, "
              "one column per metric; history: every version; changes: the change events.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="FILE.csv (UTF-8 with BOM, for Excel) or FILE.xlsx.")
@click.option("--region", "regions", multiple=True, metavar="R", help="Only this region, e.g. 潍坊市 (repeatable).")
@click.option("--province", "provinces", multiple=True, metavar="P", help="Only this province (repeatable).")
@click.option("--metric", "metrics", multiple=True, metavar="M",
              help="Only this metric: base_min, base_max, rate, … (repeatable).")
@click.option("--since", type=DATE, metavar="DATE",
              help="Only rows last seen (current, wide), observed (history) or detected (changes) on or after "
              "DATE, UTC.")
@click.option("--until", type=DATE, metavar="DATE", help="The same, on or before DATE.")
@click.pass_context
def export(ctx: click.Context, what: str, output: str, regions: tuple[str, ...], provinces: tuple[str, ...],
           metrics: tuple[str, ...], since: Any, until: Any) -> None:
    """Write current figures, the wide table, the history or the change events as CSV or XLSX.

    Text a page could control is neutralised against spreadsheet formulas (a
    leading = + - @ tab or CR gets an apostrophe); numbers stay numbers.

    \b
    Example:
      yibao export --what changes -o changes.csv --region 潍坊市 --since 2025-01-01
      yibao export --what wide -o figures.xlsx --metric base_min --metric base_max
    """
    from datetime import timedelta

    from .export import ExportFilter, export_table

    config = _config(ctx)
    try:
        flt = ExportFilter(list(regions), list(provinces), list(metrics), since,
                           until + timedelta(days=1) if until else None)
        _check_regions(config.database.url, regions)
        n = export_table(config.database.url, what, Path(output), flt)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    _tell(ctx, f"wrote {n} rows to {output}")


@main.command(short_help="A region's figures over time, with evidence.")
@click.argument("region")
@click.option("--metric", help="Only this metric (base_min, rate, …).")
@click.option("--scheme", type=click.Choice(["flexible", "resident", "employee"]))
@click.pass_context
def history(ctx: click.Context, region: str, metric: str | None, scheme: str | None) -> None:
    """Print a region's figures over time, with their sources and evidence.

    Exit status 1 when nothing is recorded for REGION (the known regions are listed).

    \b
    Example:
      yibao history 潍坊市 --metric base_max
    """
    from .export import history_lines, known_regions

    config = _config(ctx)
    try:
        lines = history_lines(config.database.url, region, metric, scheme)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if not lines:
        known = known_regions(config.database.url)
        click.echo(f"no figures recorded for {region}" + (f" {metric}" if metric else "")
                   + f"; known regions: {', '.join(known) or 'none yet'}", err=True)
        sys.exit(1)
    for line in lines:
        click.echo(line)


@main.command(short_help="One self-contained HTML page with charts.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), metavar="FILE.html",
              help="Where to write the page.")
@click.option("--since", type=DATE, metavar="DATE",
              help="List the changes detected on or after DATE, UTC (default: the last 30 days).")
@click.option("--region", "regions", multiple=True, metavar="R", help="Only this region (repeatable).")
@click.pass_context
def report(ctx: click.Context, output: str, since: Any, regions: tuple[str, ...]) -> None:
    """Write one self-contained HTML page: changes, current figures, history charts, sources.

    The page needs no network to open: charts are embedded PNGs, CSS is
    inline, and there is no script. On a terminal it shows progress.

    \b
    Example:
      yibao report -o report.html --since 2025-01-01 --region 潍坊市
    """
    from datetime import timezone

    from .report import write_report

    config = _config(ctx)
    try:
        _check_regions(config.database.url, regions)
        done = write_report(config.database.url, Path(output), since.replace(tzinfo=timezone.utc) if since else None,
                            list(regions))
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    _tell(ctx, f"wrote {output}: {done.regions} regions, {done.charts} charts, {done.changes} changes, "
               f"{done.size / 1024:.0f} KiB in {done.seconds:.1f} s")


@main.group()
def db() -> None:
    """Database schema commands.

    \b
    Example:
      yibao --config yibao.toml db upgrade
    """


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or upgrade the schema to this version's (Alembic).

    \b
    Example:
      yibao --config yibao.toml db upgrade
    """
    from storage.db import head_revision, make_engine, upgrade

    config = _config(ctx)
    engine = make_engine(config.database.url)
    upgrade(engine)
    click.echo(f"database at schema {head_revision(engine)}: {engine.url.render_as_string(hide_password=True)}")


@main.command(short_help="The two-run demo on a bundled site.")
@click.option("--dir", "workdir", type=click.Path(file_okay=False), default="yibao-demo", show_default=True,
              help="Where the demo database, config, alerts and CSV go.")
def demo(workdir: str) -> None:
    """Run the pipeline twice on a bundled demo site and print the change events.

    \b
    Example:
      yibao demo --dir /tmp/yibao-demo
    """
    from .demo import run_demo

    sys.exit(run_demo(Path(workdir)))


@main.group()
def alerts() -> None:
    """The delivery outbox and the alert channels.

    \b
    Example:
      yibao alerts status
    """


@alerts.command("status")
@click.pass_context
def alerts_status(ctx: click.Context) -> None:
    """Show pending, sent and failed deliveries per channel.

    \b
    Example:
      yibao alerts status
    """
    from .outbox import status_lines

    config = _config(ctx)
    for line in status_lines(config):
        click.echo(line)


@alerts.command("test")
@click.argument("channel")
@click.pass_context
def alerts_test(ctx: click.Context, channel: str) -> None:
    """Send a sample notice through one channel (its name, or TYPE-N).

    \b
    Example:
      yibao alerts test webhook-1
    """
    from .outbox import send_test

    config = _config(ctx)
    try:
        send_test(config, channel)
    except (KeyError, ValueError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None
    except Exception as exc:  # noqa: BLE001
        raise click.ClickException(f"{channel}: {exc}") from None
    click.echo(f"sent a test notice through {channel}")


@main.command()
@click.option("--list", "list_only", is_flag=True, help="Print the jobs and their next run times, and exit.")
@click.pass_context
def schedule(ctx: click.Context, list_only: bool) -> None:
    """Run the scheduler daemon: each cron expression fires `yibao run` in a child process.

    A source's `schedule`, else [schedule] cron (default daily 07:30
    Asia/Shanghai). Jobs are kept in the database; a tick missed while the
    daemon was down runs on restart when within misfire_grace_seconds. One run
    at a time: a tick that finds a run going logs and skips. SIGTERM stops it
    cleanly. Logs go to stderr.

    \b
    Example:
      yibao --config yibao.toml schedule --list
      yibao --config yibao.toml schedule
    """
    from .daemon import Daemon, describe

    config = _config(ctx)
    if not config.source:
        raise click.ClickException("no [[source]] in the config: nothing to schedule")
    if list_only:
        for line in describe(config):
            click.echo(line)
        return
    for name in ("pipeline.daemon", "apscheduler"):
        logging.getLogger(name).setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.setLevel(min(handler.level, logging.INFO))
    sys.exit(Daemon(config).serve())


@main.group("sources")
def sources_group() -> None:
    """The configured sources.

    \b
    Example:
      yibao sources check weifang-bendibao-flexible
    """


@sources_group.command("check")
@click.argument("source_id", metavar="ID")
@click.pass_context
def sources_check(ctx: click.Context, source_id: str) -> None:
    """Fetch one source now, with the configured politeness, and print what came back; no database.

    One line per fetch (role, outcome, status, ms, bytes, facts found, URL),
    articles included for a listing. Every request is unconditional, so this
    shows what the site serves today. Exit 0 when the page or listing
    answered, 1 when it did not.

    \b
    Example:
      yibao sources check weifang-bendibao-flexible
    """
    from crawler import CrawlSource, FetchResult, crawl, polite_settings
    from extractors import extract_facts

    config = _config(ctx)
    src = next((s for s in config.source if s.id == source_id), None)
    if src is None:
        raise click.ClickException(f"unknown source {source_id}; configured: "
                                   f"{', '.join(s.id for s in config.source) or 'none'}")
    results: list[FetchResult] = []
    crawl([CrawlSource(src.id, src.url, src.kind, src.follow, src.max_articles, src.crawl_overrides())], {},
          results.append, polite_settings(config.crawl.user_agent, config.crawl.contact,
                                          **config.crawl.scrapy_overrides()))
    for r in sorted(results, key=lambda r: (r.role == "article", r.rank)):
        facts = "-"
        if r.outcome == "ok" and r.body is not None:
            try:
                facts = str(len(extract_facts(r.body, url=r.url, region_hint=src.region, province_hint=src.province,
                                              content_type=r.content_type)))
            except Exception as exc:  # noqa: BLE001 - report, as the run would
                facts = f"extractor failed: {type(exc).__name__}"
        size = len(r.body) if r.body is not None else 0
        click.echo(f"{r.role}\t{r.outcome}\t{r.status or '-'}\t{r.elapsed_ms or 0} ms\t{size} B\t"
                   f"{facts} facts\t{r.url}" + (f"\t{r.error}" if r.error else ""))
    main_ok = any(r.ok for r in results if r.role in ("page", "listing"))
    sys.exit(0 if main_ok else 1)


_RUN_FINISHED = False  # `run` got to its exit status: everything is committed, closed and joined


def entry() -> None:
    """The console script: :func:`main`, and after a finished run an exit without heap teardown.

    A run's process ends holding the crawl's objects; the interpreter's
    finalisation freed them one by one — 0.4 s of a 2.5 s no-change rerun
    of 1000 sources. By then the database is committed and closed, the lock
    released and the writer joined, so only output is left to flush. Other
    commands (the daemon, the demo) exit normally: their atexit handlers
    stop servers and children.
    """
    try:
        main()
        code: int | str | None = 0
    except SystemExit as exc:
        code = exc.code
    if not _RUN_FINISHED:
        sys.exit(code)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


if __name__ == "__main__":
    entry()
