"""The ``heavylegs`` command: parse arguments, call the library, print, set the exit status.

Library errors (:class:`~heavylegs_sync.errors.HeavyLegsError`) become one-line messages
here and nowhere else. Exit status: 0 success, 1 something failed, 2 bad usage.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from heavylegs_sync import __version__, logs
from heavylegs_sync.environment import ENV_CONFIG, ENV_DB
from heavylegs_sync.errors import HeavyLegsError, Interrupted
from heavylegs_sync.kinds import Category, Decoder
from heavylegs_sync.output import OutputFormatError, choose_format, text_width

# Everything else is imported where a command needs it: `heavylegs --version` and
# `heavylegs today` must start quickly, and numpy, the decoders or pandas cost seconds.
if TYPE_CHECKING:
    from rich.console import Console

    from heavylegs_sync.config import Settings
    from heavylegs_sync.importers import DecodeOptions
    from heavylegs_sync.ingest import FileResult, ImportSummary
    from heavylegs_sync.store import Store

#: Formats ``report`` writes.
REPORT_FORMATS = ("text", "json", "html")
#: Formats ``watch --report`` rewrites after every burst (no charts to redraw each time).
WATCH_REPORT_FORMATS = ("text", "json")


@dataclass
class _Context:
    config: Path | None
    db: Path | None
    verbosity: int = 0  # -v count minus -q count

    def settings(self) -> Settings:
        from heavylegs_sync.config import load_settings

        return load_settings(config=self.config, db=self.db)


def _decode_options(
    settings: Settings, gpx_sport: str | None = None, decoder: Decoder = Decoder.AUTO
) -> DecodeOptions:
    """What the decoders need from the settings (import and watch alike)."""
    from heavylegs_sync.hr.timeline import ZoneBasis
    from heavylegs_sync.importers import DecodeOptions

    return DecodeOptions(
        zone=settings.zoneinfo(),
        gpx_sport=gpx_sport or settings.imports.gpx_sport,
        max_bytes=settings.imports.max_bytes,
        max_archive_bytes=settings.imports.max_archive_bytes,
        max_export_rows=settings.imports.max_export_rows,
        decoder=decoder,
        peaks=settings.athlete.max_hr is None,  # only an estimate of max HR needs them
        zone_basis=ZoneBasis(settings.athlete, settings.zones, settings.rules.max_gap_s),
    )


def _open_store(path: Path, *, read_only: bool = False) -> Store:
    """The store (imported here, not at start-up)."""
    from heavylegs_sync.store import Store

    return Store.open(path, read_only=read_only)


@contextmanager
def _errors(done: ImportSummary | None = None) -> Iterator[None]:
    """Turn our own errors into a one-line message and exit status 1; with ``done``, an
    import that stops says what it stored before it stopped."""
    try:
        yield
    except HeavyLegsError as exc:
        if done is not None and (done.new or done.duplicate or done.failed or done.skipped):
            raise click.ClickException(f"{exc} (stopped after: {done.line()})") from exc
        raise click.ClickException(str(exc)) from exc


#: Signals that end a command early; each ends its decoding workers too.
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


@contextmanager
def _interruptible() -> Iterator[None]:
    """Turn SIGTERM, SIGINT and SIGHUP into :class:`Interrupted`, raised where the work
    is: the transaction in hand rolls back, the workers are killed on the way out, and
    further signals are ignored while that happens."""

    def stop(signum: int, _frame: object) -> None:
        for number in _STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {number: signal.signal(number, stop) for number in _STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="heavylegs")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=ENV_DB,
    help=f"Store file (default: the user data folder). Env: {ENV_DB}.",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=ENV_CONFIG,
    help=f"Settings file (TOML). Env: {ENV_CONFIG}.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Say more: -v every file imported, -vv also files skipped (logging level).",
)
@click.option(
    "-q",
    "--quiet",
    count=True,
    help="Say less: -q only failures and findings, no summary on success; -qq failures only.",
)
@click.pass_context
def main(
    ctx: click.Context, db: Path | None, config: Path | None, verbose: int, quiet: int
) -> None:
    """Import a runner's training and find the training causes of heavy legs."""
    ctx.obj = _Context(config=config, db=db, verbosity=verbose - quiet)
    logs.configure(verbose - quiet)


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
    help="Decoder: fast (fitfast for FIT), reference (fitparse for FIT, gpxpy for GPX),"
    " or auto (fast, else reference).",
)
@click.pass_obj
def import_command(
    obj: _Context,
    paths: tuple[Path, ...],
    workers: int | None,
    gpx_sport: str | None,
    decoder: str,
) -> None:
    """Import FIT, GPX and TCX files (also .gz), zip archives, Strava and Garmin exports,
    or folders of them, recursively."""
    from rich.console import Console

    from heavylegs_sync.categories import known_sport

    err = Console(stderr=True, highlight=False)
    if gpx_sport and not known_sport(gpx_sport):
        raise click.BadParameter(
            f"{gpx_sport!r} is not a sport heavylegs knows", param_hint="--gpx-sport"
        )
    from heavylegs_sync.ingest import ImportSummary

    done = ImportSummary()  # what was stored so far, said when the import stops early
    try:
        with _errors(done), _interruptible():
            settings = obj.settings()
            options = _decode_options(settings, gpx_sport, Decoder(decoder))
            with _open_store(settings.db_path) as store:
                count = workers or os.cpu_count() or 1
                summary = _run_import(store, list(paths), options, count, err, done)
                if summary.new_ids:
                    from heavylegs_sync.decoding import DecodePool
                    from heavylegs_sync.diagnosis import derive

                    with DecodePool(count) as pool:  # the zone times still missing
                        derive(store, settings, pool)  # so the first report reads no samples
    except Interrupted as exc:
        name = signal.Signals(exc.signum).name
        click.echo(
            f"error: interrupted by {name}: {done.line()} before it; every file stored is"
            " kept, the rest is imported by running the same command again",
            err=True,
        )
        sys.exit(128 + exc.signum)
    if obj.verbosity >= 0 or summary.failed:
        click.echo(summary.line())
        for line in summary.note_lines():
            click.echo(f"note: {line}", err=True)
    if summary.failed:
        sys.exit(1)


