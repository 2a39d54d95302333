"""The ``heavylegs`` command: parse arguments, call the library, print, set the exit status.

Library errors (:class:`~heavylegs_sync.errors.HeavyLegsError`) become one-line messages
here and nowhere else. Exit status: 0 success, 1 something failed, 2 bad usage.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import threading
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import click
from filelock import FileLock
from filelock import Timeout as LockTimeout
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from heavylegs_sync import __version__
from heavylegs_sync.categories import known_sport
from heavylegs_sync.config import Settings, load_settings
from heavylegs_sync.errors import HeavyLegsError, StravaError, StravaReconnect
from heavylegs_sync.importers import DecodeOptions, Decoder
from heavylegs_sync.ingest import FileResult, find_files, import_paths
from heavylegs_sync.model import Activity, Category
from heavylegs_sync.store import Store

if TYPE_CHECKING:
    from heavylegs_sync.strava.client import StravaAPI


@dataclass
class _Context:
    config: Path | None
    db: Path | None

    def settings(self) -> Settings:
        return load_settings(config=self.config, db=self.db)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn our own errors into a one-line message and exit status 1."""
    try:
        yield
    except HeavyLegsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="heavylegs")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="HEAVYLEGS_DB",
    help="Store file (default: the user data folder). Env: HEAVYLEGS_DB.",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="HEAVYLEGS_CONFIG",
    help="Settings file (TOML). Env: HEAVYLEGS_CONFIG.",
)
@click.pass_context
def main(ctx: click.Context, db: Path | None, config: Path | None) -> None:
    """Import a runner's training and find the training causes of heavy legs."""
    ctx.obj = _Context(config=config, db=db)


@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes that decode files (default: one per CPU).",
)
@click.option("--gpx-sport", help="Sport for GPX files without <type> (default: inferred).")
@click.option(
    "--decoder",
    type=click.Choice([d.value for d in Decoder]),
    default=Decoder.AUTO.value,
    show_default=True,
    help="FIT decoder: fast (fitfast), reference (fitparse), or auto (fast, else reference).",
)
@click.pass_obj
def import_command(
    obj: _Context,
    paths: tuple[Path, ...],
    workers: int | None,
    gpx_sport: str | None,
    decoder: str,
) -> None:
    """Import FIT and GPX files (also .gz), or folders of them, recursively."""
    err = Console(stderr=True, highlight=False)
    if gpx_sport and not known_sport(gpx_sport):
        raise click.BadParameter(
            f"{gpx_sport!r} is not a sport heavylegs knows", param_hint="--gpx-sport"
        )
    with _errors():
        settings = obj.settings()
        options = DecodeOptions(
            zone=settings.zoneinfo(),
            gpx_sport=gpx_sport or settings.imports.gpx_sport,
            decoder=Decoder(decoder),
        )
        with Store.open(settings.db_path) as store:
            summary = _run_import(store, list(paths), options, workers or os.cpu_count() or 1, err)
            if summary.new_ids:
                from heavylegs_sync.reporting import derive

                derive(store, settings)  # so the first report reads no samples
    click.echo(summary.line())
    if summary.failed:
        sys.exit(1)


def _run_import(
    store: Store, paths: list[Path], options: DecodeOptions, workers: int, err: Console
) -> Any:
    def report(result: FileResult) -> None:
        if result.outcome == "failed":
            err.print(f"error: {result.path}: {result.message}", markup=False, soft_wrap=True)

    if not err.is_terminal:
        return import_paths(store, paths, options, progress=report, workers=workers)
    total = sum(1 for _ in find_files(paths))
    columns = (
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("import", total=total)

        def advance(result: FileResult) -> None:
            report(result)
            bar.advance(task)

        return import_paths(store, paths, options, progress=advance, workers=workers)


@main.command("activities")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First local day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last local day (YYYY-MM-DD).")
@click.option(
    "--category",
    type=click.Choice([c.value for c in Category]),
    help="Only this category.",
)
@click.pass_obj
def activities_command(obj: _Context, since: Any, until: Any, category: str | None) -> None:
    """List stored activities, oldest first, in each activity's local time."""
    with _errors():
        settings = obj.settings()
        with Store.open(settings.db_path) as store:
            rows = store.activities_on_days(
                since.date() if since else None, until.date() if until else None
            )
    if category:
        rows = [a for a in rows if a.category.value == category]
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    if not rows:
        out.print("no activities stored" + (" in that range" if since or until else ""))
        return
    out.print(activities_table(rows))


@main.command("report")
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), help="First local day (default: 8 weeks back)."
)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last local day (default: today).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of printing it.",
)
@click.pass_obj
def report_command(
    obj: _Context, since: Any, until: Any, output_format: str, output: Path | None
) -> None:
    """Week by week: which training causes of heavy legs are present, with evidence."""
    from heavylegs_sync.reporting import analyse_store, render, write_atomically

    with _errors():
        settings = obj.settings()
        last = until.date() if until else datetime.now(settings.zoneinfo()).date()
        first = since.date() if since else None
        if first is not None and first > last:
            raise click.UsageError(f"--since {first} is after --until {last}")
        with Store.open(settings.db_path) as store:
            analysis = analyse_store(store, settings, last, first)
        text = render(analysis, output_format)
        if output is None:
            click.echo(text, nl=False)
        else:
            write_atomically(output, text)
            click.echo(f"report written to {output}", err=True)


