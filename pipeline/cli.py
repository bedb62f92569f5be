"""The `yibao` command: a thin layer of subcommands over the pipeline's functions."""
from __future__ import annotations

import json
import logging
import sys
import urllib.request
from pathlib import Path
from typing import Any

import click

from .config import Config, ConfigError, config_path, load_config
from .run import EXIT_RUN_FAILED, RunFailed, run_once

log = logging.getLogger("yibao")


def _config(ctx: click.Context) -> Config:
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


@main.command()
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
    config = _config(ctx)
    verbose += ctx.find_root().obj.get("verbose", 0)
    due_filter = None
    if due:
        from .schedule import due_sources

        due_filter = due_sources(config)
    try:
        report = run_once(config, list(sources) or None, due=due_filter)
    except (RunFailed, ConfigError) as exc:
        click.echo(f"yibao run: {exc}", err=True)
        sys.exit(EXIT_RUN_FAILED)
    except Exception as exc:  # noqa: BLE001 - one line for cron, the traceback under -vv
        log.debug("run failed", exc_info=True)
        click.echo(f"yibao run: failed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_RUN_FAILED)
    counts = report.counts
    if verbose:
        click.echo(report.summary_line())
    elif sum(counts.events.values()) or counts.failed_sources or counts.delivery_failures:
        click.echo(report.summary_line())
    sys.exit(report.exit_code)


def _read_input(item: str) -> tuple[bytes, str | None, str | None]:
    """Bytes, URL and Content-Type of a path or an http(s) URL."""
    if item.startswith(("http://", "https://")):
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


@main.command()
@click.option("--what", type=click.Choice(["current", "wide", "history", "changes"]), default="current",
              show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="FILE.csv or FILE.xlsx")
@click.option("--region", "regions", multiple=True, help="Only these regions (repeatable).")
@click.option("--province", "provinces", multiple=True)
@click.option("--metric", "metrics", multiple=True)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only rows seen or detected on/after.")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only rows seen or detected before.")
@click.pass_context
def export(ctx: click.Context, what: str, output: str, regions: tuple[str, ...], provinces: tuple[str, ...],
           metrics: tuple[str, ...], since: Any, until: Any) -> None:
    """Write current figures, the wide table, the history or the change events as CSV/XLSX.

    \b
    Example:
      yibao export --what changes -o changes.csv --region 潍坊市
    """
    from .export import ExportFilter, export_table

    config = _config(ctx)
    flt = ExportFilter(list(regions), list(provinces), list(metrics), since, until)
    try:
        n = export_table(config.database.url, what, Path(output), flt)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {n} rows to {output}", err=True)


@main.command()
@click.argument("region")
@click.option("--metric", help="Only this metric (base_min, rate, …).")
@click.option("--scheme", type=click.Choice(["flexible", "resident", "employee"]))
@click.pass_context
def history(ctx: click.Context, region: str, metric: str | None, scheme: str | None) -> None:
    """Print a region's figures over time, with their sources and evidence.

    \b
    Example:
      yibao history 潍坊市 --metric base_max
    """
    from .export import history_lines

    config = _config(ctx)
    lines = history_lines(config.database.url, region, metric, scheme)
    if not lines:
        click.echo(f"no figures recorded for {region}", err=True)
        sys.exit(1)
    for line in lines:
        click.echo(line)


@main.group()
def db() -> None:
    """Database schema commands."""


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


@main.command()
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
    """The delivery outbox and the alert channels."""


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


if __name__ == "__main__":
    main()
