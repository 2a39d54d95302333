"""``heavylegs today`` end to end: the sample athlete's planted weeks, formats, settings."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from heavylegs_sync.config import RuleSettings, load_settings
from heavylegs_sync.diagnosis import today_store
from heavylegs_sync.errors import ConfigError
from heavylegs_sync.model import Activity, Category, OffsetSource
from heavylegs_sync.store import Store
from tests.conftest import SAMPLE, copy_sample, heavylegs_cli, modules_after

CONFIG = SAMPLE / "heavylegs.toml"
EXPECTED = json.loads((SAMPLE / "expected.json").read_text())


@pytest.fixture(scope="module")
def sample_env(sample_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The sample athlete imported with its own settings into a fresh store."""
    db = copy_sample(sample_template, tmp_path_factory.mktemp("sample"))
    return {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(CONFIG)}


def planted(week_start: str) -> list[str]:
    (week,) = [w for w in EXPECTED["weeks"] if w["week_start"] == week_start]
    return list(week["planted"])


# Each planted week, the planted problem a day explains, and that day (EXPECTED.md):
# - W2 (2026-10-05, no rest day; Mon-Sun exactly 7 training days): Monday 12 Oct, the
#   morning after. No rest day in the 7 days before it; and a streak of 7 ending yesterday
#   means training today would be day 8 (docs/today.md), so the streak signal joins in.
# - W4 (2026-10-19, 21% hard, just over 20%): Monday 26 Oct, whose 7 days before are
#   exactly that week.
# - W5 (2026-10-26, 8 training days in a row, Tue 20 - Tue 27 Oct): Wednesday 28 Oct, the
#   first rest day after it; none of the 7 days before it was rest.
# - W5 (2026-10-26, 1 strength session, minimum 2): Monday 2 Nov, 3 sessions in the 14
#   days before it against 4 needed, and Sunday's long run is no strength.
# - W6 (2026-11-02, 4 strength sessions, leg-heavy strength Saturday evening before the
#   75-min long run): Sunday 8 Nov, the long-run morning after it.
# - W8 (2026-11-16, peak, 3 strength sessions, one on the interval day): Saturday 21 Nov,
#   still in the peak season (its last day, 22 Nov, is the season's end).
PLANTED_DAYS = [
    ("2026-10-05", "no-rest-day", "2026-10-12", 1, {"no-rest-day", "too-many-days-without-rest"}),
    ("2026-10-19", "too-much-hard", "2026-10-26", 2, {"too-much-hard"}),
    (
        "2026-10-26",
        "too-many-days-without-rest",
        "2026-10-28",
        1,
        {"no-rest-day", "too-many-days-without-rest"},
    ),
    ("2026-10-26", "too-little-strength", "2026-11-02", 5, {"too-little-strength"}),
    (
        "2026-11-02",
        "strength-before-long-run",
        "2026-11-08",
        6,
        {"strength-yesterday", "too-much-strength"},
    ),
    (
        "2026-11-16",
        "too-much-strength",
        "2026-11-21",
        6,
        {"too-much-strength", "strength-yesterday"},
    ),
]


def test_every_planted_week_has_a_day() -> None:
    weeks = {w["week_start"] for w in EXPECTED["weeks"] if w["planted"]}
    assert weeks == {week for week, *_ in PLANTED_DAYS}


@pytest.mark.parametrize(("week", "code", "day", "cause", "signals"), PLANTED_DAYS)
def test_the_sample_athletes_planted_cause_comes_first(
    sample_env: dict[str, str], week: str, code: str, day: str, cause: int, signals: set[str]
) -> None:
    assert code in planted(week), f"week {week} has no planted {code}"
    done = heavylegs_cli("today", "--date", day, "--format", "json", env=sample_env)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["date"] == day
    first = answer["causes"][0]
    assert first["cause"] == cause
    assert set(first["evidence"]["signals"]) == signals
    assert first["evidence"]["activities"]
    text = heavylegs_cli("today", "--date", day, env=sample_env, timeout=60)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    ranked = [line for line in lines if line[:1].isdigit() and ". [cause " in line]
    assert ranked[0].startswith(f"1. [cause {cause}: ")
    assert max(len(line) for line in lines) <= 80