def _run_import(
    store: Store,
    paths: list[Path],
    options: DecodeOptions,
    workers: int,
    err: Console,
    done: ImportSummary,
) -> ImportSummary:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from heavylegs_sync.importers.archives import is_archive
    from heavylegs_sync.importers.strava_export import is_export_csv
    from heavylegs_sync.ingest import find_files, import_paths

    def report(result: FileResult) -> None:
        done.add(result)
        if result.outcome == "failed":
            err.print(f"error: {result.shown}: {result.message}", markup=False, soft_wrap=True)
        for warning in result.warnings:
            err.print(f"warning: {result.shown}: {warning}", markup=False, soft_wrap=True)
        for note in result.notes:
            if note.per_file:
                err.print(f"note: {result.shown}: {note.text}", markup=False, soft_wrap=True)

    if not err.is_terminal:
        return import_paths(store, paths, options, progress=report, workers=workers)
    found = [path for path, _ in find_files(paths)]
    # An archive holds an unknown number of files: then the bar counts without a total.
    total = None if any(is_archive(p) or is_export_csv(p) for p in found) else len(found)
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
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default=None,
    help="Output format (default: from the -o file's suffix, else text).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the listing to this file instead of printing it.",
)
@click.pass_obj
def activities_command(
    obj: _Context,
    since: Any,
    until: Any,
    category: str | None,
    output_format: str | None,
    output: Path | None,
) -> None:
    """List stored activities, oldest first, in each activity's local time."""
    from heavylegs_sync.report.activities import activities_csv, activities_json

    chosen = _output_format(output, output_format, ("text", "json", "csv"))
    with _errors():
        settings = obj.settings()
        with _open_store(settings.db_path, read_only=True) as store:
            rows = store.activities_on_days(
                since.date() if since else None, until.date() if until else None
            )
        if category:
            rows = [a for a in rows if a.category.value == category]
        if chosen in ("json", "csv"):
            text = activities_json(rows) if chosen == "json" else activities_csv(rows)
            if output is None:
                click.echo(text, nl=False)
            else:
                from heavylegs_sync.report.render import write_atomically

                write_atomically(output, text)
            return
    if not rows:
        click.echo("no activities stored" + (" in that range" if since or until else ""))
        return
    from heavylegs_sync.report.activities import activities_text

    click.echo(activities_text(rows, text_width(default=160)), nl=False)


