"""The ``heavylegs`` command: parse arguments, call the library, print, set the exit status.

Library errors (:class:`~heavylegs_sync.errors.HeavyLegsError`) become one-line messages
here and nowhere else. Exit status: 0 success, 1 something failed, 2 bad usage.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from heavylegs_sync import __version__, interrupts, logs
from heavylegs_sync.environment import ENV_ATHLETE, ENV_CONFIG, ENV_DB
from heavylegs_sync.errors import HeavyLegsError, Interrupted
from heavylegs_sync.kinds import Category, Decoder
from heavylegs_sync.output import OutputFormatError, choose_format, text_width
from heavylegs_sync.words import plural

# Everything else is imported where a command needs it: `heavylegs --version` and
# `heavylegs today` must start quickly, and numpy, the decoders or pandas cost seconds.
if TYPE_CHECKING:
    from rich.console import Console

    from heavylegs_sync.config import Settings
    from heavylegs_sync.importers import DecodeOptions
    from heavylegs_sync.ingest import FileResult, ImportSummary
    from heavylegs_sync.store import Store
    from heavylegs_sync.watch import WatchOptions

#: Formats ``report`` writes.
REPORT_FORMATS = ("text", "json", "html")
#: Formats ``watch --report`` rewrites at start-up and after every burst.
WATCH_REPORT_FORMATS = ("text", "json", "html")
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130
#: Commands people type that live elsewhere, and where.
MOVED_COMMANDS = {
    "sync": "strava sync",
    "connect": "strava connect",
    "disconnect": "strava disconnect",
    "list": "activities",
    "status": "info",
}


class _Day(click.DateTime):
    """A local day, shown in the help as ``YYYY-MM-DD`` (not ``[%Y-%m-%d]``)."""

    name = "date"

    def __init__(self) -> None:
        super().__init__(["%Y-%m-%d"])

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "YYYY-MM-DD"


DAY = _Day()


F = TypeVar("F", bound=Callable[..., Any])


def _day_range(since: Any, until: Any) -> tuple[date | None, date | None]:
    """``--since``/``--until`` as days; a range that ends before it starts is a usage error."""
    first = since.date() if since else None
    last = until.date() if until else None
    if first is not None and last is not None and first > last:
        raise click.UsageError(f"--since {first} is after --until {last}")
    return first, last


def _put_listing(obj: _Context, text: str, output: Path | None) -> None:
    """A listing printed, or written to ``-o FILE`` atomically (and said so)."""
    if output is None:
        click.echo(text, nl=False)
        return
    from heavylegs_sync.report.render import write_atomically

    write_atomically(output, text)
    if obj.verbosity >= 0:
        click.echo(f"listing written to {output}", err=True)


def _listing_output(command: F) -> F:
    """``--format text|json|csv`` and ``-o FILE``, as every listing (activities, wellness)
    takes them."""
    command = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the listing to this file instead of printing it (.json, .csv, else text).",
    )(command)
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json", "csv"]),
        default=None,
        help="Output format (default: from the -o file's suffix, else text).",
    )(command)


class _Commands(click.Group):
    """The command group; a command that lives under another name says where."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else None
        if name in MOVED_COMMANDS and self.get_command(ctx, name) is None:
            ctx.fail(f"no command {name!r}: did you mean 'heavylegs {MOVED_COMMANDS[name]}'?")
        return super().resolve_command(ctx, args)


@dataclass
class _Context:
    """What the group's options give every command."""

    config: Path | None
    db: str | None
    verbosity: int = 0  # -v count minus -q count
    athlete: str | None = None

    def settings(self) -> Settings:
        """The settings as the command's athlete sees them (service.athlete_settings)."""
        from heavylegs_sync.service import athlete_settings

        return athlete_settings(self.given_settings())

    def given_settings(self) -> Settings:
        """The settings from the flags, environment and file, before the store is asked
        about the athlete (for a service call that asks it on the store it opens)."""
        from heavylegs_sync.config import load_settings

        return load_settings(config=self.config, db=self.db, athlete=self.athlete)

    def settings_file(self) -> str:
        """The settings file in use, as a person should look for it."""
        from heavylegs_sync.config import default_config_path

        path = self.config or os.environ.get(ENV_CONFIG) or default_config_path()
        if Path(path).is_file():
            return str(path)
        return f"none; create {path} to set it"


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


def _open_store(settings: Settings, *, read_only: bool = False, unscoped: bool = False) -> Store:
    """The store the settings name, scoped to their athlete (see service.open_store)."""
    from heavylegs_sync.service import open_store

    return open_store(settings, read_only=read_only, unscoped=unscoped)