# The clean weeks, each the morning after: W7 (2026-11-09, peak, 2 strength sessions, the
# peak maximum; 19% hard, just under 20%; HRV 1% above its limit, one key run after a
# short night). Nothing applies.
@pytest.mark.parametrize(("week", "day"), [("2026-11-09", "2026-11-16")])
def test_a_clean_week_has_no_cause_and_names_the_other_causes(
    sample_env: dict[str, str], week: str, day: str
) -> None:
    assert planted(week) == []
    done = heavylegs_cli("today", "--date", day, "--format", "json", env=sample_env)
    assert json.loads(done.stdout) == {
        "date": day, "causes": [], "wellness_judged": ["sleep", "resting_hr", "hrv"]
    }  # fmt: skip
    text = heavylegs_cli("today", "--date", day, env=sample_env).stdout
    assert "no training cause of heavy legs found" in text
    for other in ("hydration", "nutrition", "running form", "shoes"):
        assert other in text
    # Sleep was judged from the sample's wellness.csv: it is not sent to look at it.
    assert "Your sleep, resting heart rate and HRV are within their limits too." in text
    assert "  - sleep" not in text


def test_after_a_clean_training_week_the_body_may_still_say_not_recovered(
    sample_env: dict[str, str],
) -> None:
    # W3 (2026-10-12: 3 strength sessions, the off-season maximum) is clean training, but
    # its resting heart rate is exactly 5 bpm above the baseline (fixtures/_gen_wellness).
    assert planted("2026-10-12") == []
    done = heavylegs_cli("today", "--date", "2026-10-19", "--format", "json", env=sample_env)
    (cause,) = json.loads(done.stdout)["causes"]
    assert (cause["cause"], cause["code"]) == (1, "resting-hr-up")
    assert cause["evidence"]["rise"] == 5.0 and cause["evidence"]["days"] == 7
    text = heavylegs_cli("today", "--date", "2026-10-19", env=sample_env).stdout
    assert "1 cause of heavy legs" in text and "training cause" not in text


def test_the_season_boundary_day_after_the_peak(sample_env: dict[str, str]) -> None:
    # Monday 23 Nov is off-season again: 3 sessions in the week before are within its
    # maximum of 3, where the peak week's maximum of 2 flagged them on 21 Nov.
    done = heavylegs_cli("today", "--date", "2026-11-23", "--format", "json", env=sample_env)
    assert all(c["code"] != "too-much-strength" for c in json.loads(done.stdout)["causes"])


