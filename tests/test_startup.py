"""What ``heavylegs today`` imports, on both backends: only what answering needs (issue 23);
and what ``team`` in words leaves out.

Start-up is most of what ``today`` costs (docs/performance.md, "today's start-up on a
server"), so a module that slips onto its path costs every run. This checks which modules
a real run loaded, never how long it took: timings are bench/startup.py's.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SAMPLE, heavylegs_cli, modules_after

#: Modules of ours that answering ``today`` from stored figures never needs: the
#: importers and decoders, Strava, the watcher, the coach's view, the other reports and
#: their grouping of findings, the report's weekly wellness and load, the store's check and
#: maintenance (info, forget), planning how copies link (and matching them), samples' HR
#: traces, housekeeping.
NOT_OURS = (
    "heavylegs_sync.analysis.body",
    "heavylegs_sync.analysis.grouping",
    "heavylegs_sync.analysis.weekload",
    "heavylegs_sync.api",
    "heavylegs_sync.codec",
    "heavylegs_sync.config_docs",
    "heavylegs_sync.decoding",
    "heavylegs_sync.forked",
    "heavylegs_sync.housekeeping",
    "heavylegs_sync.hr.trace",
    "heavylegs_sync.importers",
    "heavylegs_sync.ingest",
    "heavylegs_sync.linking",
    "heavylegs_sync.matching",
    "heavylegs_sync.notify",
    "heavylegs_sync.report.activities",
    "heavylegs_sync.report.charts",
    "heavylegs_sync.report.html",
    "heavylegs_sync.report.json",
    "heavylegs_sync.report.render",
    "heavylegs_sync.report.team",
    "heavylegs_sync.report.text",
    "heavylegs_sync.report.view",
    "heavylegs_sync.report.wellness",
    "heavylegs_sync.squad_reads",
    "heavylegs_sync.squad_watch",
    "heavylegs_sync.store.check",
    "heavylegs_sync.store.maintenance",
    "heavylegs_sync.strava",
    "heavylegs_sync.team",
    "heavylegs_sync.watch",
)
#: Libraries it never needs either (the sample's settings name a time zone: no tzlocal).
NOT_THEIRS = ("numpy", "pandas", "stravalib", "fitparse", "fitfast", "gpxpy", "rich",
              "apprise", "matplotlib", "tzlocal")  # fmt: skip
#: On an SQLite file, the server's parts stay out too.
NOT_ON_SQLITE = ("psycopg", "heavylegs_sync.store.postgres", "heavylegs_sync.store.dialect")

DAY = "2026-11-08"


def loaded_by_today(env: dict[str, str]) -> list[str]:
    """The modules a real ``today`` process holds when it has answered."""
    done, modules = modules_after(["today", "--date", DAY], env)
    assert "cause 6" in done.stdout  # it did answer (the sample's planted strength week)
    return modules


def under(modules: list[str], names: tuple[str, ...]) -> list[str]:
    """The modules that are one of ``names`` or inside one of them (a package)."""
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def test_today_imports_only_what_answering_needs(backend: str) -> None:
    env = {"HEAVYLEGS_DB": backend, "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml")}
    done = heavylegs_cli("import", str(SAMPLE), env=env)
    assert done.returncode == 0, done.stderr
    first = heavylegs_cli("today", "--date", DAY, env=env)  # may compute and keep figures
    assert first.returncode == 0, first.stderr

    modules = loaded_by_today(env)

    assert "heavylegs_sync.report.today" in modules  # the check sees our own modules
    forbidden: tuple[str, ...] = NOT_OURS + NOT_THEIRS
    if not backend.startswith("postgresql://"):
        forbidden += NOT_ON_SQLITE
    else:
        assert "psycopg" in modules
    assert under(modules, forbidden) == []


#: What the coach's view in words (``team`` to the terminal) never needs: the reports'
#: pages and their writing (``-o FILE`` loads that), importers, Strava, the watcher.
NOT_FOR_TEAM = (
    "heavylegs_sync.importers",
    "heavylegs_sync.report.charts",
    "heavylegs_sync.report.html",
    "heavylegs_sync.report.json",
    "heavylegs_sync.report.render",
    "heavylegs_sync.report.text",
    "heavylegs_sync.report.view",
    "heavylegs_sync.strava",
    "heavylegs_sync.watch",
    "numpy",
    "pandas",
)


def test_team_in_words_leaves_the_report_pages_unloaded(db_path: Path) -> None:
    env = {"HEAVYLEGS_DB": str(db_path), "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml")}
    assert heavylegs_cli("import", str(SAMPLE), env=env).returncode == 0
    first = heavylegs_cli("team", "--date", DAY, env=env)  # may compute and keep figures
    assert first.returncode == 0, first.stderr

    done, modules = modules_after(["team", "--date", DAY], env)

    assert done.stdout.startswith(first.stdout) and "athlete" in first.stdout
    assert "heavylegs_sync.report.team" in modules
    assert under(modules, NOT_FOR_TEAM) == []


def test_names_moved_off_the_path_still_import_from_where_they_were() -> None:
    """A library caller's imports keep working: the maintenance part's types from the
    store package (and wellness files' from ``store.wellness``), linked copies' reading
    from ``linking``; each the same object as where it now lives."""
    from heavylegs_sync import linked, linking
    from heavylegs_sync.store import (
        ForgetTarget,
        StoreOverview,
        WellnessFile,
        WellnessSpan,
        maintenance,
        wellness,
    )

    assert (ForgetTarget, StoreOverview) == (maintenance.ForgetTarget, maintenance.StoreOverview)
    assert (WellnessFile, WellnessSpan) == (maintenance.WellnessFile, maintenance.WellnessSpan)
    assert (wellness.WellnessFile, wellness.WellnessSpan) == (WellnessFile, WellnessSpan)
    assert linking.merged_metadata is linked.merged_metadata
    assert linking.sources_of is linked.sources_of
    assert linking.METADATA_FIELDS is linked.METADATA_FIELDS