@contextmanager
def _errors(obj: _Context | None = None, done: ImportSummary | None = None) -> Iterator[None]:
    """Turn our own errors into a one-line message and exit status 1. An error found after
    the settings were read that names a setting (``[athlete] resting_hr``, ``[strava]
    client_id``) also names the settings file in use: what to change is there. With
    ``done``, an import that stops says what it stored before it stopped."""
    try:
        yield
    except HeavyLegsError as exc:
        import re

        from heavylegs_sync.config import SECTIONS
        from heavylegs_sync.errors import ConfigError

        text = str(exc)
        sections = "|".join(SECTIONS)
        later = not isinstance(exc, ConfigError)  # reading the settings names the file itself
        if obj is not None and later and re.search(rf"\[({sections})\]", text):
            where = obj.settings_file()
            if where not in text:
                text += f" (settings: {where})"
        if done is not None and (done.new or done.duplicate or done.failed or done.skipped):
            text += f" (stopped after: {done.line()})"
        raise click.ClickException(text) from exc


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
        if interrupts.defer(signum):  # a file being stored and counted: raised after it
            return
        raise Interrupted(signum)

    previous = {number: signal.signal(number, stop) for number in _STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="heavylegs")
@click.option(
    "--db",
    metavar="FILE|URL",
    envvar=ENV_DB,
    help="Store: an SQLite file (default: in the user data folder) or a PostgreSQL"
    f" database, postgresql://user@host/dbname. Env: {ENV_DB}.",
)
@click.option(
    "--athlete",
    metavar="NAME",
    envvar=ENV_ATHLETE,
    help="Whose data a command reads and writes, in a store of several athletes"
    f" (heavylegs athletes list). Env: {ENV_ATHLETE}.",
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
    help="Say more: -v every file imported, -vv also files skipped (also after a command).",
)
@click.option(
    "-q",
    "--quiet",
    count=True,
    help="Say less: -q failures and findings only (no warnings, no summary); -qq failures only.",
)
@click.pass_context
def main(
    ctx: click.Context,
    db: str | None,
    athlete: str | None,
    config: Path | None,
    verbose: int,
    quiet: int,
) -> None:
    """Import a runner's training and find the training causes of heavy legs."""
    ctx.obj = _Context(config=config, db=db or None, verbosity=verbose - quiet, athlete=athlete)
    logs.configure(verbose - quiet)


def run() -> None:
    """The ``heavylegs`` program (its console script, and ``python -m heavylegs_sync``):
    :func:`main`, in a process that ends when it returns."""
    try:
        main()
    finally:
        # The process exits now: the objects a command built are left to the end of the
        # process rather than to the interpreter's last collection, which looks at each
        # of them (0.05 s of the coach's view on the club bench). Files are closed and
        # logs flushed by then (atexit), as they are without this.
        gc.freeze()