@main.command("watch")
@click.argument(
    "folders",
    nargs=-1,
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
)
@click.option("--once", is_flag=True, help="Import what is there now, then exit (for cron).")
@click.option(
    "--settle",
    type=click.FloatRange(0.1, 600),
    default=2.0,
    show_default=True,
    help="Seconds a file must stay unchanged before it is imported.",
)
@click.option("--poll", is_flag=True, help="Poll instead of file events (network shares).")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rewrite this report after every import burst (.json for JSON).",
)
@click.option(
    "--rejected",
    type=click.Path(file_okay=False, path_type=Path),
    help="Move files that cannot be imported here, with a .reason.txt beside each.",
)
@click.option("-v", "--verbose", is_flag=True, help="Also log files skipped as unchanged.")
@click.pass_obj
def watch_command(
    obj: _Context,
    folders: tuple[Path, ...],
    once: bool,
    settle: float,
    poll: bool,
    report: Path | None,
    rejected: Path | None,
    verbose: bool,
) -> None:
    """Keep folders imported and the diagnosis current (a long-running service)."""
    from heavylegs_sync.watch import FolderWatcher, WatchOptions

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(message)s",
        stream=sys.stderr,
    )
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        logging.getLogger("heavylegs.watch").info("stopping (%s)", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with _errors():
        settings = obj.settings()
        options = WatchOptions(
            folders=[f.resolve() for f in folders],
            settle_s=settle,
            rejected=rejected.resolve() if rejected else None,
            report=report,
            polling=poll,
            once=once,
        )
        decode = DecodeOptions(zone=settings.zoneinfo(), gpx_sport=settings.imports.gpx_sport)
        with Store.open(settings.db_path) as store:
            status = FolderWatcher(store, settings, decode, options, stop=stop).run()
    sys.exit(status)


@main.group("strava")
def strava_group() -> None:
    """Connect a Strava account and sync it (see docs/strava.md)."""


def _strava_api(settings: Settings) -> StravaAPI:
    from heavylegs_sync.strava.client import StravaAPI

    return StravaAPI(settings.strava, settings.strava.token_path(settings.db_path))


@strava_group.command("connect")
@click.option("--code", help="Finish with the code from the redirect URL; asks nothing.")
@click.option("--paste", is_flag=True, help="Headless: open the link anywhere, paste the result.")
@click.option("--no-browser", is_flag=True, help="Print the link instead of opening a browser.")
@click.option("--timeout", type=click.IntRange(10, 3600), default=300, show_default=True)
@click.pass_obj
def strava_connect(
    obj: _Context, code: str | None, paste: bool, no_browser: bool, timeout: int
) -> None:
    """Allow heavylegs to read your Strava activities (OAuth)."""
    from heavylegs_sync.strava.oauth import RedirectCatcher, check_scope, code_from_paste

    with _errors():
        settings = obj.settings()
        api = _strava_api(settings)
        if code:
            token = api.exchange(code)
        elif not sys.stdin.isatty():
            raise StravaError(
                "no terminal to finish connecting: open "
                + api.authorization_url(
                    f"http://127.0.0.1:{settings.strava.redirect_port}/authorized", "manual"
                )
                + " in a browser, then run 'heavylegs strava connect --code CODE' with the code"
                " from the address Strava sends you to"
            )
        elif paste:
            state = secrets.token_urlsafe(16)
            url = api.authorization_url("http://127.0.0.1/authorized", state)
            click.echo(f"Open this link in any browser and allow access:\n\n  {url}\n")
            click.echo("The browser then fails to load a 127.0.0.1 page: copy its address.")
            pasted = click.prompt("Paste that address (or just the code)")
            if "state=" in pasted and f"state={state}" not in pasted:
                raise StravaError("that address is from another connect attempt (state differs)")
            warning = check_scope(parse_qs(urlparse(pasted.strip()).query).get("scope", [None])[0])
            if warning:
                click.echo(f"warning: {warning}", err=True)
            token = api.exchange(code_from_paste(pasted))
        else:
            state = secrets.token_urlsafe(16)
            catcher = RedirectCatcher(state, settings.strava.redirect_port)
            url = api.authorization_url(catcher.redirect_uri, state)
            click.echo(f"Allow access in your browser:\n\n  {url}\n")
            if not no_browser:
                webbrowser.open(url)
            click.echo(f"Waiting up to {timeout} s for Strava ... (Ctrl-C to stop)")
            code = catcher.wait(timeout)
            warning = check_scope(catcher.outcome.scope)
            if warning:
                click.echo(f"warning: {warning}", err=True)
            token = api.exchange(code)
    athlete = f" as athlete {token.athlete_id}" if token.athlete_id else ""
    click.echo(f"connected to Strava{athlete}; tokens saved in {api.token_path}")


@strava_group.command("sync")
@click.pass_obj
def strava_sync(obj: _Context) -> None:
    """Fetch new Strava activities (incremental; safe to run from cron every night)."""
    from heavylegs_sync.strava.sync import sync

    with _errors():
        settings = obj.settings()
        lock = FileLock(str(settings.db_path) + ".strava.lock")
        try:
            lock.acquire(timeout=0)
        except LockTimeout:
            raise StravaError("another 'heavylegs strava sync' is running on this store") from None
        try:
            with Store.open(settings.db_path) as store:
                result = sync(_strava_api(settings), store, per_page=settings.strava.per_page)
        finally:
            lock.release()
    click.echo(result.line())
    if result.failure:
        sys.exit(1)


@strava_group.command("disconnect")
@click.option("--purge", is_flag=True, help="Also delete every activity that came from Strava.")
@click.pass_obj
def strava_disconnect(obj: _Context, purge: bool) -> None:
    """Revoke heavylegs' Strava access and forget the tokens."""
    from heavylegs_sync.strava.tokens import delete_token

    with _errors():
        settings = obj.settings()
        api = _strava_api(settings)
        try:
            api.login()
            api.deauthorize()
        except StravaReconnect:
            pass  # no usable access left: nothing to revoke
        removed = delete_token(api.token_path)
        purged = 0
        if purge:
            with Store.open(settings.db_path) as store:
                purged = store.purge_source("strava")
    click.echo(
        "disconnected from Strava"
        + ("" if removed else " (no tokens were saved)")
        + (f"; deleted {purged} Strava activities" if purge else "")
    )


def activities_table(rows: list[Activity]) -> Table:
    """The ``activities`` listing as a rich table."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for title, justify in (
        ("id", "right"),
        ("date (local)", "left"),
        ("category", "left"),
        ("sport", "left"),
        ("duration", "right"),
        ("km", "right"),
        ("avg HR", "right"),
        ("sources", "left"),
    ):
        table.add_column(title, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for a in rows:
        local = a.start_local
        sport = a.sport or "?"
        if a.sub_sport and a.sub_sport not in ("generic", a.sport):
            sport += f"/{a.sub_sport}"
        if a.sport_inferred:
            sport += " (inferred)"
        table.add_row(
            str(a.id),
            f"{local:%Y-%m-%d %a %H:%M} {_offset_text(a.utc_offset_s)}",
            a.category.value,
            sport,
            _duration_text(a.duration_s),
            f"{a.distance_m / 1000:.2f}" if a.distance_m else "",
            f"{a.avg_hr:.0f}" if a.avg_hr else "",
            ",".join(a.sources),
        )
    return table


def _offset_text(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}"


def _duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


if __name__ == "__main__":  # pragma: no cover
    main()
