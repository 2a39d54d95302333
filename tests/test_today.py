"""``heavylegs today``: each rule on generated histories, with its edges (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.analysis.today import Today, today
from heavylegs_sync.config import RuleSettings, SeasonSettings
from heavylegs_sync.hr.zones import ZoneTimes
from heavylegs_sync.model import Category
from heavylegs_sync.report.today import cause_message, notes, today_dict, today_json, today_text
from tests.conftest import BERLIN

D = date(2026, 3, 16)  # a Monday
RULES = RuleSettings()
OFF = SeasonSettings()


class History:
    """Activities built day by day, each with a fresh id."""

    def __init__(self) -> None:
        self.facts: list[ActivityFacts] = []

    def add(
        self,
        day: date,
        category: Category = Category.RUN,
        minutes: float = 40,
        hard_minutes: float = 0,
        *,
        hr: bool = True,
        hour: int = 7,
        leg_sets: int = 0,
        sets: int = 0,
    ) -> ActivityFacts:
        seconds = minutes * 60
        hard = hard_minutes * 60
        if category is Category.RUN and hr:
            zones = ZoneTimes((0.0, seconds - hard, hard, 0.0, 0.0), (0.0,) * 5, seconds, seconds)
        else:
            zones = ZoneTimes((0.0,) * 5, (0.0,) * 5, 0.0, seconds)
        fact = ActivityFacts(
            id=len(self.facts) + 1,
            category=category,
            start_local=datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN),
            duration_s=seconds,
            distance_m=None,
            zones=zones,
            hard=hard >= 600,
            leg_sets=leg_sets,
            sets=sets,
            leg_heavy=sets > 0 and leg_sets / sets > 0.5,
            label=f"{category.value} {minutes:.0f} min",
        )
        self.facts.append(fact)
        return fact

    def days(self, first: date, last: date, category: Category = Category.RUN) -> None:
        """One activity on every day of [first, last]."""
        day = first
        while day <= last:
            self.add(day, category)
            day += timedelta(days=1)

    def balanced(self, first: date, last: date) -> None:
        """A sound routine: runs Tue-Sun with Monday rest, strength Tue and Thu evening
        after the easy runs, nothing hard, the same load every week."""
        day = first
        while day <= last:
            if day.weekday() != 0:
                self.add(day)
            if day.weekday() in (1, 3):
                self.add(day, Category.STRENGTH, 30, hour=18)
            day += timedelta(days=1)

    def answer(
        self, day: date = D, rules: RuleSettings = RULES, season: SeasonSettings = OFF
    ) -> Today:
        return today(self.facts, day, rules, season)


def codes(result: Today) -> list[tuple[int, str]]:
    return [(c.cause, c.code) for c in result.causes]


def ago(n: int, day: date = D) -> date:
    return day - timedelta(days=n)


def ids(facts: Iterable[ActivityFacts]) -> list[int]:
    return sorted(f.id for f in facts)


def test_a_balanced_routine_has_no_cause() -> None:
    h = History()
    h.balanced(ago(60), ago(1))
    result = h.answer()
    assert result.causes == []
    assert result.history_days == 60
    assert "no training cause of heavy legs found" in today_text(result)
    assert "sleep" in today_text(result) and "shoes" in today_text(result)
    assert today_json(result) == '{\n  "date": "2026-03-16",\n  "causes": []\n}\n'


# -- cause 1 -------------------------------------------------------------------------


def test_no_rest_day_in_the_last_seven_days() -> None:
    h = History()
    h.balanced(ago(40), ago(8))
    h.days(ago(7), ago(1))  # seven training days: the streak rule fires too
    result = h.answer()
    (cause,) = [c for c in result.causes if c.cause == 1]
    assert cause.code == "no-rest-day"
    assert cause.score == 2.0
    assert cause.evidence["rest_days"] == 0
    assert cause.evidence["signals"] == ["no-rest-day", "too-many-days-without-rest"]
    assert cause.evidence["streak_days"] == 13  # since the Tuesday after the last rest day


def test_a_rest_day_exactly_at_d_minus_7_keeps_cause_1_away() -> None:
    h = History()
    h.balanced(ago(40), ago(9))  # ago(9) is a Saturday run, ago(8) Sunday left out
    # ago(7) (a Monday) stays a rest day; the six days after it are training days.
    h.days(ago(6), ago(1))
    assert ago(7).weekday() == 0
    assert [c for c in h.answer().causes if c.cause == 1] == []


def test_the_day_before_the_window_does_not_count_as_rest_in_it() -> None:
    h = History()
    h.add(ago(30))
    h.add(ago(20))
    # rest on ago(8), training every day of ago(7)..ago(1): no rest day in the window
    h.days(ago(7), ago(1))
    result = h.answer()
    (cause,) = [c for c in result.causes if c.cause == 1]
    assert cause.evidence["rest_days"] == 0
    assert cause.evidence["streak_days"] == 7
    assert cause.evidence["streak_start"] == ago(7).isoformat()


def test_a_light_activity_keeps_a_rest_day() -> None:
    h = History()
    h.add(ago(20))
    h.days(ago(6), ago(1))
    h.add(ago(7), Category.LIGHT, 30)  # yoga on the rest day
    assert [c for c in h.answer().causes if c.cause == 1] == []


def test_a_streak_is_counted_back_past_the_window() -> None:
    h = History()
    h.days(ago(12), ago(1))  # 12 days, began before D-7
    h.add(ago(40))
    result = h.answer()
    (cause,) = [c for c in result.causes if c.cause == 1]
    assert cause.evidence["streak_days"] == 12
    assert cause.evidence["streak_start"] == ago(12).isoformat()
    assert cause.evidence["activities"] == ids(f for f in h.facts if f.day >= ago(12))


def test_a_streak_of_six_is_not_a_cause_but_seven_is() -> None:
    h = History()
    h.days(ago(6), ago(1))
    assert h.answer().causes == []  # also: history shorter than the 7-day window
    h.add(ago(7))  # now the window is covered: no rest day in it either
    (cause,) = h.answer().causes
    assert cause.evidence["signals"] == ["no-rest-day", "too-many-days-without-rest"]
    assert cause.evidence["streak_days"] == 7
    message = cause_message(cause, h.answer())
    assert "today would be day 8, the limit is 7" in message  # exactly at the limit
    assert (cause.code, cause.score) == ("no-rest-day", 2.0)


def test_history_shorter_than_the_window_does_not_invent_a_missing_rest_day() -> None:
    h = History()
    h.days(ago(3), ago(1))  # the store starts three days ago
    result = h.answer()
    assert result.causes == []
    assert result.history_days == 3


def test_the_load_ratio_needs_28_days_of_history() -> None:
    h = History()
    for n in (27, 20, 13):  # little training, then a big week
        h.add(ago(n), minutes=30)
    for n in (6, 4, 2):
        h.add(ago(n), minutes=120)
    assert [c for c in h.answer().causes if c.cause == 1] == []  # 27 days of history
    h.add(ago(28), minutes=30)
    (cause,) = [c for c in h.answer().causes if c.cause == 1]
    assert cause.code == "load-spike"
    # 3 x 120 min at zone 2 = 720; chronic 720 + 4 x 30 x 2 = 960 over 4 weeks = 240 a week
    assert cause.evidence["acute_load"] == 720
    assert cause.evidence["chronic_weekly_load"] == 240
    assert cause.evidence["acute_chronic_ratio"] == 3.0
    assert cause.score == 2.0  # 3.0 is its limit 1.5 past 1.5


def test_the_load_ratio_and_its_limit_are_settings() -> None:
    h = History()
    h.balanced(ago(40), ago(8))
    for n in range(7, 0, -1):
        if n != 7:
            h.add(ago(n), minutes=80)
    assert [c for c in h.answer().causes if c.cause == 1] == []
    tight = replace(RULES, max_acute_chronic_ratio=1.2)
    (cause,) = [c for c in h.answer(rules=tight).causes if c.cause == 1]
    assert cause.code == "load-spike"
    assert cause.evidence["max_acute_chronic_ratio"] == 1.2


# -- cause 2 -------------------------------------------------------------------------


def test_more_than_20_percent_hard_in_the_last_seven_days() -> None:
    h = History()
    h.balanced(ago(20), ago(8))
    h.add(ago(6), minutes=60, hard_minutes=30)
    h.add(ago(4), minutes=40)
    h.add(ago(2), minutes=60, hard_minutes=20)
    result = h.answer()
    (cause,) = [c for c in result.causes if c.cause == 2]
    assert cause.code == "too-much-hard"
    assert cause.evidence["hard_share"] == round(50 / 160, 3)
    assert cause.score == round(1 + (50 / 160 - 0.2) / 0.2, 2)
    assert cause.evidence["activities"] == ids(h.facts[-3::2])  # the two hard runs


def test_exactly_20_percent_hard_is_not_too_much() -> None:
    h = History()
    h.add(ago(3), minutes=50, hard_minutes=10)
    assert h.answer().causes == []


def test_hard_running_before_the_window_does_not_count() -> None:
    h = History()
    h.add(ago(8), minutes=60, hard_minutes=60)
    h.add(ago(3), minutes=60)
    assert h.answer().causes == []


def test_too_little_heart_rate_coverage_is_not_judged() -> None:
    h = History()
    h.add(ago(5), minutes=30, hard_minutes=15)
    h.add(ago(3), minutes=60, hr=False)  # coverage 30 / 90 < 0.6
    assert h.answer().causes == []
    h.add(ago(2), minutes=30, hard_minutes=15)  # coverage 60 / 120 = 0.5
    assert h.answer().causes == []
    loose = replace(RULES, min_hr_coverage=0.5)
    assert codes(h.answer(rules=loose)) == [(2, "too-much-hard")]


# -- cause 5 -------------------------------------------------------------------------


def test_too_little_strength_needs_14_days_of_history() -> None:
    h = History()
    h.days(ago(13), ago(13))
    h.add(ago(10))
    h.add(ago(5))
    assert h.answer().causes == []  # 13 days of history
    h.add(ago(14))
    result = h.answer()
    assert codes(result) == [(5, "too-little-strength")]
    assert result.causes[0].score == 2.0  # none of the 4 needed
    assert result.causes[0].evidence["needed"] == 4


def test_strength_sessions_count_over_14_days() -> None:
    h = History()
    h.add(ago(20))
    h.add(ago(15), Category.STRENGTH)  # before the window
    for n in (12, 8, 3):
        h.add(ago(n), Category.STRENGTH)
    (cause,) = h.answer().causes
    assert (cause.code, cause.evidence["strength_sessions"]) == ("too-little-strength", 3)
    assert cause.score == 1.25
    h.add(ago(14), Category.STRENGTH)  # D-14 is inside
    assert h.answer().causes == []


def test_the_season_of_day_d_sets_the_minimum_across_a_boundary() -> None:
    # Peak season starts between D-14 and D: D's season (peak, 1 a week) decides.
    peak = SeasonSettings(peak=((ago(5), D + timedelta(days=20)),))
    h = History()
    h.add(ago(20))
    h.add(ago(10), Category.STRENGTH)
    h.add(ago(2), Category.STRENGTH)
    assert h.answer(season=peak).causes == []  # 2 >= 2 x 1
    (cause,) = h.answer().causes  # off-season all along: 2 < 2 x 2
    assert cause.evidence["season"] == "off"
    # Peak season ending the day before D: D is off-season again.
    ended = SeasonSettings(peak=((ago(30), ago(1)),))
    assert codes(h.answer(season=ended)) == [(5, "too-little-strength")]


# -- cause 6 -------------------------------------------------------------------------


def test_strength_yesterday() -> None:
    h = History()
    h.balanced(ago(30), ago(2))
    session = h.add(ago(1), Category.STRENGTH, 45, hour=18, leg_sets=12, sets=15)
    result = h.answer()
    causes = [c for c in result.causes if c.cause == 6]
    assert [c.code for c in causes] == ["strength-yesterday"]
    assert causes[0].evidence["activities"] == [session.id]
    assert causes[0].score == 1.8  # one session, 12 of 15 sets for the legs
    assert causes[0].evidence["leg_heavy"] is True


def test_strength_two_days_ago_or_today_is_not_strength_yesterday() -> None:
    h = History()
    h.add(ago(20))
    h.add(ago(2), Category.STRENGTH)
    h.add(D, Category.STRENGTH)  # on D itself: after D's midnight, not seen
    result = h.answer()
    assert [c for c in result.causes if c.cause == 6] == []
    assert result.activities == 2


def test_more_strength_than_the_season_allows() -> None:
    h = History()
    h.add(ago(20))
    for n in (7, 5, 4, 2):
        h.add(ago(n), Category.STRENGTH)
    (cause,) = h.answer().causes
    assert cause.code == "too-much-strength"
    assert cause.score == round(1 + 1 / 3, 2)
    peak = SeasonSettings(peak=((D, D),))  # only day D is peak: its maximum (2) applies
    (cause,) = h.answer(season=peak).causes
    assert (cause.evidence["season"], cause.evidence["max"]) == ("peak", 2)
    assert cause.score == 2.0
    h.add(ago(8), Category.STRENGTH)  # D-8: outside the seven days
    assert h.answer().causes[0].evidence["strength_sessions"] == 4


# -- ranking and output ----------------------------------------------------------------


def test_causes_are_ranked_by_score_with_all_their_evidence() -> None:
    h = History()
    h.add(ago(40))
    h.days(ago(9), ago(1))  # 9 days in a row: cause 1 scores 2.0 (no rest day)
    h.add(ago(3), minutes=120, hard_minutes=110)  # 110 of 400 min hard: cause 2, 1.38
    h.add(ago(1), Category.STRENGTH, hour=18)  # cause 6, score 1.0; cause 5: 1 of 4, 1.75
    result = h.answer()
    scores = [c.score for c in result.causes]
    assert [c.cause for c in result.causes] == [1, 5, 2, 6]
    assert scores == sorted(scores, reverse=True) and scores[1:] == [1.75, 1.38, 1.0]
    text = today_text(result)
    positions = [text.index(f"[cause {n}:") for n in (1, 5, 2, 6)]
    assert positions == sorted(positions)
    assert text.splitlines()[0].startswith("Monday 16 March 2026: 4 training causes")
    assert max(len(line) for line in text.splitlines()) <= 80
    data = today_dict(result)
    assert list(data) == ["date", "causes"]
    for cause in data["causes"]:
        assert list(cause) == ["cause", "code", "score", "message", "evidence", "fix"]


@pytest.mark.parametrize("width", [80, 60])
def test_the_text_fits_the_width(width: int) -> None:
    h = History()
    h.add(ago(40))
    h.days(ago(9), ago(1))
    text = today_text(h.answer(), width=width)
    assert max(len(line) for line in text.splitlines()) <= width


def test_nothing_before_d_says_so() -> None:
    h = History()
    h.add(D)
    result = h.answer()
    assert (result.activities, result.causes) == (0, [])
    assert "no activity before this day is imported" in today_text(result)


def test_a_quiet_spell_says_the_latest_training_may_be_missing() -> None:
    h = History()
    h.balanced(ago(60), ago(10))
    result = h.answer()
    (note,) = notes(result)
    assert f"the latest activity is from {ago(10)} (9 days without any" in note
    assert "Note: the latest activity" in today_text(result)
    h.add(ago(3))
    assert h.answer().notes == ()


def test_silence_is_not_evidence_nothing_in_14_days_judges_nothing() -> None:
    h = History()
    h.balanced(ago(60), ago(15))  # the latest activity is 15 days before D
    result = h.answer()
    assert codes(result) == []  # no "too little strength" from two weeks of nothing
    assert not result.recent
    (note,) = notes(result)
    assert f"nothing recent to judge: no activity in the 14 days before {D}" in note
    text = today_text(result)
    assert "nothing recent to judge" in text
    assert "no training cause of heavy legs found" not in text
    h.add(ago(14), Category.STRENGTH)  # one activity inside the window: judged again
    assert h.answer().recent


def test_45_days_after_the_last_activity_no_cause_at_all() -> None:
    h = History()
    h.balanced(ago(200), ago(45))
    for rules in (RULES, replace(RULES, min_strength_off_season=3)):
        result = h.answer(rules=rules)
        assert result.causes == [] and not result.recent


def test_a_return_after_30_days_off_with_two_easy_runs_is_no_spike() -> None:
    h = History()
    h.balanced(ago(120), ago(33))  # the usual week: six 40-minute runs and two strength
    h.add(ago(2), minutes=30)  # back after 30 days off: two easy 30-minute runs
    h.add(ago(1), minutes=30)
    result = h.answer()
    assert [c for c in result.causes if c.cause == 1] == []  # no spike, no "rest today"
    assert "Rest today" not in today_text(result)


def test_a_return_above_the_usual_week_is_still_a_spike() -> None:
    h = History()
    h.balanced(ago(120), ago(33))  # about 640 a week
    for n in range(6, 0, -1):  # back after a break with six 100-minute runs: 1200
        h.add(ago(n), minutes=100)
    (cause,) = [c for c in h.answer().causes if c.cause == 1]
    assert cause.code == "load-spike"
    # the acute week and the last three weeks with training before the break
    assert cause.evidence["baseline_blocks"] == 4
    assert cause.evidence["acute_load"] == 1200
    assert cause.evidence["acute_chronic_ratio"] > 1.5


def test_a_first_week_after_a_long_silence_is_judged_against_itself() -> None:
    h = History()
    h.add(ago(400), minutes=30)  # more than a year ago: no baseline
    for n in range(5, 0, -1):
        h.add(ago(n), minutes=60)
    assert [c for c in h.answer().causes if c.code == "load-spike"] == []


def test_a_recording_of_a_minute_makes_no_training_day() -> None:
    h = History()
    h.balanced(ago(40), ago(8))
    h.days(ago(6), ago(1))  # six training days; ago(7) a rest day ...
    stub = replace(h.add(ago(7), minutes=70 / 60), short=True)  # ... but for a 70-s stub
    h.facts[-1] = stub
    result = h.answer()
    assert [c for c in result.causes if c.cause == 1] == []
    assert any(f"#{stub.id}" in n and "shorter than 5 min" in n for n in notes(result))


KINDS = [Category.RUN, Category.STRENGTH, Category.CROSS, Category.LIGHT]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 60),  # days before D
            st.sampled_from(KINDS),
            st.integers(5, 180),  # minutes
            st.integers(0, 100),  # hard share in percent
        ),
        max_size=80,
    ),
    st.booleans(),
)
def test_any_history_gives_ranked_causes_that_fit_80_columns(
    plan: list[tuple[int, Category, int, int]], peak: bool
) -> None:
    h = History()
    for before, kind, minutes, hard in plan:
        h.add(ago(before), kind, minutes, minutes * hard / 100, leg_sets=hard % 7, sets=6)
    season = SeasonSettings(peak=((D, D),)) if peak else OFF
    result = h.answer(season=season)
    scores = [c.score for c in result.causes]
    assert scores == sorted(scores, reverse=True)
    assert all(score >= 1.0 for score in scores)
    assert len({c.cause for c in result.causes}) == len(result.causes)
    known = {f.id for f in h.facts if f.day < D}
    for cause in result.causes:
        assert set(cause.evidence["activities"]) <= known
        assert cause.code == cause.evidence["signals"][0]
    assert json.loads(today_json(result))["date"] == D.isoformat()
    text = today_text(result)
    assert max(len(line) for line in text.splitlines()) <= 80