def _athlete_option(whose: str) -> Callable[[Any], Any]:
    """``--athlete NAME`` after the command name too: the same as ``heavylegs --athlete``
    (``whose``: what the help says it chooses)."""

    def adjust(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is not None and isinstance(ctx.obj, _Context):
            if ctx.obj.athlete is not None and ctx.obj.athlete != value:
                raise click.BadParameter(
                    f"{value!r}, but heavylegs --athlete (or {ENV_ATHLETE}) names"
                    f" {ctx.obj.athlete!r}: name one athlete"
                )
            ctx.obj.athlete = value
        return value

    def decorate(command: Any) -> Any:
        return click.option(
            "--athlete",
            metavar="NAME",
            expose_value=False,
            callback=adjust,
            help=f"{whose}: the same as heavylegs --athlete NAME.",
        )(command)

    return decorate


def _notify_option(command: Any) -> Any:
    """``--notify URL``: where a new cause of heavy legs is announced."""
    return click.option(
        "--notify",
        metavar="URL",
        multiple=True,
        help="Send a short message here when a new cause appears (an Apprise address:"
        " ntfy://topic, mailto://..., json://host/path; repeatable; adds to [notify] urls).",
    )(command)


def _loudness(command: Any) -> Any:
    """``-v``/``-q`` after a command name too, adding to the ones before it."""

    def adjust(ctx: click.Context, param: click.Parameter, value: int) -> int:
        if value and isinstance(ctx.obj, _Context):
            ctx.obj.verbosity += value if param.name == "verbose" else -value
            logs.configure(ctx.obj.verbosity)
        return value

    command = click.option(
        "-q",
        "--quiet",
        count=True,
        expose_value=False,
        callback=adjust,
        help="Same as heavylegs -q: -q failures and findings only, -qq failures only.",
    )(command)
    return click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        callback=adjust,
        help="Same as heavylegs -v: -v every file imported, -vv also files skipped.",
    )(command)


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
@_loudness
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
    from heavylegs_sync.ingest import ImportSummary

    err = Console(stderr=True, highlight=False)
    if gpx_sport and not known_sport(gpx_sport):
        raise click.BadParameter(
            f"{gpx_sport!r} is not a sport heavylegs knows", param_hint="--gpx-sport"
        )
    done = ImportSummary()  # what was stored so far, said when the import stops early
    try:
        with _errors(obj, done), _interruptible():
            settings = obj.settings()
            options = _decode_options(settings, gpx_sport, Decoder(decoder))
            with _open_store(settings) as store:
                count = workers or os.cpu_count() or 1
                summary = _run_import(store, list(paths), options, count, err, obj, done)
                if summary.new_ids:
                    from heavylegs_sync.decoding import DecodePool
                    from heavylegs_sync.diagnosis import derive, redate_store

                    redate_store(store, settings)  # new evidence of the athlete's zone
                    with DecodePool(count) as pool:  # the zone times still missing
                        derive(store, settings, pool)  # so the first report reads no samples
    except Interrupted as exc:
        name = signal.Signals(exc.signum).name
        fresh_line = "\n" if sys.stderr.isatty() else ""  # after ^C on a terminal
        click.echo(
            f"{fresh_line}error: interrupted by {name}: every file stored is kept"
            f" ({done.line()}); run 'heavylegs import' again to go on (what is stored is"
            " not imported twice)",
            err=True,
        )
        sys.exit(128 + exc.signum)
    if obj.verbosity >= 0 or (summary.faulty and obj.verbosity >= -1):
        click.echo(_fitted(summary.line()))
        for line in summary.note_lines():
            click.echo(f"note: {line}", err=True)
    if not (summary.new or summary.duplicate or summary.skipped or summary.failed):
        from heavylegs_sync.housekeeping import nothing_importable

        why, files = nothing_importable(list(paths))
        if files:  # pointed at the wrong thing: a failure
            click.echo(f"error: {why}", err=True)
            sys.exit(1)
        if obj.verbosity >= 0:  # an empty inbox: nothing wrong
            click.echo(f"note: {why}", err=True)
    if summary.faulty:
        sys.exit(1)


@contextmanager
def _interrupted(what: str, summary: ImportSummary | None = None) -> Iterator[None]:
    """Ctrl-C ends a long run with what was kept and how to go on, not Python's traceback
    or click's bare "Aborted!"; exit status 130."""
    try:
        yield
    except KeyboardInterrupt:
        if summary is not None:
            kept = f"kept what was imported before ({summary.line()})"
        else:
            kept = "kept every activity stored before"
        fresh_line = "\n" if sys.stderr.isatty() else ""  # after ^C on a terminal
        click.echo(
            f"{fresh_line}interrupted: {kept}; run 'heavylegs {what}' again to go on"
            " (what is stored is not fetched or imported twice)",
            err=True,
        )
        sys.exit(INTERRUPTED)


def _run_import(
    store: Store,
    paths: list[Path],
    options: DecodeOptions,
    workers: int,
    err: Console,
    obj: _Context,
    summary: ImportSummary,
) -> ImportSummary:
    """Import with a progress bar on a terminal; one line per failure, per warning unless
    -q, per file imported with -v and per file skipped with -vv. ``summary`` counts as the
    files go, so an interrupted run can say what it kept."""
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

    def say(text: str) -> None:
        err.print(text, markup=False, soft_wrap=True, highlight=False)

    def report(result: FileResult) -> None:
        summary.add(result)
        if result.outcome == "failed":
            say(f"error: {result.shown}: {result.message}")
        elif result.outcome == "new" and obj.verbosity >= 1:
            say(f"imported {result.shown} ({result.contents})")
        elif result.outcome in ("duplicate", "skipped") and obj.verbosity >= 2:
            why = "already imported" if result.outcome == "duplicate" else "skipped"
            say(f"{why}: {result.shown}" + (f" ({result.message})" if result.message else ""))
        for line in result.rejected:
            say(f"error: {result.shown}: {line}")
        if obj.verbosity >= 0:
            for warning in result.warnings:
                say(f"warning: {result.shown}: {warning}")
        for note in result.notes:
            if note.per_file:
                say(f"note: {result.shown}: {note.text}")

    if not err.is_terminal:
        import_paths(store, paths, options, progress=report, workers=workers)
        return summary
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

        import_paths(store, paths, options, progress=advance, workers=workers)
    return summary