def test_output_file_picks_json_from_its_suffix(sample_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "today.json"
    done = heavylegs_cli("today", "--date", "2026-10-26", "-o", str(out), env=sample_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["causes"][0]["cause"] == 2
    bad = heavylegs_cli("today", "-o", str(tmp_path / "today.csv"), env=sample_env)
    assert bad.returncode == 2
    assert "CSV output is not supported" in bad.stderr


def test_the_library_call_reads_the_store_read_only(sample_env: dict[str, str]) -> None:
    settings = load_settings(config=CONFIG, db=sample_env["HEAVYLEGS_DB"])
    with Store.open(settings.db_path, read_only=True) as store:
        answer = today_store(store, settings, date(2026, 10, 12))
    assert answer.causes[0].cause == 1
    assert answer.history_days == 14


def test_a_missing_store_and_an_empty_one(tmp_path: Path) -> None:
    env = {"HEAVYLEGS_DB": str(tmp_path / "none.sqlite"), "HEAVYLEGS_CONFIG": str(CONFIG)}
    done = heavylegs_cli("today", env=env)
    assert done.returncode == 1
    assert "no store here yet" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "none.sqlite").exists()
    with Store.open(tmp_path / "empty.sqlite"):
        pass
    env["HEAVYLEGS_DB"] = str(tmp_path / "empty.sqlite")
    text = heavylegs_cli("today", "--date", "2026-01-01", env=env)
    assert text.returncode == 0
    assert "no activity before this day is imported" in text.stdout
    assert "Note:" not in text.stdout  # nothing else to say about an empty store
    data = heavylegs_cli("today", "--date", "2026-01-01", "--format", "json", env=env)
    assert json.loads(data.stdout) == {"date": "2026-01-01", "causes": []}
    assert "nothing judged" in data.stderr


def test_without_any_max_hr_the_other_causes_are_still_judged(tmp_path: Path) -> None:
    """A store whose activities carry no HR settings and no max HR in the settings."""
    db = tmp_path / "store.sqlite"
    with Store.open(db) as store:
        for n in range(1, 11):
            start = datetime(2026, 3, 1, 7, tzinfo=UTC) + timedelta(days=n)
            store.add_activity(
                Activity(
                    source="test",
                    source_id=str(n),
                    sport="strength_training",  # as the FIT importer files it
                    sport_raw="training",
                    sub_sport="strength_training",
                    category=Category.STRENGTH,
                    start_utc=start,
                    utc_offset_s=0,
                    offset_source=OffsetSource.DEVICE,
                    timer_s=1800,
                )
            )
    config = tmp_path / "c.toml"
    config.write_text('[athlete]\ntimezone = "UTC"\n')
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(config)}
    done = heavylegs_cli("today", "--date", "2026-03-12", env=env)
    assert done.returncode == 0, done.stderr
    assert "[cause 1: Not enough recovery]" in done.stdout
    assert "Note: speed work (cause 2) not judged" in done.stdout


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("recent_days = 0", "recent_days is a number of days >= 1"),
        ("max_acute_chronic_ratio = -1", "must be a number >= 0"),
        ("chronic_days = 7.5", "must be a whole number"),
        ("acute_days = 30", "acute_days (30) must not exceed chronic_days (28)"),
    ],
)
def test_today_settings_are_checked(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[rules]\n{toml}\n")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(config=path, env={})


def test_today_settings_are_read(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        "[rules]\nrecent_days = 5\nstrength_window_days = 21\nacute_days = 7\n"
        "chronic_days = 42\nmax_acute_chronic_ratio = 1.3\n"
    )
    rules = load_settings(config=path, env={}).rules
    assert rules == RuleSettings(
        recent_days=5,
        strength_window_days=21,
        chronic_days=42,
        max_acute_chronic_ratio=1.3,
    )


def test_the_store_is_not_written(sample_env: dict[str, str]) -> None:
    db = Path(sample_env["HEAVYLEGS_DB"])
    with sqlite3.connect(db) as connection:
        before = connection.execute("SELECT count(*) FROM activities").fetchone()
    heavylegs_cli("today", "--date", "2026-11-08", env=sample_env)
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM activities").fetchone() == before


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["today", "--date", "2026-11-08"], id="today"),
        pytest.param(["report", "--since", "2026-09-28", "--until", "2026-11-22"], id="report"),
    ],
)
def test_reading_stored_figures_loads_no_heavy_library(
    sample_env: dict[str, str], command: list[str]
) -> None:
    """``today`` and ``report`` must start fast (issues 15 and 23): over stored figures they
    read no samples, so neither numpy nor pandas, the decoders or stravalib is imported; on
    an SQLite file nor psycopg (a quarter of a second); with ``[athlete] timezone`` set, not
    tzlocal either (the machine's zone serves only without one)."""
    heavy = ("numpy", "pandas", "stravalib", "fitparse", "fitfast", "gpxpy", "psycopg",
             "rich", "apprise", "matplotlib", "tzlocal")  # fmt: skip
    done, modules = modules_after(command, sample_env, timeout=60)
    assert "cause 6" in done.stdout
    assert [m for m in heavy if m in modules] == []


def test_the_default_day_is_today_in_the_athletes_time_zone(
    sample_env: dict[str, str], tmp_path: Path
) -> None:
    """UTC+14: for 14 hours of every day its date differs from UTC's."""
    config = tmp_path / "c.toml"
    config.write_text('[athlete]\ntimezone = "Pacific/Kiritimati"\n')
    env = {**sample_env, "HEAVYLEGS_CONFIG": str(config)}
    zone = ZoneInfo("Pacific/Kiritimati")
    before = datetime.now(zone).date().isoformat()
    done = heavylegs_cli("today", "--format", "json", env=env)
    after = datetime.now(zone).date().isoformat()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["date"] in (before, after)
