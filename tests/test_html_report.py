"""The HTML report (issue 13): one self-contained page, opened in a real headless Chromium
with the network cut off; charts render, every finding is on the page."""

from __future__ import annotations

import json
import re
import sys
from datetime import date, timedelta
from html import escape
from pathlib import Path
from typing import Any

import pytest

from heavylegs_sync.analysis import analyse
from heavylegs_sync.config import load_settings
from heavylegs_sync.diagnosis import analyse_store, from_strava
from heavylegs_sync.model import Category
from heavylegs_sync.report.html import to_html
from heavylegs_sync.store import Store
from tests.browser import chromium, visit
from tests.conftest import ROOT, copy_sample
from tests.histories import activity, runs_only_year, settings_file, store_history
from tests.test_cli import run

FIRST, LAST = "2026-09-28", "2026-11-22"
ARTIFACTS = ROOT / "test-artifacts"
#: An attribute or CSS that would make the browser fetch something.
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import"""
)


@pytest.fixture(scope="module")
def sample(
    sample_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """The sample athlete's HTML report (written by the CLI) and its JSON report."""
    tmp = tmp_path_factory.mktemp("html")
    copy_sample(sample_template, tmp)  # run()'s store: tmp/store.sqlite
    page = tmp / "report.html"
    result = run(tmp, "report", "--since", FIRST, "--until", LAST, "-o", str(page))
    assert result.returncode == 0, result.stderr
    data = run(tmp, "report", "--since", FIRST, "--until", LAST, "--format", "json")
    return page, json.loads(data.stdout)


def test_the_page_is_self_contained(sample: tuple[Path, dict[str, Any]]) -> None:
    page, _ = sample
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text
    assert EXTERNAL.search(text) is None
    # Five training charts, and sleep, resting HR and HRV from the wellness CSV.
    assert text.count('<svg class="chart"') == 8
    assert 'aria-label="sleep"' in text and 'aria-label="hrv"' in text
    # The page answers "why are my legs heavy?" for the report's last day too.
    assert 'id="today"' in text and f"Why are my legs heavy on {LAST}?" in text