@main.command("activities")
@click.option("--since", type=DAY, help="First local day.")
@click.option("--until", type=DAY, help="Last local day.")
@click.option(
    "--category",
    type=click.Choice([c.value for c in Category]),
    help="Only this category.",
)
@_listing_output
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
    from heavylegs_sync.diagnosis import athlete_zones, local_activities
    from heavylegs_sync.report.activities import (
        TEXT_WIDTH,
        activities_csv,
        activities_json,
        activities_text,
    )

    chosen = _output_format(output, output_format, ("text", "json", "csv"))
    first, last = _day_range(since, until)
    with _errors(obj):
        settings = obj.settings()
        with _open_store(settings, read_only=True) as store:
            zones = athlete_zones(store, settings)
            rows = local_activities(store, zones, first, last)
        if category:
            rows = [a for a in rows if a.category.value == category]
        if chosen == "json":
            text = activities_json(rows, zones)
        elif chosen == "csv":
            text = activities_csv(rows, zones)
        elif not rows:
            text = "no activities stored" + (" in that range" if since or until else "") + "\n"
        else:  # a file is laid out as for a pipe: the documented width
            text = activities_text(rows, TEXT_WIDTH if output else text_width(TEXT_WIDTH), zones)
        _put_listing(obj, text, output)


@main.command("wellness")
@click.option("--since", type=DAY, help="First day.")
@click.option("--until", type=DAY, help="Last day.")
@_listing_output
@click.pass_obj
def wellness_command(
    obj: _Context, since: Any, until: Any, output_format: str | None, output: Path | None
) -> None:
    """List the stored sleep, resting heart rate and HRV, one line a day, each value with
    the source it came from (the richest of several)."""
    from heavylegs_sync import service
    from heavylegs_sync.report.wellness import wellness_csv, wellness_json, wellness_text

    chosen = _output_format(output, output_format, ("text", "json", "csv"))
    first, last = _day_range(since, until)
    with _errors(obj):
        days = service.wellness(obj.settings(), first, last)
        if chosen == "json":
            text = wellness_json(days)
        elif chosen == "csv":
            text = wellness_csv(days)
        elif not days:
            text = "no wellness data stored" + (" in that range" if since or until else "") + "\n"
        else:
            text = wellness_text(days)
        _put_listing(obj, text, output)


@main.command("report")
@click.option("--since", type=DAY, help="First local day (default: 8 weeks back).")
@click.option("--until", type=DAY, help="Last local day (default: today).")
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
    from heavylegs_sync import service
    from heavylegs_sync.report.render import write_atomically

    chosen = _output_format(output, output_format, REPORT_FORMATS)
    with _errors(obj):
        settings = obj.settings()
        first, last = _day_range(since, until)
        width = text_width() if output is None else None
        # Without --until: today in the athlete's zone, as the activities say (a server's
        # clock is UTC).
        result = service.report(
            settings, last=last, clock=_now(), first=first, output_format=chosen, width=width
        )
        if output is None:
            click.echo(result.text, nl=False)
        else:
            write_atomically(output, result.text)
            if obj.verbosity >= 0:
                click.echo(f"report written to {output}", err=True)


#: Formats ``today`` writes.
TODAY_FORMATS = ("text", "json")


