"""What hangs off activities (strength sets, copies from other sources, their names) is
read by the activities' ids, in lists of at most 500: the same on both backends, and the
same whatever the list length."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date, timedelta

import pytest

from heavylegs_sync.model import Activity, Category, StrengthSet
from heavylegs_sync.store import Store, activities
from tests.histories import activity


def _history() -> list[Activity]:
    """Five strength sessions with sets, each also listed by Strava (a linked copy with
    a name), and a run between them."""
    first = date(2026, 3, 2)
    result = []
    for n in range(5):
        day = first + timedelta(days=2 * n)
        lift = activity(Category.STRENGTH, day, 40)
        sets = [StrengthSet(i, "squat", 8 + i, 40.0 + n, 45.0) for i in range(3)]
        result.append(replace(lift, sets=sets))
        copy = activity(Category.STRENGTH, day, 40, source="strava")
        result.append(replace(copy, samples=None, name=f"Leg day {n}"))
        result.append(activity(Category.RUN, day + timedelta(days=1), 30))
    return result


def _read(target: str) -> list[tuple[object, ...]]:
    with Store.open(target, read_only=True) as store:
        return [
            (a.start_utc, a.category, a.name, a.sources, a.source_refs, a.sets)
            for a in store.activities()
        ]


def test_sets_and_copies_are_the_same_read_in_lists_of_any_length(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(backend) as store:
        for a in _history():
            store.add_activity(a)
    whole = _read(backend)
    assert len(whole) == 10  # the Strava copies are linked, not listed
    lifts = [row for row in whole if row[1] is Category.STRENGTH]
    assert [len(row[5]) for row in lifts] == [3] * 5  # type: ignore[arg-type]
    assert [row[3] for row in lifts] == [["fit", "strava"]] * 5
    assert [row[2] for row in lifts] == [f"Leg day {n}" for n in range(5)]
    monkeypatch.setattr(activities, "_CHUNK", 2)  # ids split over several lists
    assert _read(backend) == whole


def test_a_read_activity_has_every_field_the_squads_read_too(backend: str) -> None:
    """Activities are built from the store's rows without the generated ``__init__``
    (:meth:`Activity.from_store`): every field is there, each as the constructor would
    hold it, for an athlete's read and the squad's alike."""
    with Store.open(backend) as store:
        for a in _history():
            store.add_activity(a)
        mine = store.activities()
        athlete = store.athlete
        assert athlete is not None
    with Store.open(backend, read_only=True, unscoped=True) as squad:
        (theirs,) = squad.squad_activities().values()
    names = {f.name for f in fields(Activity)}
    for read in (mine, theirs):
        assert len(read) == 10
        for a in read:
            assert set(vars(a)) - {"_start_local"} == names
            rebuilt = Activity(**{name: getattr(a, name) for name in names})
            assert rebuilt == a and rebuilt.start_local == a.start_local
    assert mine == theirs


def test_the_latest_starts_before_an_instant(backend: str) -> None:
    """Where an athlete gone silent was last: the latest primary start before the
    instant, and the latest of a record long enough to judge (copies left out)."""
    from datetime import UTC, datetime

    with Store.open(backend) as store:
        for a in _history():  # strength 40 min and runs 30 min, 2026-03-02 to 03-11
            store.add_activity(a)
        store.add_activity(activity(Category.RUN, date(2026, 3, 20), 2))  # a short one
        until = datetime(2026, 4, 1, tzinfo=UTC)
        latest, judged = store.latest_starts(until, 300)  # five minutes to be judged
        assert latest is not None and judged is not None
        assert latest.date() == date(2026, 3, 20) and judged.date() == date(2026, 3, 11)
        assert latest.tzinfo is UTC
        assert store.latest_starts(until, 60) == (latest, latest)  # two minutes judged
        assert store.latest_starts(datetime(2026, 3, 1, tzinfo=UTC), 300) == (None, None)