@main.command("report")
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), help="First local day (default: 8 weeks back)."
)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last local day (default: today).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(REPORT_FORMATS),
    help="text, json or html (default: from the -o file's suffix, else text).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of printing it (.json: JSON, .html: HTML).",
)
@click.pass_obj
def report_command(
    obj: _Context, since: Any, until: Any, output_format: str | None, output: Path | None
) -> None:
    """Week by week: which training causes of heavy legs are present, with evidence."""
    from heavylegs_sync.diagnosis import analyse_store, from_strava, today_store
    from heavylegs_sync.report.render import render, render_empty, write_atomically

    chosen = _output_format(output, output_format, REPORT_FORMATS)
    with _errors():
        settings = obj.settings()
        last = until.date() if until else datetime.now(settings.zoneinfo()).date()
        first = since.date() if since else None
        if first is not None and first > last:
            raise click.UsageError(f"--since {first} is after --until {last}")
        unsaved: dict[str, dict[int, str]] = {}
        with _open_store(settings.db_path, read_only=True) as store:
            if store.count() == 0:
                text = render_empty(first or last, last, chosen)
            else:
                analysis = analyse_store(store, settings, last, first)
                width = text_width() if output is None else None
                strava = chosen == "html" and from_strava(store, analysis)
                # The page also answers "why are my legs heavy?" for the last day.
                today = today_store(store, settings, last).to_dict() if chosen == "html" else None
                unsaved = store.unsaved_derived()
                text = render(analysis, chosen, width=width, strava=strava, today=today)
        if output is None:
            click.echo(text, nl=False)
        else:
            write_atomically(output, text)
            if obj.verbosity >= 0:
                click.echo(f"report written to {output}", err=True)
    _keep_figures(settings, unsaved)


#: Formats ``today`` writes.
TODAY_FORMATS = ("text", "json")


@main.command("today")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The day to explain (default: today in [athlete] timezone).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(TODAY_FORMATS),
    help="text or json (default: from the -o file's suffix, else text).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the answer to this file instead of printing it (.json: JSON).",
)
@click.pass_obj
def today_command(obj: _Context, day: Any, output_format: str | None, output: Path | None) -> None:
    """Why are my legs heavy today? The training causes, strongest first (docs/today.md)."""
    from heavylegs_sync.diagnosis import today_store
    from heavylegs_sync.report.render import write_atomically
    from heavylegs_sync.report.today import today_json, today_text

    chosen = _output_format(output, output_format, TODAY_FORMATS)
    with _errors():
        settings = obj.settings()
        when = day.date() if day else datetime.now(settings.zoneinfo()).date()
        with _open_store(settings.db_path, read_only=True) as store:
            answer = today_store(store, settings, when)
            unsaved = store.unsaved_derived()
        text = today_json(answer) if chosen == "json" else today_text(answer)
        if output is None:
            click.echo(text, nl=False)
        else:
            write_atomically(output, text)
            if obj.verbosity >= 0:
                click.echo(f"answer written to {output}", err=True)
    if chosen == "json":  # the text says these itself
        for note in answer.notes:
            click.echo(f"note: {note}", err=True)
        if answer.activities == 0:
            click.echo(f"note: no activity before {when} is imported: nothing judged", err=True)
    _keep_figures(settings, unsaved)


@main.command("info")
@click.pass_obj
def info_command(obj: _Context) -> None:
    """Where the store and settings are, what the store holds, where max HR comes from."""
    from heavylegs_sync.housekeeping import info_text, store_info

    with _errors():
        click.echo(info_text(store_info(obj.settings())), nl=False)


@main.command("check")
@click.option(
    "--quick", is_flag=True, help="SQLite's quick_check: faster, does not compare indexes."
)
@click.pass_obj
def check_command(obj: _Context, quick: bool) -> None:
    """Check the store for damage (SQLite's integrity check); name the activities affected."""
    from heavylegs_sync.store.check import check_store

    with _errors():
        settings = obj.settings()
        result = check_store(settings.db_path, quick=quick)
    where = settings.db_path
    if result.ok:
        if obj.verbosity >= 0:
            click.echo(f"{where}: ok ({result.method}; {result.activities_read} activities read)")
        return
    if result.unreadable is not None:
        raise click.ClickException(
            f"{where}: cannot be checked ({result.unreadable}): the file is damaged or not a"
            " store; restore a backup of it"
        )  # no activity can be named when SQLite cannot read the file's header
    click.echo(f"{where}: damaged: {len(result.problems)} problems found by {result.method}")
    if result.tables:
        click.echo(f"  tables and indexes damaged: {', '.join(result.tables)}")
    if result.activities:
        ids = " ".join(str(i) for i in result.activities[:30])
        more = f" ... ({len(result.activities)} in all)" if len(result.activities) > 30 else ""
        click.echo(f"  activities affected: {ids}{more}")
        if not more:
            click.echo(f"    to drop them: heavylegs forget --yes {ids}, then import them again")
    else:
        click.echo(f"  every activity reads back ({result.activities_read})")
    for problem in result.problems[:5]:
        click.echo(f"  sqlite: {problem}")
    raise click.ClickException(
        f"{where}: the store is damaged; restore a backup of it, or forget the activities"
        " named above and import them again"
    )


