"""``heavylegs team``, the coach's view: real rows from a real store of five athletes
(each row is exactly what ``today`` answers for that athlete), who needs attention
first, the text table at 80 columns, the JSON shape, and the HTML page in headless
Chromium with links to each athlete's real report, written by the command.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from heavylegs_sync import service
from heavylegs_sync.analysis.today import Cause, Note, Signal, Today
from heavylegs_sync.config import Settings, load_settings
from heavylegs_sync.diagnosis import day_facts, derive, today_store
from heavylegs_sync.model import Activity, Category
from heavylegs_sync.report.team import render_team, report_file, team_dict, team_text
from heavylegs_sync.store import Store
from heavylegs_sync.team import (
    Status,
    TeamRow,
    attention_order,
    last_activity,
    team_row,
    week_so_far,
)
from tests.browser import visit
from tests.conftest import SAMPLE, copy_sample, heavylegs_cli
from tests.histories import SETTINGS, activity, settings_file, store_history, varied_year

#: The squad's day: a Thursday; its week so far is Mon 09 - Thu 12 Mar.
DAY = date(2026, 3, 12)
FIRST = date(2026, 1, 26)  # six weeks and a half of history before it, from a Monday
#: The coach's clock: the evening of the day, in Berlin.
CLOCK = datetime(2026, 3, 12, 19, 0, tzinfo=UTC)
#: Who needs attention first, and why: alphabetical order is another.
ORDER = ["zoe", "yan", "ann", "bea", "cat"]
STATUS = {
    "zoe": Status.CAUSES,  # every day for 17 days, 40% hard, never strength: 1, 2 and 5
    "yan": Status.CAUSES,  # a balanced week but strength yesterday: cause 6
    "ann": Status.STALE,  # nothing since a month ago
    "bea": Status.NO_DATA,  # nothing imported
    "cat": Status.CLEAR,  # a balanced week, and a run this morning
}


def _weeks(strength_days: tuple[int, ...]) -> list[Activity]:
    """Balanced weeks up to the day before :data:`DAY`: runs on Tue, Wed, Fri and a long
    Sunday run, all easy, strength after the run on ``strength_days`` (0 = Monday); rest
    Mon, Thu, Sat."""
    result = []
    for w in range(7):
        monday = FIRST + timedelta(weeks=w)
        for d, minutes in ((1, 45), (2, 45), (4, 45), (6, 80)):
            if monday + timedelta(days=d) < DAY:
                result.append(activity(Category.RUN, monday + timedelta(days=d), minutes))
        for d in strength_days:
            if monday + timedelta(days=d) < DAY:
                day = monday + timedelta(days=d)
                result.append(activity(Category.STRENGTH, day, 30, hhmm="18:00"))
    return result


def squad_histories() -> dict[str, list[Activity]]:
    zoe = [
        activity(Category.RUN, DAY - timedelta(days=n), 45, hard_share=0.4) for n in range(1, 18)
    ]
    yan = _weeks(strength_days=(2, 4))  # Wed and Fri: Wed 11 Mar is yesterday
    cat = [*_weeks(strength_days=(1, 4)), activity(Category.RUN, DAY, 30)]
    ann = [
        activity(Category.RUN, date(2026, 2, 1) + timedelta(days=d), 40) for d in range(0, 10, 2)
    ]
    return {"zoe": zoe, "yan": yan, "ann": ann, "bea": [], "cat": cat}


#: Zoe's own rules: hard running is judged against 30% for her (she is 40% hard).
SQUAD_SETTINGS = SETTINGS + "[athletes.zoe.rules]\nmax_hard_share = 0.3\n"


@dataclass
class Squad:
    folder: Path
    settings: Settings  # the coach's: no athlete named
    env: dict[str, str]  # the command's environment
    backend: str  # "sqlite" or "postgresql"

    def of(self, name: str) -> Settings:
        """The athlete's own settings, as ``--athlete NAME`` resolves them."""
        return load_settings(config=self.settings.config_path, db=self.settings.db_target,
                             athlete=name)  # fmt: skip


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def squad(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Squad]:
    """One store, five athletes, each with their own history (one with none): an SQLite
    file, or a database on the run's PostgreSQL server."""
    folder = tmp_path_factory.mktemp("squad")
    config = folder / "heavylegs.toml"
    config.write_text(SQUAD_SETTINGS)
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            target: str = str(folder / "store.sqlite")
        else:
            target = stack.enter_context(request.getfixturevalue("pg_server").database())
        shared = load_settings(config=config, db=target)
        with Store.open(target, unscoped=True) as store:
            for name, activities in squad_histories().items():
                store.athletes.add(name)
                athlete = store.for_athlete(name)
                for a in activities:
                    athlete.add_activity(a)
                derive(athlete, shared)  # the figures an import keeps: no samples read later
        env = {"HEAVYLEGS_DB": target, "HEAVYLEGS_CONFIG": str(config)}
        yield Squad(folder, shared, env, request.param)