@main.command("today")
@click.option(
    "--date",
    "day",
    type=DAY,
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
    """Why are my legs heavy today? The training causes present on a day, strongest first,
    each with what to do about it."""
    from heavylegs_sync import service
    from heavylegs_sync.report.today import notes, today_json, today_text

    chosen = _output_format(output, output_format, TODAY_FORMATS)
    with _errors(obj):
        when = day.date() if day else None  # None: the athlete's today
        # The settings as given: today looks the athlete up in the store it reads
        # (one connection, not two: issue 23's start-up).
        answer = service.today(obj.given_settings(), when, clock=_now()).answer
        text = today_json(answer) if chosen == "json" else today_text(answer)
        if output is None:
            click.echo(text, nl=False)
        else:
            from heavylegs_sync.report.render import write_atomically

            write_atomically(output, text)
            if obj.verbosity >= 0:
                click.echo(f"answer written to {output}", err=True)
    if chosen == "json":  # the text says these itself
        for note in notes(answer):
            click.echo(f"note: {note}", err=True)
        if answer.activities == 0:
            click.echo(f"note: no activity before {when} is imported: nothing judged", err=True)


#: Formats ``team`` writes.
TEAM_FORMATS = ("text", "json", "html")


@main.command("team")
@click.option(
    "--date",
    "day",
    type=DAY,
    help="The day to look at (default: each athlete's today, in their zone).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(TEAM_FORMATS),
    help="text, json or html (default: from the -o file's suffix, else text).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the view to this file instead of printing it (.json: JSON, .html: HTML).",
)
@click.option(
    "--reports",
    is_flag=True,
    help="With -o FILE.html: also write each athlete's report to reports/NAME.html beside"
    " it, which the page links.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes that judge the squad (default: one per 100 athletes, up to one per CPU).",
)
@click.pass_obj
def team_command(
    obj: _Context,
    day: Any,
    output_format: str | None,
    output: Path | None,
    reports: bool,
    workers: int | None,
) -> None:
    """The coach's view: one row per athlete (the day's causes, strongest first, last
    activity, the week so far), who needs attention first."""
    from heavylegs_sync import service
    from heavylegs_sync.report.team import render_team, report_file

    chosen = _output_format(output, output_format, TEAM_FORMATS)
    if reports and (output is None or chosen != "html"):
        raise click.UsageError("--reports needs an HTML page to link them: -o FILE.html")
    with _errors(obj):
        # As given: the view looks each athlete up in the store it reads (one
        # connection fewer than asking the store about the command's athlete first).
        settings = obj.given_settings()
        clock = _now()
        result = service.team(settings, day.date() if day else None, clock=clock, workers=workers)
        folder = output.parent if output is not None else None
        if reports and folder is not None:
            service.team_reports(settings, result.rows, folder, clock=clock)
        # A name links to its report where one is there to open (written now or before).
        links = {
            r.athlete: report_file(r.athlete)
            for r in result.rows
            if folder is not None and (folder / report_file(r.athlete)).is_file()
        }
        text = render_team(result.rows, chosen, links=links)
        if output is None:
            click.echo(text, nl=False)
        else:
            # Only here: the reports' module is a good part of the view's start-up.
            from heavylegs_sync.report.render import write_atomically

            write_atomically(output, text)
            if obj.verbosity >= 0:
                click.echo(f"team written to {output}", err=True)


@main.group("athletes")
def athletes_group() -> None:
    """The athletes of a store: a coach's or a club's squad."""


@athletes_group.command("add")
@click.argument("name")
@click.option("--timezone", metavar="ZONE", help="IANA zone that places their activities.")
@click.pass_obj
def athletes_add(obj: _Context, name: str, timezone: str | None) -> None:
    """Add an athlete (commands then name them with --athlete NAME)."""
    with _errors(obj):
        settings = obj.settings()
        with _open_store(settings, unscoped=True) as store:
            added = store.athletes.add(name, timezone)
    if obj.verbosity >= 0:
        zone = f" ({added.timezone})" if added.timezone else ""
        click.echo(f"added athlete {added.name}{zone} to {settings.db_shown}")


@athletes_group.command("list")
@click.pass_obj
def athletes_list(obj: _Context) -> None:
    """Every athlete with what the store holds of them."""
    with _errors(obj):
        settings = obj.settings()
        with _open_store(settings, read_only=True, unscoped=True) as store:
            rows = [(a, store.athletes.counts(a.id)) for a in store.athletes.list()]
    if not rows:
        click.echo("no athletes yet (heavylegs athletes add NAME, or import for yourself)")
        return
    width = max(len("athlete"), *(len(a.name) for a, _ in rows))
    click.echo(f"{'athlete':<{width}}  activities  files  wellness days  time zone")
    for athlete, (activities, files, days) in rows:
        zone = athlete.timezone or "-"
        click.echo(f"{athlete.name:<{width}}  {activities:>10}  {files:>5}  {days:>13}  {zone}")


@athletes_group.command("rename")
@click.argument("old")
@click.argument("new")
@click.pass_obj
def athletes_rename(obj: _Context, old: str, new: str) -> None:
    """Give an athlete another name; their data stays theirs."""
    with _errors(obj), _open_store(obj.settings(), unscoped=True) as store:
        store.athletes.rename(old, new)
    if obj.verbosity >= 0:
        click.echo(f"renamed athlete {old} to {new}")


@athletes_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask (needed when there is no terminal).")
@click.pass_obj
def athletes_remove(obj: _Context, name: str, yes: bool) -> None:
    """Remove an athlete and everything stored of them (asks first)."""
    from heavylegs_sync.errors import AthleteError
    from heavylegs_sync.words import plural

    with _errors(obj):
        settings = obj.settings()
        with _open_store(settings, read_only=True, unscoped=True) as store:
            found = store.athletes.get(name)
            if found is None:
                raise AthleteError(store.athletes.unknown(name))
            activities, files, days = store.athletes.counts(found.id)
        click.echo(
            f"athlete {name}: {plural(activities, 'activity', 'activities')},"
            f" {plural(files, 'file')}, {plural(days, 'wellness day')}"
        )
        if not yes:
            if not sys.stdin.isatty():
                click.echo("error: not removing: no terminal to confirm on; add --yes", err=True)
                sys.exit(1)
            if not click.confirm(f"Remove athlete {name} and all of it?", default=False):
                click.echo("nothing removed")
                sys.exit(1)
        with _open_store(settings, unscoped=True) as store:
            from heavylegs_sync.strava.accounts import forget_tokens

            problem = forget_tokens(settings, store, found)  # revoked, and the file gone
            store.athletes.remove(name)
    if problem and obj.verbosity >= -1:
        click.echo(f"warning: {problem}", err=True)
    if obj.verbosity >= 0:
        click.echo(f"removed athlete {name}")


@main.command("info")
@click.pass_obj
def info_command(obj: _Context) -> None:
    """Where the store and settings are, what the store holds, where max HR comes from."""
    from heavylegs_sync.housekeeping import info_text, store_info

    with _errors(obj):
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
        if settings.db_url is not None:
            raise click.ClickException(
                f"{settings.db_shown}: 'heavylegs check' reads SQLite files; a PostgreSQL"
                " server checks its own pages (data checksums, amcheck): see docs/server.md"
            )
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
    with _errors(obj):
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
    help="Also the activities and wellness days imported from this file, or from the"
    " members of this archive (repeatable).",
)
@click.option("--yes", is_flag=True, help="Do not ask (needed when there is no terminal).")
@click.pass_obj
def forget_command(
    obj: _Context, ids: tuple[int, ...], sources: tuple[Path, ...], yes: bool
) -> None:
    """Remove activities by id (as 'heavylegs activities' shows), with every copy of them;
    with --source, what a file gave: its activities and its wellness days."""
    from heavylegs_sync.housekeeping import forget_plan, target_line, wellness_line

    if not ids and not sources:
        raise click.UsageError("name the activities to forget: IDs and/or --source FILE")
    with _errors(obj):
        settings = obj.settings()
        with _open_store(settings, read_only=True) as store:
            plan = forget_plan(store, ids, sources)
        targets, wellness = plan.activities, plan.wellness
        for name in plan.unknown:
            click.echo(f"error: {name}: no such activity in the store", err=True)
        if not targets and not wellness:
            sys.exit(1)
        if targets:
            click.echo(f"{plural(len(targets), 'activity', 'activities')} to forget:")
            for target in targets:
                click.echo(target_line(target))
        if wellness:
            click.echo(f"wellness days of {plural(len(wellness), 'file')} to forget:")
            for file in wellness:
                click.echo(f"  {wellness_line(file)}")
            shared = sorted({p for f in wellness for p in f.shared})
            if shared:
                click.echo(
                    f"  these days also hold the values of {plural(len(shared), 'more file')},"
                    " forgotten too (import them again to bring those values back):"
                )
                for path in shared:
                    click.echo(f"    {path}")
        if not yes:
            if not sys.stdin.isatty():
                click.echo("error: not forgetting: no terminal to confirm on; add --yes", err=True)
                sys.exit(1)
            if not click.confirm("Remove them from the store?", default=False):
                click.echo("nothing removed")
                sys.exit(1)
        with _open_store(settings) as store:
            records, files = store.forget(targets)
            days, wellness_files = store.forget_wellness(wellness)
            if targets:
                from heavylegs_sync.diagnosis import redate_store

                redate_store(store, settings)  # what the forgotten activities said is gone
    if obj.verbosity >= 0:
        done = []
        if targets:
            done.append(
                f"{plural(len(targets), 'activity', 'activities')}"
                f" ({records} stored records, {files} file records)"
            )
        if wellness:
            done.append(f"{plural(days, 'wellness day')} ({plural(wellness_files, 'file record')})")
        click.echo("forgot " + " and ".join(done))
    if plan.unknown:
        sys.exit(1)


