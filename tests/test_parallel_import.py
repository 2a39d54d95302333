"""The second worker pays (issue 21): hashing and zone times run in the worker processes,
and what they compute equals what the one writer computed before, figure for figure.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from heavylegs_sync.cli import _decode_options
from heavylegs_sync.config import Settings, load_settings
from heavylegs_sync.decoding import DecodePool
from heavylegs_sync.diagnosis import derive, store_timeline
from heavylegs_sync.hr.zones import ZoneTimesKey
from heavylegs_sync.ingest import import_paths
from heavylegs_sync.store import Store
from tests.conftest import SAMPLE

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def settings_for(tmp_path: Path, max_hr: int | None = None) -> Settings:
    """The sample athlete's settings, with a max HR set or (None) left to an estimate."""
    config = tmp_path / "settings.toml"
    text = (SAMPLE / "heavylegs.toml").read_text(encoding="utf-8")
    if max_hr is not None:
        text = text.replace("[athlete]\n", f"[athlete]\nmax_hr = {max_hr}\n", 1)
    config.write_text(text, encoding="utf-8")
    settings = load_settings(config=config, db=tmp_path / "unused.sqlite", env={})
    assert settings.athlete.max_hr == max_hr
    return settings


def zone_figures(store: Store, settings: Settings) -> dict[str, str | None]:
    """Each activity's zone times for the model in effect on its day, as kept."""
    activities = store.activities()
    timeline = store_timeline(store, settings, activities)
    found: dict[str, str | None] = {}
    for a in activities:
        assert a.id is not None
        key = str(ZoneTimesKey.of(timeline.at(a.start_local.date()), settings.rules.max_gap_s))
        found[a.source_id] = store.derived(key, [a.id]).get(a.id)
    return found


def import_into(db: Path, settings: Settings, *, parallel: bool) -> Store:
    options = _decode_options(settings)
    store = Store.open(db)
    if parallel:
        with DecodePool(2) as pool:
            import_paths(store, [SAMPLE], options, now=NOW, pool=pool)
            derive(store, settings, pool)
    else:  # the writer alone computes every zone time, after the import
        import_paths(store, [SAMPLE], replace(options, zone_basis=None), now=NOW, workers=2)
        derive(store, settings)
    return store


@pytest.mark.parametrize("max_hr", [186, None], ids=["max-hr", "estimate"])
def test_zone_times_from_the_workers_equal_the_writers(tmp_path: Path, max_hr: int | None) -> None:
    settings = settings_for(tmp_path, max_hr)
    with (
        import_into(tmp_path / "parallel.sqlite", settings, parallel=True) as parallel,
        import_into(tmp_path / "serial.sqlite", settings, parallel=False) as serial,
    ):
        got, expected = zone_figures(parallel, settings), zone_figures(serial, settings)
    assert len(expected) >= 40 and all(v is not None for v in expected.values())
    assert got == expected


def test_with_a_max_hr_set_every_zone_time_comes_from_the_decoding_workers(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, 186)
    with Store.open(tmp_path / "store.sqlite") as store:
        with DecodePool(2) as pool:
            import_paths(store, [SAMPLE], _decode_options(settings), now=NOW, pool=pool)
        # No derive(): what the workers kept is already every figure a report reads.
        figures = zone_figures(store, settings)
    assert figures and all(v is not None for v in figures.values())


def test_the_workers_hash_and_the_store_skips_known_content_before_decoding(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    options = _decode_options(settings)
    files = sorted(SAMPLE.glob("*.fit"))[:6]
    with Store.open(tmp_path / "store.sqlite") as store, DecodePool(2) as pool:
        first = import_paths(store, files, options, now=NOW, pool=pool)
        copy = tmp_path / "renamed.fit"
        copy.write_bytes(files[0].read_bytes())
        again = import_paths(store, [*files, copy], options, now=NOW, pool=pool)
        log = store.import_log()
    assert (first.new, again.new, again.duplicate) == (6, 0, 7)
    digests = {entry.sha256 for entry in log}
    assert digests == {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    renamed = [e for e in log if Path(e.path).name == "renamed.fit"]
    assert renamed[0].message == f"already imported from {files[0]}"