def squad_rows(squad: Squad) -> list[TeamRow]:
    """The rows the service gives, in its order."""
    return service.team(squad.settings, DAY, clock=CLOCK).rows


def test_each_row_is_todays_answer_and_the_week_so_far(squad: Squad) -> None:
    rows = {r.athlete: r for r in squad_rows(squad)}
    assert {name: r.status for name, r in rows.items()} == STATUS
    for name in ORDER:
        with Store.open(squad.settings.db_target, athlete=name, read_only=True) as store:
            answer = today_store(store, squad.of(name), DAY, current=CLOCK.date())
        assert rows[name].causes == answer.causes, name
        assert rows[name].answer.notes == answer.notes, name
    assert [c.cause for c in rows["zoe"].causes] == [1, 5, 2]
    # Her own limit (30%), not the shared one (20%): 40% hard is 1.33, not 2.
    (hard,) = [c for c in rows["zoe"].causes if c.cause == 2]
    assert hard.evidence["max_hard_share"] == 0.3 and hard.score == 1.33
    assert [c.code for c in rows["yan"].causes] == ["strength-yesterday"]
    # Cat's week so far: Mon rest, Tue run 45 + strength, Wed run 45, and this morning's
    # run (counted in the week, never in the causes: they are about the days before).
    cat = rows["cat"]
    assert cat.week is not None and cat.last is not None
    assert (cat.last.day, cat.last.category, cat.last.label) == (DAY, Category.RUN, "run 30 min")
    assert cat.week.run_seconds == pytest.approx(120 * 60)
    assert (cat.week.rest_days, cat.week.days_past, cat.week.strength_sessions) == (1, 3, 1)
    assert cat.week.hard_share == 0.0
    assert rows["zoe"].week is not None and rows["zoe"].week.hard_share == pytest.approx(0.4)
    assert rows["zoe"].week.rest_days == 0
    # Silence is not evidence: no week figures for the stale athlete, none without data.
    assert rows["ann"].week is None and rows["ann"].days_since_last == 31
    assert rows["bea"].week is None and rows["bea"].last is None


def test_one_athlete_named_is_their_row_alone(squad: Squad) -> None:
    done = heavylegs_cli("--athlete", "yan", "team", "--date", str(DAY), "--format", "json",
                         env=squad.env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)["athletes"]
    assert (row["athlete"], row["rank"], row["causes"][0]["code"]) == (
        "yan",
        1,
        "strength-yesterday",
    )
    unknown = heavylegs_cli("--athlete", "nobody", "team", env=squad.env)
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    (line,) = unknown.stderr.splitlines()
    assert line.startswith("Error: ") and "no athlete 'nobody'" in line


def test_who_needs_attention_first(squad: Squad) -> None:
    assert [r.athlete for r in attention_order(squad_rows(squad))] == ORDER