def _local_midnight(settings: Settings, day: date) -> datetime:
    """The start of a local day in the athlete's zone (docs/timezones.md), as UTC."""
    from heavylegs_sync.localtime import AthleteZones

    naive = datetime.combine(day, time(), UTC)
    from heavylegs_sync.service import store_exists

    if store_exists(settings):
        from heavylegs_sync.diagnosis import athlete_zones

        with _open_store(settings, read_only=True) as store:
            zones = athlete_zones(store, settings)
    else:
        from heavylegs_sync.config import local_zone

        setting = settings.zoneinfo() if settings.athlete.timezone else None
        zones = AthleteZones((), setting=setting, machine=local_zone())
    return naive - timedelta(seconds=zones.at(naive).offset_s)


def _now() -> datetime:
    """The clock, read once per command, in UTC."""
    return datetime.now(UTC)


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
    help="Write this report at start-up and after every new file (.json, .html, else text).",
)
@click.option(
    "--rejected",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep a copy of each file that cannot be imported here, with a .reason.txt beside it.",
)
@_athlete_option("Whose inbox the folders are")
@click.option(
    "--per-athlete",
    is_flag=True,
    help="The folder holds one folder per athlete, named as the athlete: ROOT/anna/ is"
    " anna's inbox. --report then names a file per athlete: reports/{athlete}.html.",
)
@_notify_option
@_loudness
@click.pass_context
def watch_command(
    ctx: click.Context,
    folders: tuple[Path, ...],
    once: bool,
    settle: float,
    poll: bool,
    report: Path | None,
    rejected: Path | None,
    per_athlete: bool,
    notify: tuple[str, ...],
) -> None:
    """Keep folders imported and the diagnosis current (a long-running service)."""
    from heavylegs_sync.notify import addresses
    from heavylegs_sync.squad_watch import athlete_report
    from heavylegs_sync.watch import FolderWatcher, WatchOptions

    obj: _Context = ctx.obj
    if per_athlete:
        _squad_usage(ctx, folders, report, rejected)
    report_format = _output_format(report, None, WATCH_REPORT_FORMATS) if report else "text"
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        logging.getLogger("heavylegs.watch").log(
            logs.NOTICE, "stopping (%s)", signal.Signals(signum).name
        )
        stop.set()

    for number in _STOP_SIGNALS:
        signal.signal(number, request_stop)
    with _errors(obj):
        settings = _shared_settings(obj) if per_athlete else obj.settings()
        options = WatchOptions(
            folders=[f.resolve() for f in folders],
            settle_s=settle,
            rejected=rejected.resolve() if rejected else None,
            report=report,
            report_format=report_format,
            polling=poll,
            once=once,
            notify=addresses(settings, notify),
        )
        if per_athlete:
            status = _watch_squad(obj, settings, options, stop)
        else:
            decode = _decode_options(settings)
            with _open_store(settings) as store:
                if report is not None and store.athlete is not None:
                    options.report = athlete_report(report, store.athlete.name)
                status = FolderWatcher(store, settings, decode, options, stop=stop).run()
    sys.exit(status)