def test_in_a_browser_offline_charts_render_and_every_finding_shows(
    sample: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    page, data = sample
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {w: ARTIFACTS / f"sample-report-{w}px.png" for w in (1280, 375)}
    seen = visit(page, tmp_path / "profile", screenshot=shots[1280], width=1280)
    assert seen.page_requests == []
    # The SVG charts are in the DOM after load, with their bars and marks drawn.
    assert seen.dom.count('<svg class="chart"') == 8
    assert len(re.findall(r"<path ", seen.dom)) > 100
    for finding in data["findings"]:
        assert escape(finding["message"], quote=False) in seen.dom, finding["code"]
        for activity_id in finding["activities"]:
            assert f"#{activity_id} " in seen.dom
    for group in data["groups"]:
        assert escape(group["headline"], quote=False) in seen.dom
    phone = visit(page, tmp_path / "profile", screenshot=shots[375], width=375)
    assert phone.page_requests == []
    from PIL import Image

    for shot in shots.values():
        with Image.open(shot) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50, f"{shot} looks blank"


def test_the_offline_check_sees_an_external_resource(tmp_path: Path) -> None:
    """The check above can fail: a page that loads a remote image is caught."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><img src="http://example.org/logo.png"><p>hi</p>')
    seen = visit(page, tmp_path / "profile")
    assert any("example.org" in r for r in seen.page_requests)


def test_strava_attribution_only_with_strava_activities(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    monday = date(2026, 3, 2)
    runs = [activity(Category.RUN, monday + timedelta(days=d), 40) for d in (1, 3)]
    store_history(db, [*runs, activity(Category.RUN, monday + timedelta(days=5), 50,
                                       source="strava")])  # fmt: skip
    settings = load_settings(config=settings_file(tmp_path), db=db)
    with Store.open(db, read_only=True) as store:
        analysis = analyse_store(store, settings, monday + timedelta(days=6), monday)
        assert from_strava(store, analysis)
        assert "Powered by Strava" in to_html(analysis, strava=from_strava(store, analysis))
        early = analyse_store(store, settings, monday + timedelta(days=4), monday)
        assert not from_strava(store, early)
        assert "Strava" not in to_html(early, strava=from_strava(store, early))


def test_the_today_section_shows_when_given(tmp_path: Path) -> None:
    monday = date(2026, 3, 2)
    acts = [activity(Category.RUN, monday + timedelta(days=d), 40) for d in range(7)]
    settings = load_settings(config=settings_file(tmp_path), db=tmp_path / "unused.sqlite")
    analysis = analyse(
        acts, first=monday, last=monday + timedelta(days=6), athlete=settings.athlete,
        zones=settings.zones, rules=settings.rules, season=settings.season,
    )  # fmt: skip
    assert 'id="today"' not in to_html(analysis)
    today = {
        "date": "2026-03-09",
        "causes": [{"cause": 1, "code": "no-rest", "score": 2.0, "evidence": {},
                    "message": "No rest day in the last 7 days.", "fix": "Rest tomorrow."}],
    }  # fmt: skip
    page = to_html(analysis, today=today)
    assert 'id="today"' in page and "No rest day in the last 7 days." in page
    assert "Why are my legs heavy on 2026-03-09?" in page
    calm = to_html(analysis, today={"date": "2026-03-09", "causes": []})
    assert "No training cause found for this day" in calm
    slept = to_html(analysis, today={"date": "2026-03-09", "causes": [],
                                     "wellness_judged": ["sleep"]})  # fmt: skip
    assert "your sleep is within its limit" in slept and "look at sleep" not in slept


def test_five_years_fit_in_three_megabytes(tmp_path: Path) -> None:
    first = date(2021, 1, 4)
    acts = runs_only_year(first, weeks=5 * 52)
    acts += [activity(Category.STRENGTH, first + timedelta(weeks=w, days=2), 40, hhmm="18:00")
             for w in range(0, 5 * 52, 2)]  # fmt: skip
    settings = load_settings(config=settings_file(tmp_path), db=tmp_path / "unused.sqlite")
    analysis = analyse(
        acts, first=first, last=first + timedelta(weeks=5 * 52, days=-1),
        athlete=settings.athlete, zones=settings.zones, rules=settings.rules,
        season=settings.season,
    )  # fmt: skip
    page = to_html(analysis)
    assert len(page.encode()) < 3_000_000
    assert page.count('<svg class="chart"') == 5 and EXTERNAL.search(page) is None


def test_without_chromium_the_browser_is_skipped_or_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The quick part of the test below, on :func:`tests.browser.chromium` itself."""
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # the venv: no browser
    monkeypatch.delenv("HEAVYLEGS_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^no chromium installed \(Debian: apt"):
        chromium()
    monkeypatch.setenv("HEAVYLEGS_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match=r"but HEAVYLEGS_REQUIRE_BROWSER is set$"):
        chromium()


@pytest.mark.exhaustive  # the quick part: the test above, on the function itself
def test_without_chromium_the_browser_tests_skip_or_fail_when_required(tmp_path: Path) -> None:
    """No chromium on PATH: a clear skip, or a failure when HEAVYLEGS_REQUIRE_BROWSER is set,
    the whole way, in a pytest of its own."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "HEAVYLEGS_REQUIRE_BROWSER"}
    env["PATH"] = str(Path(sys.executable).parent)  # the venv: python, no browser
    test = "test_the_offline_check_sees_an_external_resource"
    # -n 0: one process; the configured workers would start Python twice more for one test.
    args = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-n", "0",
            f"{ROOT / 'tests' / 'test_html_report.py'}::{test}"]  # fmt: skip
    skipped = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout
    assert "no chromium installed" in skipped.stdout
    env["HEAVYLEGS_REQUIRE_BROWSER"] = "1"
    failed = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert failed.returncode == 1 and "HEAVYLEGS_REQUIRE_BROWSER is set" in failed.stdout