def _row(
    name: str, *scores: float, activities: int = 10, recent: bool = True, day: date = DAY
) -> TeamRow:
    causes = [Cause(2, "code", score, (Signal("code", score, {}),)) for score in scores]
    answer = Today(day, causes, 30, activities, (), recent)
    return TeamRow(name, answer, None, None)


def test_the_attention_order_weighs_causes_then_silence_then_name() -> None:
    rows = [
        _row("a-clear"),
        _row("b-empty", activities=0),
        _row("c-stale", recent=False),
        _row("d-one-strong", 2.5),
        _row("e-two-weak", 1.2, 1.1),
        _row("f-one-weak", 1.2),
        _row("g-tie", 1.2),
        _row("h-two-strong", 2.0, 1.5),
    ]
    ordered = [r.athlete for r in attention_order(reversed(rows))]
    assert ordered == [
        "h-two-strong",  # 3.5 in all
        "d-one-strong",  # 2.5 from one cause beats 2.3 from two
        "e-two-weak",
        "f-one-weak",  # a tie on every score: by name
        "g-tie",
        "c-stale",
        "b-empty",
        "a-clear",
    ]


def test_the_text_is_a_table_of_80_columns(squad: Squad) -> None:
    rows = squad_rows(squad)
    long = TeamRow("a-very-long-athlete-name", rows[0].answer, rows[0].last, rows[0].week)
    text = team_text([*rows, long])
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0] == (
        "Team on Thu 12 Mar 2026: 6 athletes, 3 with causes of heavy legs, 1 with nothing"
    )
    assert "Week so far: Mon 09 Mar to Thu 12 Mar." in lines
    table = lines[lines.index("Week so far: Mon 09 Mar to Thu 12 Mar.") + 2 :]
    assert table[0].split() == ["athlete", "causes", "last", "activity", "run", "hard", "rest",
                                "str"]  # fmt: skip
    assert [line.split()[0] for line in table[1:6]] == ORDER
    assert table[1].split()[:4] == ["zoe", "1", "5", "2"]
    assert table[5].split() == ["cat", "none", "Thu", "12", "Mar", "run", "30", "min", "2:00",
                                "0%", "1/3", "1"]  # fmt: skip
    assert table[4].split() == ["bea", "no", "data", "-", "-", "-", "-", "-"]
    assert table[6].startswith("a-very-long-a~ ")
    assert "  yan: 6 strength yesterday (1)" in lines
    assert "  bea: no activities yet: heavylegs --athlete bea import FOLDER" in lines
    assert any(
        line.startswith("  ann: nothing recent: the latest activity is from") for line in lines
    )


def test_the_json_keys(squad: Squad) -> None:
    rows = squad_rows(squad)
    data = json.loads(render_team(rows, "json", links={"zoe": "reports/zoe.html"}))
    assert list(data) == ["date", "athletes"] and data["date"] == DAY.isoformat()
    assert [a["athlete"] for a in data["athletes"]] == ORDER
    assert [a["rank"] for a in data["athletes"]] == [1, 2, 3, 4, 5]
    keys = ["athlete", "rank", "date", "status", "severity", "causes", "notes",
            "last_activity", "days_since_last", "week", "report"]  # fmt: skip
    assert all(list(a) == keys for a in data["athletes"])
    zoe, yan, ann, bea, cat = data["athletes"]
    assert [c["cause"] for c in zoe["causes"]] == [1, 5, 2]
    assert list(zoe["causes"][0]) == ["cause", "code", "score", "message", "evidence", "fix"]
    assert zoe["severity"] == pytest.approx(sum(c["score"] for c in zoe["causes"]))
    assert zoe["report"] == "reports/zoe.html" and yan["report"] is None
    assert (ann["status"], ann["week"], ann["days_since_last"]) == ("stale", None, 31)
    assert ann["notes"][0].startswith("nothing recent to judge")
    assert (bea["status"], bea["last_activity"], bea["causes"]) == ("no-data", None, [])
    assert cat["status"] == "clear"
    assert cat["last_activity"] == {
        "id": cat["last_activity"]["id"],
        "date": "2026-03-12",
        "start_local": "2026-03-12T07:00:00+01:00",
        "category": "run",
        "label": "run 30 min",
    }
    assert cat["week"] == {
        "first": "2026-03-09", "last": "2026-03-12", "activities": 4, "run_seconds": 7200,
        "hard_share": 0.0, "rest_days": 1, "days_past": 3, "strength_sessions": 1,
    }  # fmt: skip
    assert team_dict([], {}) == {"date": None, "athletes": []}