def _squad_usage(
    ctx: click.Context,
    folders: tuple[Path, ...],
    report: Path | None,
    rejected: Path | None,
) -> None:
    """What ``watch --per-athlete`` refuses before any work: each a usage error."""
    from heavylegs_sync.squad_watch import ATHLETE_FIELD

    if len(folders) != 1:
        raise click.UsageError("--per-athlete takes one folder: the one holding the athletes'")
    sources = [c.get_parameter_source("athlete") for c in (ctx, ctx.parent) if c is not None]
    if click.core.ParameterSource.COMMANDLINE in sources:  # not the environment's
        raise click.UsageError(
            "--per-athlete takes each athlete from their folder's name: leave out --athlete"
        )
    obj: _Context = ctx.obj
    if obj.athlete is not None:  # from the environment, meant for other commands
        logging.getLogger("heavylegs.watch").info(
            "%s=%s not used: --per-athlete takes each athlete from their folder's name",
            ENV_ATHLETE,
            obj.athlete,
        )
        obj.athlete = None
    if report is not None and ATHLETE_FIELD not in str(report):
        raise click.UsageError(
            f"--report with --per-athlete writes one file per athlete: put {ATHLETE_FIELD}"
            f" in its name (reports/{ATHLETE_FIELD}.html)"
        )
    if rejected is not None and rejected.resolve().is_relative_to(folders[0].resolve()):
        raise click.UsageError(
            "--rejected inside the --per-athlete folder would be taken for an athlete's"
            " folder: choose one outside it"
        )


def _shared_settings(obj: _Context) -> Settings:
    """The settings before any athlete's own tables (a squad's watcher, the store's)."""
    from heavylegs_sync.config import load_settings

    return load_settings(config=obj.config, db=obj.db)


def _watch_squad(
    obj: _Context, settings: Settings, options: WatchOptions, stop: threading.Event
) -> int:
    """``watch --per-athlete``: one watcher for every athlete's folder, one store."""
    from heavylegs_sync.squad_watch import SquadWatcher

    with _open_store(settings, unscoped=True) as store:
        return SquadWatcher(store, settings, options, _decode_options, stop=stop).run()


@main.group("strava")
def strava_group() -> None:
    """Connect a Strava account and sync it.

    First create a Strava API application (https://www.strava.com/settings/api, callback
    domain 127.0.0.1) and put its client_id and client_secret in the [strava] section of
    the settings file; then run 'heavylegs strava connect' once and 'heavylegs strava sync'
    as often as you like."""


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
@_athlete_option("Whose Strava account")
@click.pass_obj
def strava_connect(
    obj: _Context, code: str | None, paste: bool, no_browser: bool, timeout: int
) -> None:
    """Allow heavylegs to read your Strava activities (OAuth)."""
    from heavylegs_sync.strava.oauth import connect

    with _errors(obj):
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
    whose = f"{done.athlete}'s " if done.athlete else ""
    click.echo(f"connected to Strava{athlete}; {whose}tokens saved in {done.token_path}")