@main.command("config")
@click.option(
    "--sample", "what", flag_value="sample", help="Print a settings file with every default."
)
@click.option("--docs", "what", flag_value="docs", help="Print the settings reference (Markdown).")
@click.pass_obj
def config_command(obj: _Context, what: str | None) -> None:
    """Check the settings file in use; or print a sample file or the settings reference."""
    from heavylegs_sync.config_docs import sample_toml, settings_markdown

    if what is not None:
        click.echo(sample_toml() if what == "sample" else settings_markdown(), nl=False)
        return
    with _errors():
        settings = obj.settings()
    where = settings.config_path or "none (defaults and environment only)"
    click.echo(f"settings file: {where}: ok")


@main.command("forget")
@click.argument("ids", nargs=-1, type=click.IntRange(min=1))
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also the activities imported from this file (repeatable).",
)
@click.option("--yes", is_flag=True, help="Do not ask (needed when there is no terminal).")
@click.pass_obj
def forget_command(
    obj: _Context, ids: tuple[int, ...], sources: tuple[Path, ...], yes: bool
) -> None:
    """Remove activities by id (as 'heavylegs activities' shows), with every copy of them."""
    from heavylegs_sync.housekeeping import forget_targets, target_line

    if not ids and not sources:
        raise click.UsageError("name the activities to forget: IDs and/or --source FILE")
    with _errors():
        settings = obj.settings()
        with _open_store(settings.db_path, read_only=True) as store:
            targets, unknown = forget_targets(store, ids, sources)
        for name in unknown:
            click.echo(f"error: {name}: no such activity in the store", err=True)
        if not targets:
            sys.exit(1)
        click.echo(f"{len(targets)} activit{'y' if len(targets) == 1 else 'ies'} to forget:")
        for target in targets:
            click.echo(target_line(target))
        if not yes:
            if not sys.stdin.isatty():
                click.echo("error: not forgetting: no terminal to confirm on; add --yes", err=True)
                sys.exit(1)
            if not click.confirm("Remove them from the store?", default=False):
                click.echo("nothing removed")
                sys.exit(1)
        with _open_store(settings.db_path) as store:
            records, files = store.forget(targets)
    if obj.verbosity >= 0:
        click.echo(
            f"forgot {len(targets)} activit{'y' if len(targets) == 1 else 'ies'}"
            f" ({records} stored records, {files} file records)"
        )
    if unknown:
        sys.exit(1)


class _BadOutput(click.ClickException):
    """A usage mistake worth one line, not the usage text (exit status 2)."""

    exit_code = 2


def _output_format(output: Path | None, explicit: str | None, supported: tuple[str, ...]) -> str:
    """The format for ``-o FILE``/``--format`` (see :func:`heavylegs_sync.output.choose_format`);
    an unsupported suffix is a one-line usage error, before any work is done."""
    try:
        return choose_format(output, explicit, supported)
    except OutputFormatError as exc:
        raise _BadOutput(str(exc)) from exc