def test_the_page_in_a_browser_lists_by_attention_and_links_real_reports(
    squad: Squad, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    page = site / "team.html"
    done = heavylegs_cli("team", "--date", str(DAY), "-o", str(page), "--reports", env=squad.env)
    assert done.returncode == 0, done.stderr
    if squad.backend == "sqlite":  # the page is the same from either: one browser run
        seen = visit(page, tmp_path / "profile", width=1000, height=900)
        assert seen.page_requests == []
        dom = seen.dom
    else:
        dom = page.read_text()
    shown = re.findall(r'<tr data-athlete="([^"]+)" data-status="([^"]+)">', dom)
    assert shown == [(name, STATUS[name].value) for name in ORDER]
    hrefs = re.findall(r'<tr data-athlete="[^"]+"[^>]*><td><a href="([^"]+)">', dom)
    assert hrefs == [f"reports/{name}.html" for name in ORDER]
    reports = {
        name: (site / unquote(href)).read_text() for name, href in zip(ORDER, hrefs, strict=True)
    }
    assert all(r.startswith("<!DOCTYPE html>") for r in reports.values())
    # Each report is its athlete's own: zoe's shows her 17 days without rest, yan's his
    # strength yesterday, and bea has nothing.
    assert f"to {DAY}</h1>" in reports["zoe"] and "17 training days in a row" in reports["zoe"]
    assert "Strength yesterday, Wed 11 Mar" in reports["yan"]
    assert "17 training days" not in reports["yan"]
    assert "Nothing imported yet" in reports["bea"]
    assert "Overdoing or mistiming strength</strong>: strength yesterday (1)" in dom


def test_athletes_on_two_dates_each_have_their_own(tmp_path: Path) -> None:
    """Without --date each athlete's today is in their own zone: a squad may span two
    dates, and then no one date is named."""
    rows = [_row("tokyo", 1.5, day=DAY + timedelta(days=1)), _row("berlin")]
    text = team_text(rows)
    assert text.startswith("Team on each athlete's today (12 Mar to 13 Mar 2026): 2 athletes,")
    assert "Week so far" not in text
    data = team_dict(rows, {})
    assert data["date"] is None
    assert [(a["athlete"], a["date"]) for a in data["athletes"]] == [
        ("tokyo", "2026-03-13"), ("berlin", "2026-03-12")
    ]  # fmt: skip


def test_a_name_that_is_no_file_name_still_links_its_report(tmp_path: Path) -> None:
    name = "Ana/../María Ö"
    row = TeamRow(name, Today(DAY, [], 0, 0), None, None)
    page = tmp_path / "team.html"
    (tmp_path / "reports").mkdir()
    (tmp_path / report_file(name)).write_text("<!DOCTYPE html><title>hers</title>")
    page.write_text(render_team([row], "html", links={name: report_file(name)}))
    (href,) = re.findall(r'<a href="([^"]+)">', page.read_text())
    assert (tmp_path / unquote(href)).read_text().endswith("<title>hers</title>")
    assert [p.name for p in (tmp_path / "reports").iterdir()] == [Path(unquote(href)).name]


@pytest.fixture(scope="module")
def sample_env(sample_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    db = copy_sample(sample_template, tmp_path_factory.mktemp("sample"))
    return {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml")}


# The sample athlete's planted days (tests/test_today_cli.py) and a clean one.
@pytest.mark.parametrize("day", ["2026-10-12", "2026-10-26", "2026-11-08", "2026-11-16"])
def test_the_sample_athletes_row_says_what_today_says(sample_env: dict[str, str], day: str) -> None:
    today = heavylegs_cli("today", "--date", day, "--format", "json", env=sample_env)
    team = heavylegs_cli("team", "--date", day, "--format", "json", env=sample_env)
    assert team.returncode == 0, team.stderr
    (row,) = json.loads(team.stdout)["athletes"]
    assert row["causes"] == json.loads(today.stdout)["causes"]
    assert row["status"] == ("causes" if row["causes"] else "clear")
    text = heavylegs_cli("team", "--date", day, env=sample_env)
    assert max(len(line) for line in text.stdout.splitlines()) <= 80


def test_the_cli_writes_the_page_and_the_reports_it_links(
    sample_env: dict[str, str], tmp_path: Path
) -> None:
    page = tmp_path / "coach" / "team.html"
    done = heavylegs_cli("team", "--date", "2026-11-08", "-o", str(page), "--reports",
                         env=sample_env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"team written to {page}\n"
    text = page.read_text()
    assert '<a href="reports/me.html">me</a>' in text
    report = (page.parent / "reports" / "me.html").read_text()
    assert "Heavy legs report, 2026-09-28 to 2026-11-08" in report
    assert "Why are my legs heavy on 2026-11-08?" in report
    # Later pages link the report already there; JSON names it too.
    again = heavylegs_cli("team", "--date", "2026-11-09", "-o", str(page.with_suffix(".json")),
                          env=sample_env)  # fmt: skip
    assert again.returncode == 0, again.stderr
    (row,) = json.loads(page.with_suffix(".json").read_text())["athletes"]
    assert row["report"] == "reports/me.html"
    lonely = tmp_path / "elsewhere" / "team.html"
    alone = heavylegs_cli("team", "--date", "2026-11-08", "-o", str(lonely), env=sample_env)
    assert alone.returncode == 0 and "<a href" not in lonely.read_text()


def test_reports_need_an_html_page(sample_env: dict[str, str], tmp_path: Path) -> None:
    for args in (["--reports"], ["--reports", "-o", str(tmp_path / "team.json")]):
        done = heavylegs_cli("team", *args, env=sample_env)
        assert done.returncode == 2
        assert done.stderr.splitlines()[-1] == (
            "Error: --reports needs an HTML page to link them: -o FILE.html"
        )
        assert not (tmp_path / "reports").exists()


def test_the_service_judges_each_athlete_by_their_own_settings(
    sample_env: dict[str, str], tmp_path: Path
) -> None:
    db = Path(sample_env["HEAVYLEGS_DB"])
    shared = load_settings(config=SAMPLE / "heavylegs.toml", db=db)
    config = tmp_path / "more-strength.toml"
    config.write_text((SAMPLE / "heavylegs.toml").read_text()
                      + "\n[rules]\nmax_strength_off_season = 4\n")  # fmt: skip
    lenient = load_settings(config=config, db=db)
    clock = datetime(2026, 11, 8, 20, 0, tzinfo=UTC)
    (strict,) = service.team(shared, None, clock=clock).rows
    (own,) = service.team(shared, None, clock=clock, settings_for=lambda _: lenient).rows
    assert strict.day == own.day == date(2026, 11, 8)  # the athlete's today at the clock
    assert [s.code for s in strict.causes[0].signals] == ["strength-yesterday",
                                                          "too-much-strength"]  # fmt: skip
    assert [s.code for s in own.causes[0].signals] == ["strength-yesterday"]


def test_an_empty_store_is_one_athlete_with_nothing_imported(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    Store.open(db).close()
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(settings_file(tmp_path))}
    done = heavylegs_cli("team", "--date", "2026-03-12", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Team on Thu 12 Mar 2026: 1 athlete, 1 with nothing to judge.")
    assert "me: no activities yet: heavylegs --athlete me import FOLDER" in done.stdout


def test_a_store_without_athletes_says_so(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    Store.open(db, unscoped=True).close()
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(settings_file(tmp_path))}
    done = heavylegs_cli("team", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"date": None, "athletes": []}
    assert heavylegs_cli("team", env=env).stdout == "Team: no athletes in this store.\n"


def test_notes_say_what_could_not_be_judged() -> None:
    note = Note("zones-missing", {"reason": "no max HR"})
    row = TeamRow("x", Today(DAY, [], 20, 5, (note,)), None, None)
    (athlete,) = team_dict([row], {})["athletes"]
    assert athlete["notes"] == [
        "speed work (cause 2) not judged, runs count as easy in the load: no max HR"
    ]


def test_a_missing_or_damaged_store_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(bytes(range(256)) * 20)
    config = str(settings_file(tmp_path))
    for db, says in ((tmp_path / "none.sqlite", "no store here yet"), (junk, "not a usable")):
        done = heavylegs_cli("team", env={"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": config})
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.startswith(f"Error: {db}: {says}") and done.stderr.count("\n") == 1
        assert done.stdout == ""


def test_the_bounded_read_gives_todays_answer_on_every_day(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The row reads only the weeks before the day when they decide every rule; on each
    day of a varied year its answer is the one ``today`` gives from all history, and
    the days read whole say so in the log."""
    db = tmp_path / "store.sqlite"
    history = varied_year()
    store_history(db, history)
    settings = load_settings(config=settings_file(tmp_path), db=db)
    first = min(a.start_utc.date() for a in history)
    caplog.set_level("DEBUG", logger="heavylegs.report")
    whole, silent = set(), set()
    with Store.open(db, read_only=True) as store:
        for n in range(1, 262):
            day = first + timedelta(days=n)
            caplog.clear()
            row = team_row(store, settings, day, athlete="x", current=day)
            said = [r.getMessage() for r in caplog.records]
            if any("do not decide: all read" in m for m in said):
                whole.add(n)
            if any("nothing in the 42 days before" in m for m in said):
                silent.add(n)
            full = today_store(store, settings, day, current=day)
            assert row.causes == full.causes, day
            assert row.answer.notes == full.notes, day
            assert row.answer.recent == full.recent, day
            assert (row.answer.activities == 0) == (full.activities == 0), day
            # The row's latest activity and week are those all history gives.
            every = day_facts(store, settings, day, through=day)
            upto = [f for f in every.facts if f.day <= day]
            assert row.last == last_activity(upto), day
            if row.week is not None:
                assert row.week == week_so_far(upto, day, settings), day
    # Read whole: a history younger than four weeks, the streak longer than the window,
    # the return after ten weeks off, and the load ratio's blocks reaching before the
    # lone run. Silence (the latest activity older than the window) is read from a few
    # days before the latest activity, not whole.
    assert set(range(1, 29)) <= whole and {100, 102} <= whole
    assert {175, 190, 250} <= whole
    assert set(range(160, 172)) <= silent and not silent & whole
    assert 100 < 261 - len(whole) < 200, sorted(whole)


def test_the_command_in_parts_prints_the_same_view(squad: Squad) -> None:
    """``team --workers 3``: the squad judged in three processes, as ``-vv`` says, and
    the view as one process prints it, line for line."""
    one = heavylegs_cli("-vv", "team", "--date", str(DAY), "--workers", "1", env=squad.env,
                        process=True)  # fmt: skip
    three = heavylegs_cli("-vv", "team", "--date", str(DAY), "--workers", "3", env=squad.env,
                          process=True)  # fmt: skip
    assert one.returncode == three.returncode == 0, (one.stderr, three.stderr)
    assert three.stdout == one.stdout and "athlete" in one.stdout
    assert "team: 5 athletes judged in 3 processes" in three.stderr
    assert "team: 5 athlete(s) judged in one process (one asked)" in one.stderr
