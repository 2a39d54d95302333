"""The rough edges a new user hit (issue 24): flags that do what their help says, messages
that say what happened and what to do, output within its width, words never cut."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from heavylegs_sync.hr.timeline import ZoneTimeline
from heavylegs_sync.hr.zones import ZoneMethod, ZoneModel
from heavylegs_sync.model import Category, HrSettings
from tests.conftest import FILES, SAMPLE, heavylegs_cli
from tests.histories import activity, settings_file, store_history

CONFIG = SAMPLE / "heavylegs.toml"
#: The sample athlete's planted week without a rest day (fixtures/sample-athlete/EXPECTED.md).
WEEK = sorted(p for p in SAMPLE.glob("*.fit") if "2026-10-05" <= p.name[:10] <= "2026-10-11")


def env_for(tmp_path: Path, config: Path = CONFIG) -> dict[str, str]:
    return {"HEAVYLEGS_DB": str(tmp_path / "store.sqlite"), "HEAVYLEGS_CONFIG": str(config)}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The sample athlete and the importer test files in one store (notes, inferred sports,
    several sources): the environment to reach it. Only read by the tests that use it."""
    tmp = tmp_path_factory.mktemp("sample")
    env = env_for(tmp)
    done = heavylegs_cli("import", str(SAMPLE), str(FILES), env=env)
    assert done.returncode == 1  # FILES holds the broken files the importer tests use
    assert "79 activities" in done.stdout, done.stdout
    return env


# -- 1. activities -o FILE ---------------------------------------------------------------


def test_activities_o_txt_writes_the_text_listing(tmp_path: Path, sample: dict[str, str]) -> None:
    out = tmp_path / "list.txt"
    done = heavylegs_cli("activities", "-o", str(out), env=sample)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == f"listing written to {out}\n"
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0].split()[:3] == ["id", "date", "(local)"]
    assert max(len(line) for line in text.splitlines()) <= 100  # a file is laid out as a pipe
    printed = heavylegs_cli("activities", env=sample).stdout
    assert text == printed
    other = tmp_path / "list.weird"  # any other suffix: the text listing too
    assert heavylegs_cli("activities", "-o", str(other), env=sample).returncode == 0
    assert other.read_text(encoding="utf-8") == text


# -- 2. -v / -q on every command that imports --------------------------------------------