def _keep_figures(settings: Settings, unsaved: dict[str, dict[int, str]]) -> None:
    """Save the figures a read-only analysis had to compute (zone times, HR peaks), so the
    next report reads no samples. Only this cache is written: never a new store, never a
    migration. A failure costs only speed, so it is logged, not fatal."""
    if not unsaved:
        return
    try:
        with _open_store(settings.db_path, read_only=True):
            pass  # still there, still this schema: the writer below will not migrate
        with _open_store(settings.db_path) as store:
            for kind, values in unsaved.items():
                store.save_derived(kind, values)
    except HeavyLegsError as exc:
        logging.getLogger("heavylegs.report").warning("computed figures not kept: %s", exc)


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
    help="Rewrite this report after every import burst (.json: JSON, else text).",
)
@click.option(
    "--rejected",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep a copy of each file that cannot be imported here, with a .reason.txt beside it.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Same as heavylegs -v: -v every file imported, -vv also files skipped.",
)
@click.pass_obj
def watch_command(
    obj: _Context,
    folders: tuple[Path, ...],
    once: bool,
    settle: float,
    poll: bool,
    report: Path | None,
    rejected: Path | None,
    verbose: int,
) -> None:
    """Keep folders imported and the diagnosis current (a long-running service)."""
    from heavylegs_sync.watch import FolderWatcher, WatchOptions

    if verbose:
        obj.verbosity += verbose
        logs.configure(obj.verbosity)
    report_format = _output_format(report, None, WATCH_REPORT_FORMATS) if report else "text"
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        logging.getLogger("heavylegs.watch").log(
            logs.NOTICE, "stopping (%s)", signal.Signals(signum).name
        )
        stop.set()

    for number in _STOP_SIGNALS:
        signal.signal(number, request_stop)
    with _errors():
        settings = obj.settings()
        options = WatchOptions(
            folders=[f.resolve() for f in folders],
            settle_s=settle,
            rejected=rejected.resolve() if rejected else None,
            report=report,
            report_format=report_format,
            polling=poll,
            once=once,
        )
        decode = _decode_options(settings)
        with _open_store(settings.db_path) as store:
            status = FolderWatcher(store, settings, decode, options, stop=stop).run()
    sys.exit(status)


@main.group("strava")
def strava_group() -> None:
    """Connect a Strava account and sync it (see docs/strava.md)."""


class _ClickUI:
    """The connect flow's conversation, on the terminal."""

    def show(self, text: str) -> None:
        click.echo(text)

    def ask(self, text: str) -> str:
        return str(click.prompt(text))

    def open_browser(self, url: str) -> None:
        import webbrowser

        webbrowser.open(url)


@strava_group.command("connect")
@click.option(
    "--code",
    metavar="ADDRESS",
    help="Finish with the address the browser ended on (or a code from elsewhere); asks nothing.",
)
@click.option("--paste", is_flag=True, help="Headless: open the link anywhere, paste the address.")
@click.option("--no-browser", is_flag=True, help="Print the link instead of opening a browser.")
@click.option("--timeout", type=click.IntRange(10, 3600), default=300, show_default=True)
@click.pass_obj
def strava_connect(
    obj: _Context, code: str | None, paste: bool, no_browser: bool, timeout: int
) -> None:
    """Allow heavylegs to read your Strava activities (OAuth)."""
    from heavylegs_sync.strava.oauth import connect

    with _errors():
        done = connect(
            obj.settings(),
            _ClickUI(),
            code=code,
            paste=paste,
            browser=not no_browser,
            interactive=sys.stdin.isatty(),
            timeout_s=timeout,
        )
    for warning in done.warnings:
        click.echo(f"warning: {warning}", err=True)
    athlete = f" as athlete {done.athlete_id}" if done.athlete_id else ""
    click.echo(f"connected to Strava{athlete}; tokens saved in {done.token_path}")


@strava_group.command("sync")
@click.option(
    "--full",
    is_flag=True,
    help="Re-read the whole activity list (streams already stored are not fetched again).",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Leave out activities before this local day, now and later (after a Strava export).",
)
@click.pass_obj
def strava_sync(obj: _Context, full: bool, since: Any) -> None:
    """Fetch new Strava activities (incremental; safe to run from cron every night)."""
    from heavylegs_sync.strava.sync import sync_store

    with _errors():
        settings = obj.settings()
        floor = since.replace(tzinfo=settings.zoneinfo()) if since else None
        result = sync_store(settings, full=full, since=floor)
    if result.failure:
        click.echo(f"error: {result.line()}", err=True)
        sys.exit(1)
    if obj.verbosity >= 0:
        click.echo(result.line())


@strava_group.command("disconnect")
@click.option("--purge", is_flag=True, help="Also delete every activity that came from Strava.")
@click.pass_obj
def strava_disconnect(obj: _Context, purge: bool) -> None:
    """Revoke heavylegs' Strava access and forget the tokens."""
    from heavylegs_sync.strava.oauth import disconnect

    with _errors():
        done = disconnect(obj.settings(), purge=purge)
    purged = "" if done.purged is None else f"; deleted {done.purged} Strava activities"
    if done.error:
        click.echo(f"error: {done.error}{purged}", err=True)
        sys.exit(1)
    if done.revoked_with:
        text = f"disconnected from Strava (access revoked with {done.revoked_with})"
    else:
        text = "disconnected from Strava (no tokens were saved)"
    click.echo(text + purged)


if __name__ == "__main__":  # pragma: no cover
    main()