@strava_group.command("sync")
@click.option(
    "--full",
    is_flag=True,
    help="Re-read the whole activity list (streams already stored are not fetched again).",
)
@click.option(
    "--since",
    type=DAY,
    help="Leave out activities before this local day, now and later (after a Strava export).",
)
@click.option(
    "--all",
    "everyone",
    is_flag=True,
    help="Every connected athlete of the store, in turns within the one shared rate budget.",
)
@_notify_option
@_athlete_option("Whose Strava account")
@_loudness
@click.pass_obj
def strava_sync(
    obj: _Context, full: bool, since: Any, everyone: bool, notify: tuple[str, ...]
) -> None:
    """Fetch new Strava activities (incremental; safe to run from cron every night)."""
    from heavylegs_sync.notify import addresses
    from heavylegs_sync.strava.sync import sync_store

    if everyone:
        if obj.athlete is not None:
            raise click.UsageError(
                f"--all syncs every athlete; leave out --athlete {obj.athlete} (and {ENV_ATHLETE})"
            )
        if notify:
            raise click.UsageError("--notify with --all: a message would not say whose it is")
        _sync_squad(obj, full, since)
        return
    with _errors(obj), _interrupted("strava sync"):
        settings = obj.settings()
        floor = _local_midnight(settings, since.date()) if since else None
        said = (lambda text: click.echo(text, err=True)) if obj.verbosity >= 1 else None
        result = sync_store(settings, full=full, since=floor, progress=said)
        urls = addresses(settings, notify)
        if urls:
            _notify(obj, settings, urls)
    if result.failure:
        click.echo(f"error: {result.line()}", err=True)
        sys.exit(1)
    if obj.verbosity >= 0:
        click.echo(_fitted(result.line()))


def _fitted(line: str) -> str:
    """A summary line as a person reads it on a terminal (or at ``COLUMNS``): at the text
    width, broken between its counts, never inside one ("0 failed", "69 new (68
    activities, 112 wellness days)"), the rest indented. Elsewhere (cron, systemd, a pipe)
    it stays one line, as the watcher's log and the API keep it."""
    import re

    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        return line
    width = text_width()
    lines = [""]
    for part in re.split(r", (?![^(]*\))", line):  # not at a comma inside brackets
        if not lines[-1]:
            lines[-1] = part
        elif len(lines[-1]) + len(", ") + len(part) + len(",") <= width:
            lines[-1] += f", {part}"  # room for the comma the next break would add
        else:
            lines[-1] += ","
            lines.append(f"  {part}")
    return "\n".join(lines)


def _sync_squad(obj: _Context, full: bool, since: Any) -> None:
    """``strava sync --all``: a line per athlete (failures on stderr), then the squad's."""
    from heavylegs_sync.strava.squad import sync_all

    with _errors(obj), _interrupted("strava sync"):
        settings = obj.settings()
        floor = _local_midnight(settings, since.date()) if since else None
        said = (lambda text: click.echo(text, err=True)) if obj.verbosity >= 1 else None
        result = sync_all(settings, full=full, since=floor, progress=said)
    if result.not_connected and obj.verbosity >= 1:
        click.echo(f"not connected to Strava: {', '.join(result.not_connected)}", err=True)
    for turn in result.turns:
        if turn.error is not None or turn.result.failure:
            click.echo(f"error: {result.line(turn)}", err=True)
        elif obj.verbosity >= 0:
            click.echo(result.line(turn))
    if obj.verbosity >= 0 or result.failure:
        for line in result.total(text_width(80)):
            click.echo(line, err=result.failure)
    if result.failure:
        sys.exit(1)


def _notify(obj: _Context, settings: Settings, urls: tuple[str, ...]) -> None:
    """Tell ``urls`` about causes new today; a failed delivery is one warning line, and the
    command's exit status stays what the sync made it."""
    from heavylegs_sync.notify import notify_store

    try:
        with _open_store(settings) as store:
            result = notify_store(store, settings, urls, datetime.now(settings.zoneinfo()).date())
    except HeavyLegsError as exc:
        click.echo(f"warning: notifications not checked: {exc}", err=True)
        return
    for delivery in result.deliveries:
        if delivery.outcome == "sent" and obj.verbosity >= 0:
            click.echo(f"notified {delivery.address}: {', '.join(delivery.causes)}", err=True)
    if obj.verbosity >= -1:
        for line in result.warnings():
            click.echo(f"warning: {line}", err=True)


@strava_group.command("disconnect")
@click.option("--purge", is_flag=True, help="Also delete every activity that came from Strava.")
@_athlete_option("Whose Strava account")
@click.pass_obj
def strava_disconnect(obj: _Context, purge: bool) -> None:
    """Revoke heavylegs' Strava access and forget the tokens."""
    from heavylegs_sync.strava.oauth import disconnect

    with _errors(obj):
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