def test_import_v_and_vv_before_or_after_the_command(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    local = heavylegs_cli("import", "-v", str(WEEK[0]), str(WEEK[1]), env=env)
    assert local.returncode == 0, local.stderr
    assert local.stderr.count("imported ") == 2 and f"imported {WEEK[0]} (1 activity)" in (
        local.stderr
    )
    global_ = heavylegs_cli("-v", "import", str(WEEK[0]), str(WEEK[2]), env=env)
    assert global_.stderr.splitlines() == [f"imported {WEEK[2]} (1 activity)"]
    # -v twice is -vv; in a Python of its own, as a command runs (no threads: forked workers)
    both = heavylegs_cli("-v", "import", "-v", str(WEEK[0]), env=env, process=True)
    assert both.stderr.startswith(f"already imported: {WEEK[0]}")
    plain = heavylegs_cli("import", str(WEEK[0]), env=env)
    assert plain.stderr == ""


def long_named_gpx(path: Path) -> Path:
    """A real GPX run whose name is cut on import: one warning about its values."""
    text = (FILES / "strava-style.gpx").read_text(encoding="utf-8")
    path.write_text(re.sub(r"<name>.*?</name>", f"<name>{'x' * 600}</name>", text, count=1))
    return path


def test_q_silences_warnings_and_qq_leaves_failures_only(tmp_path: Path) -> None:
    odd = long_named_gpx(tmp_path / "odd.gpx")
    loud = heavylegs_cli("import", str(odd), env=env_for(tmp_path / "a"))
    assert loud.returncode == 0
    assert loud.stderr.startswith(f"warning: {odd}: ") and loud.stderr.count("\n") == 1
    quiet = heavylegs_cli("-q", "import", str(odd), env=env_for(tmp_path / "b"))
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    bad = heavylegs_cli(
        "import", "-qq", str(FILES / "bad-crc.fit"), str(WEEK[1]), env=env_for(tmp_path / "c")
    )
    assert bad.returncode == 1 and bad.stdout == ""  # no summary: failures only
    assert bad.stderr.startswith(f"error: {FILES / 'bad-crc.fit'}: corrupt FIT file")
    assert bad.stderr.count("\n") == 1


def test_watch_q_silences_warnings_about_values_but_keeps_findings(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    odd = long_named_gpx(inbox / "odd.gpx")
    loud = heavylegs_cli(
        "watch", str(inbox), "--once", "--settle", "0.2", env=env_for(tmp_path / "a")
    )
    assert loud.returncode == 0, loud.stderr
    assert f"WARNING {odd}: name of 600 characters cut to 500" in loud.stderr
    quiet = heavylegs_cli(
        "watch", str(inbox), "--once", "--settle", "0.2", "-q", env=env_for(tmp_path / "b")
    )
    assert quiet.returncode == 0 and "characters cut" not in quiet.stderr, quiet.stderr


def test_every_importing_command_takes_v_and_q_after_its_name() -> None:
    for command in (["import"], ["watch"], ["strava", "sync"]):
        done = heavylegs_cli(*command, "--help", env={"COLUMNS": "100"})
        assert done.returncode == 0
        assert "-v, --verbose" in done.stdout and "-q, --quiet" in done.stdout, command


# -- 3. watch --report -------------------------------------------------------------------


def test_watch_writes_its_report_at_start_up_in_the_format_of_the_suffix(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    assert heavylegs_cli("import", *map(str, WEEK), env=env).returncode == 0
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("report.html", "report.json", "report.txt"):
        report = tmp_path / name
        done = heavylegs_cli(
            "watch", str(inbox), "--once", "--settle", "0.2", "--report", str(report), env=env
        )
        assert done.returncode == 0, done.stderr
        assert report.is_file(), name  # nothing new arrived: written at start-up all the same
    assert (tmp_path / "report.html").read_text().lstrip().lower().startswith("<!doctype html")
    assert json.loads((tmp_path / "report.json").read_text())["weeks"]
    assert (tmp_path / "report.txt").read_text().startswith("heavylegs report ")
    empty = tmp_path / "empty"
    done = heavylegs_cli(
        "watch", str(inbox), "--once", "--report", str(tmp_path / "e.txt"), env=env_for(empty)
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "e.txt").read_text().startswith("Nothing imported yet")


# -- 4. config checks what every command checks ------------------------------------------


def test_config_refuses_what_every_other_command_refuses(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[athlete]\nmax_hr = 900\n", encoding="utf-8")
    expected = f"Error: {bad}: [athlete] max_hr must be from 30 to 250, not 900\n"
    for command in (["config"], ["report"], ["activities"], ["today"]):
        done = heavylegs_cli(*command, env=env_for(tmp_path, bad))
        assert (done.returncode, done.stderr) == (1, expected), command
    method = tmp_path / "method.toml"
    method.write_text('[zones]\nmethod = "bpm"\n', encoding="utf-8")
    done = heavylegs_cli("config", env=env_for(tmp_path, method))
    assert done.returncode == 1
    assert done.stderr.startswith(f'Error: {method}: zone method "bpm" needs bounds')


def test_a_settings_error_found_by_the_analysis_names_the_file(tmp_path: Path) -> None:
    """Resting HR above the watch's max HR is only known once the files are read."""
    config = tmp_path / "hrr.toml"
    config.write_text(
        '[athlete]\ntimezone = "Europe/Berlin"\nresting_hr = 200\n[zones]\nmethod = "hrr"\n',
        encoding="utf-8",
    )
    env = env_for(tmp_path, config)
    assert heavylegs_cli("config", env=env).returncode == 0  # nothing wrong on its own
    assert heavylegs_cli("import", *map(str, WEEK), env=env).returncode == 0
    done = heavylegs_cli("report", "--since", "2026-10-05", "--until", "2026-10-11", env=env)
    assert done.returncode == 1
    assert "resting_hr (200) must be below max HR" in done.stderr
    assert done.stderr.rstrip().endswith(f"(settings: {config})")
    strava = heavylegs_cli("strava", "connect", "--no-browser", env=env)
    assert strava.returncode == 1
    assert "[strava] client_id" in strava.stderr
    assert strava.stderr.rstrip().endswith(f"(settings: {config})")


# -- 5. nothing importable ---------------------------------------------------------------


def test_import_of_a_folder_with_nothing_importable_says_what_it_found(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    for name in ("notes.txt", "photo.jpg", "track.kml"):
        (junk / name).write_text("x")
    done = heavylegs_cli("import", str(junk), env=env_for(tmp_path))
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"error: nothing to import in {junk}: found 3 files")
    for said in ("notes.txt", "photo.jpg", "track.kml", ".fit", ".gpx", ".tcx", ".zip"):
        assert said in line
    empty = tmp_path / "empty"
    empty.mkdir()
    done = heavylegs_cli("import", str(empty), env=env_for(tmp_path))
    assert done.returncode == 0  # an empty inbox is nothing wrong, but said
    assert done.stderr.startswith(f"note: nothing to import in {empty}: no files there")


# -- 6. --since after --until ------------------------------------------------------------


def test_activities_since_after_until_is_refused_like_report(sample: dict[str, str]) -> None:
    for command in ("activities", "report"):
        done = heavylegs_cli(command, "--since", "2026-10-11", "--until", "2026-10-05", env=sample)
        assert done.returncode == 2, command
        assert "--since 2026-10-11 is after --until 2026-10-05" in done.stderr, command


# -- 7. Strava before connect, a moved command, Ctrl-C ------------------------------------


def test_strava_sync_before_connect_says_how_to_connect(tmp_path: Path) -> None:
    env = {**env_for(tmp_path), "STRAVA_CLIENT_ID": "1", "STRAVA_CLIENT_SECRET": "x"}
    done = heavylegs_cli("strava", "sync", env=env)
    assert done.returncode == 1
    assert done.stderr == "Error: not connected to Strava: run 'heavylegs strava connect'\n"


def test_a_command_under_another_name_says_where_it_is(tmp_path: Path) -> None:
    done = heavylegs_cli("sync", env=env_for(tmp_path))
    assert done.returncode == 2
    assert "no command 'sync': did you mean 'heavylegs strava sync'?" in done.stderr


def _many_runs(folder: Path, count: int) -> None:
    """``count`` distinct GPX runs (different content: none is a duplicate of another)."""
    folder.mkdir()
    for i in range(count):
        start = date(2026, 1, 1) + timedelta(days=i)
        points = "".join(
            f'<trkpt lat="{52.5 + k * 0.00004:.5f}" lon="{13.4 + i * 0.001:.4f}">'
            f"<time>{start}T07:{k // 60:02d}:{k % 60:02d}Z</time></trkpt>"
            for k in range(0, 1200, 5)
        )
        (folder / f"run-{i:03d}.gpx").write_text(
            '<?xml version="1.0"?><gpx version="1.1" creator="t" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><type>running</type><trkseg>'
            f"{points}</trkseg></trk></gpx>",
            encoding="utf-8",
        )


def test_ctrl_c_during_import_keeps_what_was_imported_and_a_rerun_resumes(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "runs"
    _many_runs(folder, 150)
    env = env_for(tmp_path)
    db = Path(env["HEAVYLEGS_DB"])
    process = subprocess.Popen(
        [sys.executable, "-m", "heavylegs_sync", "import", "--workers", "1", str(folder)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    stored = 0
    while stored < 5 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
                    stored = con.execute("SELECT count(*) FROM activities").fetchone()[0]
            except sqlite3.OperationalError:
                continue
    assert process.poll() is None, "the import ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert out == ""  # no summary line after an interruption: the message says it
    assert "Traceback" not in err and "Aborted!" not in err
    (line,) = [x for x in err.splitlines() if x.strip()]
    assert line.startswith("error: interrupted by SIGINT: every file stored is kept (")
    assert "run 'heavylegs import' again to go on" in line
    kept = int(re.search(r"\((\d+) new", line).group(1))  # type: ignore[union-attr]
    assert kept >= 5
    again = heavylegs_cli("import", str(folder), env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"{150 - kept} new, {kept} already imported, 0 skipped, 0 failed\n"


# -- 8. widths, words never cut ----------------------------------------------------------


def _words(text: str) -> set[str]:
    return set(text.split())


def _lines_within(text: str, width: int) -> None:
    wide = [line for line in text.splitlines() if len(line) > width]
    assert not wide, f"{len(wide)} lines wider than {width}: {wide[:3]}"


def test_activities_wrap_whole_words_at_80_columns_and_piped(sample: dict[str, str]) -> None:
    records = json.loads(heavylegs_cli("activities", "--format", "json", env=sample).stdout)
    for columns, width in (("80", 80), (None, 100)):
        env = {**sample, **({"COLUMNS": columns} if columns else {})}
        text = heavylegs_cli("activities", env=env).stdout
        _lines_within(text, width)
        words = _words(text)
        for record in records:
            for note in record["notes"]:
                assert _words(note) <= words, note  # "truncated", never "truncat"
        assert "(inferre" not in text.replace("(inferred", "")
        assert "((" not in text and "))" not in text  # no "run (running (inferred))"
        assert "run (inferred)" in text or "run (running, inferred)" in text
        ids = re.findall(r"^ *(\d+) \d{4}-\d\d-\d\d ", text, flags=re.M)
        assert ids == [str(r["id"]) for r in records]  # one row per activity, id first


def test_every_command_fits_80_columns_and_a_pipe(sample: dict[str, str]) -> None:
    """Each command's text at COLUMNS=80 and piped: no line wider than promised (80; 100 in
    a pipe), and no word of the findings cut in two."""
    commands = [
        ["activities"],
        ["activities", "--since", "2026-10-05", "--until", "2026-10-11"],
        ["report", "--since", "2026-09-28", "--until", "2026-11-22"],
        ["today", "--date", "2026-10-12"],
        ["info"],
        ["config"],
        ["import", str(SAMPLE)],
        ["--help"],
        *([name, "--help"] for name in ("import", "activities", "report", "today", "watch")),
        ["strava", "sync", "--help"],
    ]
    report = json.loads(
        heavylegs_cli(
            "report", "--since", "2026-09-28", "--until", "2026-11-22", "--format", "json",
            env=sample,
        ).stdout
    )  # fmt: skip
    for columns, width in (("80", 80), (None, 100)):
        env = {**sample, **({"COLUMNS": columns} if columns else {})}
        for command in commands:
            done = heavylegs_cli(*command, env=env)
            assert "Traceback" not in done.stderr, command
            _lines_within(done.stdout, width)
            _lines_within(done.stderr, width if command[0] != "import" else 10_000)
            if command[:2] == [
                "report",
                "--since",
            ]:  # a line may end at a compound's hyphen, as in print
                words = _words(re.sub(r"-\n\s*", "-", done.stdout))
                said = [*report["verdict"], *(g["headline"] for g in report["groups"])]
                said += [g["fix"] for g in report["groups"]]
                for sentence in said:
                    for word in _words(sentence):
                        assert word in words, (columns, word)


def test_info_fits_80_columns(tmp_path: Path, sample: dict[str, str]) -> None:
    env = {**sample, "HEAVYLEGS_CONFIG": "", "XDG_CONFIG_HOME": str(tmp_path / ("c" * 30))}
    done = heavylegs_cli("info", env=env)
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():  # only a path longer than a line may pass 80
        assert len(line) <= 80 or len(line.split()) == 1 or line.startswith("store:"), line


# -- 9. the max-HR history of the report's range -----------------------------------------


def test_the_report_names_the_max_hr_changes_of_its_range_only(tmp_path: Path) -> None:
    first = date(2024, 1, 1)
    runs = []
    for week in range(100):  # the watch's max HR set anew every ten weeks: 180, 181, ...
        run = activity(Category.RUN, first + timedelta(weeks=week), 45)
        runs.append(dataclasses.replace(run, hr_settings=HrSettings(max_hr=180 + week // 10)))
    store_history(tmp_path / "store.sqlite", runs)
    config = tmp_path / "watch.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\n', encoding="utf-8")
    env = env_for(tmp_path, config)
    since, until = first + timedelta(weeks=58), first + timedelta(weeks=63, days=6)
    text = heavylegs_cli("report", "--since", str(since), "--until", str(until), env=env).stdout
    said = " ".join(text.split())
    change = first + timedelta(weeks=60)
    assert (
        f"Your watch's maximum heart rate changed over the range: 185 bpm at {since},"
        f" then 186 bpm from {change}." in said
    )
    assert "180 bpm" not in said and "184 bpm" not in said
    data = json.loads(
        heavylegs_cli(
            "report", "--since", str(since), "--until", str(until), "--format", "json", env=env
        ).stdout
    )
    assert [z["max_hr"] for z in data["athlete"]["zones"]] == [185, 186]


def test_zone_timeline_during_a_range() -> None:
    def model(max_hr: int) -> ZoneModel:
        return ZoneModel(ZoneMethod.HRMAX, (100, 120, 140, 160), max_hr, "watch")

    timeline = ZoneTimeline(
        (date.min, date(2025, 1, 1), date(2025, 6, 1), date(2026, 1, 1)),
        (model(180), model(182), model(184), model(186)),
    )
    assert timeline.during(date(2025, 3, 1), date(2025, 7, 1)) == (
        (date(2025, 1, 1), model(182)),
        (date(2025, 6, 1), model(184)),
    )
    assert timeline.during(date(2024, 1, 1), date(2024, 2, 1)) == ((date.min, model(180)),)
    assert ZoneTimeline((), ()).during(date(2025, 1, 1), date(2025, 2, 1)) == ()


# -- 10. one meaning of duration_s; no average beside no heart rate ----------------------


def test_duration_s_means_one_thing_in_json_csv_text_and_the_sql_view(tmp_path: Path) -> None:
    day = date(2026, 3, 9)
    paused = dataclasses.replace(
        activity(Category.RUN, day, 40), timer_s=40 * 60.0, elapsed_s=55 * 60.0
    )
    no_hr = dataclasses.replace(
        activity(Category.RUN, day + timedelta(days=1), 30), avg_hr=150.0, hr_coverage=0.0
    )
    db = tmp_path / "store.sqlite"
    store_history(db, [paused, no_hr])
    env = env_for(tmp_path, settings_file(tmp_path))
    records = json.loads(heavylegs_cli("activities", "--format", "json", env=env).stdout)
    assert (records[0]["duration_s"], records[0]["moving_s"], records[0]["elapsed_s"]) == (
        2400.0,
        2400.0,
        3300.0,
    )
    csv_text = heavylegs_cli("activities", "--format", "csv", env=env).stdout
    header, row, _ = csv_text.splitlines()
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert (values["duration_s"], values["elapsed_s"]) == ("2400.0", "3300.0")
    with sqlite3.connect(db) as con:
        (view,) = con.execute(
            "SELECT duration_s FROM activities_local ORDER BY id LIMIT 1"
        ).fetchone()
    assert view == 2400.0
    text = heavylegs_cli("activities", env=env).stdout.splitlines()
    assert "0:40:00" in text[1] and "0:55:00" not in text[1]
    assert text[2].split()[-2:] == ["0%", "fit"]  # no average HR beside 0% coverage
    assert "150" not in text[2]
    assert records[1]["avg_hr"] == 150.0  # the data keeps what the file said


# -- 13. help: dates as YYYY-MM-DD, no docs/ a pip user lacks ------------------------------


def _all_help() -> dict[str, str]:
    from click.testing import CliRunner

    from heavylegs_sync.cli import main

    runner = CliRunner()
    pages = {"": runner.invoke(main, ["--help"], terminal_width=100).output}
    for name, command in main.commands.items():
        pages[name] = runner.invoke(main, [name, "--help"], terminal_width=100).output
        for sub in getattr(command, "commands", {}):
            pages[f"{name} {sub}"] = runner.invoke(
                main, [name, sub, "--help"], terminal_width=100
            ).output
    return pages


def test_help_shows_dates_as_people_write_them_and_no_docs_folder() -> None:
    pages = _all_help()
    assert len(pages) >= 12
    for name, text in pages.items():
        assert "%Y" not in text, name
        assert "docs/" not in text, name
    for name in ("activities", "report", "today", "strava sync"):
        assert "YYYY-MM-DD" in pages[name], name
    from heavylegs_sync.config_docs import sample_toml

    assert "docs/" not in sample_toml()  # `heavylegs config --sample` is read by pip users


def test_messages_do_not_point_to_docs_files() -> None:
    """A pip-installed user has no docs/ folder: messages link to pages or say it."""
    package = Path(__file__).resolve().parent.parent / "heavylegs_sync"
    for path in package.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            strings = re.findall(r"f?\"[^\"]*docs/[^\"]*\"", line)
            if "raise" in line or "echo" in line or "DOCS =" in line or "return f" in line:
                assert not strings, f"{path.name}:{number}: {line.strip()}"
    from heavylegs_sync.strava.client import DOCS

    assert DOCS.startswith("https://")


# -- 14. the docs say what the program does ------------------------------------------------


def test_the_stale_sentences_are_gone() -> None:
    docs = Path(__file__).resolve().parent.parent / "docs"
    stale = {
        "report.md": "once `heavylegs today` is part of the program",
        "watch.md": "until the HTML report exists",
        "notebook.md": "does not exist yet",
        "strava.md": "heavylegs import export/activities",
    }
    for page, sentence in stale.items():
        assert sentence not in (docs / page).read_text(encoding="utf-8"), page
    readme = (docs.parent / "README.md").read_text(encoding="utf-8")
    listed = " ".join(readme.split())
    from heavylegs_sync.report.activities import COLUMNS

    for column in COLUMNS:
        assert f"{column}," in listed or f"{column}`" in listed, column


# -- 15. the rest-days chart's label beside the bars, not over them ------------------------


def test_the_rest_days_label_does_not_overlap_the_bars(tmp_path: Path) -> None:
    from matplotlib.text import Annotation

    from heavylegs_sync.config import load_settings
    from heavylegs_sync.diagnosis import analyse_store
    from heavylegs_sync.report.charts import rest_days_figure
    from heavylegs_sync.report.view import build_view
    from heavylegs_sync.store import Store
    from tests.histories import runs_only_year

    first = date(2025, 1, 6)
    store_history(tmp_path / "store.sqlite", runs_only_year(first, weeks=12))
    settings = load_settings(config=settings_file(tmp_path), db=tmp_path / "store.sqlite", env={})
    with Store.open(settings.db_path, read_only=True) as store:
        analysis = analyse_store(store, settings, first + timedelta(weeks=12, days=-1), first)
    figure = rest_days_figure(build_view(analysis))
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    (ax,) = figure.axes
    (label,) = [
        t for t in ax.texts if isinstance(t, Annotation) and t.get_text().startswith("at least")
    ]
    box = label.get_window_extent(renderer)
    bars = [patch.get_window_extent(renderer) for patch in ax.patches]
    assert len(bars) == 12 and max(b.height for b in bars) > box.height  # bars that reach the line
    assert not any(box.overlaps(bar) for bar in bars)
    assert box.x0 >= ax.get_window_extent(renderer).x1  # beside the plot, right of its end


# -- proof: the docs' commands run -------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
#: Words in the docs' command lines that stand for a value, and what a test uses.
PLACEHOLDERS = {
    "YYYY-MM-DD": "2026-10-01",
    "FILE": "out.txt",
    "DIR": "rejected",
    "URL": "json://127.0.0.1:9/hook",
    "FOLDER": "inbox",
    "ID": "1",
    "D": "2026-10-01",
}


#: Programs the server's set-up runs on a role, database or account named heavylegs
#: (docs/server.md), and pg_hba.conf's lines: none of their words is a heavylegs command.
_POSTGRES = {"createdb", "createuser", "dropdb", "psql", "pg_dump", "pg_restore", "sudo"}
NOT_HEAVYLEGS = frozenset(_POSTGRES | {"local", "host", "hostssl", "hostnossl"})


def documented_commands() -> list[tuple[str, str]]:
    """Every ``heavylegs ...`` command in a code block of the README and docs/*.md (and
    inline ones that start a code span), with the page it is on."""
    found: list[tuple[str, str]] = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        lines = [
            line
            for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
            for line in block.splitlines()
        ]
        for span in re.findall(r"`(heavylegs [^`]+)`", text):
            # Prose names a command with placeholders ("import PATH...", "-v …") or an
            # option alone ("import --gpx-sport"): only whole commands are checked.
            prose = re.search(r"…|\.\.\.|>|\b[A-Z]{3,}\b", span) or span.split()[-1][:2] == "--"
            if not prose:
                lines.append(span)
        for line in lines:
            if line.lstrip().startswith("#") or "_HEAVYLEGS_COMPLETE" in line:
                continue
            line = re.sub(r"\s+#\s.*$", "", line)  # a trailing comment
            for part in line.split("&&"):
                words = part.split()
                if words and words[0] in NOT_HEAVYLEGS:
                    continue  # a role, a database or an account named heavylegs
                match = re.search(r"(?:^|[\s/])heavylegs((?:\s.*)?)$", part.strip())
                if match:
                    found.append((page.name, match.group(1).strip()))
    return found


def _argv(command: str, tmp_path: Path) -> list[str]:
    """The command's words with its placeholders and home paths made real."""
    import shlex

    command = command.replace("…", "x").replace("MORE FOLDERS...", "")
    command = re.sub(r"\[([^\[\]]*)\]", r"\1", command)  # optional parts: take them
    command = re.sub(r"(\w+)\|[\w|]+", r"\1", command)  # text|json|html: the first
    words = []
    for word in shlex.split(command):
        word = PLACEHOLDERS.get(word, word)
        if word.startswith(("~", "$HOME", "$demo")) or word in ("inbox", "out.txt", "rejected"):
            word = str(tmp_path / "home" / word.lstrip("~$HOME/").lstrip("/"))
        if word.startswith("fixtures/"):
            word = str(ROOT / word)
        words.append(word)
    return words


def test_the_docs_have_commands_to_check() -> None:
    commands = documented_commands()
    pages = {page for page, _ in commands}
    assert len(commands) >= 30 and {"README.md", "strava.md", "watch.md", "today.md"} <= pages


def test_every_documented_command_parses_and_the_read_only_ones_run(
    tmp_path: Path, sample: dict[str, str]
) -> None:
    """Each command the docs show exists with the options they give it (the real parser
    reads it up to an added --help); those that only read (or write a file of their own)
    run against the sample athlete and succeed."""
    from click.testing import CliRunner

    from heavylegs_sync.cli import main

    runs = {"activities", "report", "today", "info", "config"}
    checked = 0
    for page, command in documented_commands():
        argv = _argv(command, tmp_path)
        if "watch" in argv:  # the folders to watch must exist
            after = argv[argv.index("watch") + 1 :]
            for before, word in zip(["watch", *after], after, strict=False):
                if not word.startswith("-") and not before.startswith("-"):
                    Path(word).mkdir(parents=True, exist_ok=True)
        parsed = CliRunner().invoke(main, [*argv, "--help"], env=sample)
        assert parsed.exit_code == 0, (page, command, parsed.output)
        assert parsed.output.startswith("Usage: "), (page, command)
        checked += 1
        head = [w for w in argv if not w.startswith("-")][:1]
        if head and head[0] in runs and "--db" not in argv:
            env = {**sample, "HOME": str(tmp_path / "home")}
            with contextlib.chdir(tmp_path):  # a folder of its own: "-o report.json" lands there
                done = heavylegs_cli(*argv, env=env)
            assert done.returncode == 0, (page, command, done.stderr)
            assert "Traceback" not in done.stderr
    assert checked >= 30


def test_ctrl_c_during_strava_sync_keeps_the_queue_and_a_rerun_resumes(tmp_path: Path) -> None:
    from tests.strava_server import FakeStrava, make_history
    from tests.test_strava_program import START, connected, environment

    with FakeStrava(make_history(6, start=START), mode="2027") as fake:
        connected(fake, tmp_path)
        env = {**os.environ, **environment(fake, tmp_path)}
        fake.delay_next(60, count=1, path_prefix="/activities/")  # the first fetch hangs
        process = subprocess.Popen(
            [sys.executable, "-m", "heavylegs_sync", "strava", "sync"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            r.path == "/athlete/activities" for r in fake.requests
        ):
            time.sleep(0.1)
        time.sleep(1.0)  # now waiting on the first activity
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130 and out == ""
        assert err == (
            "interrupted: kept every activity stored before; run 'heavylegs strava sync'"
            " again to go on (what is stored is not fetched or imported twice)\n"
        )
        again = heavylegs_cli("strava", "sync", env=environment(fake, tmp_path), timeout=120)
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith("strava: 6 new activities")
