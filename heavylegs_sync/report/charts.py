"""The HTML report's charts, drawn by matplotlib as inline SVG (no script, no network).

matplotlib is imported here only, with the ``Agg`` backend, so commands that draw no
chart start as fast as before. Each chart returns one ``<svg>`` element whose ids are
prefixed with its name, so several can live in one page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from heavylegs_sync.model import Category
from heavylegs_sync.report.view import ReportView

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

EASY = "#3d8b5f"
HARD = "#c8413b"
NEUTRAL = "#5b7db1"
STRENGTH = "#8a5cb8"
LIMIT = "#222222"
#: Inches; the page scales the SVG to its width.
SIZE = (10.0, 3.2)

#: Acute:chronic load ratio above which the load rose faster than the legs adapt.
RATIO_LIMIT = 1.5


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",  # text stays text: small, searchable, no font file
            "svg.hashsalt": "heavylegs",  # the same report gives the same file
            "font.size": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "legend.frameon": False,
        }
    )
    import matplotlib.pyplot as plt

    return plt


def _svg(fig: Figure, name: str) -> str:
    """The figure as an inline ``<svg>`` that scales with the page."""
    plt = _pyplot()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    # Drop the fixed size (the viewBox keeps the shape) and make ids unique in the page.
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)
    text = text.replace('id="', f'id="{name}-')
    text = text.replace("url(#", f"url(#{name}-").replace('href="#', f'href="#{name}-')
    return text.replace("<svg", f'<svg class="chart" role="img" aria-label="{name}"', 1)


def _limit_label(ax: Axes, text: str, y: float) -> None:
    """A limit line's label beside the plot, right of its end: inside it, a bar as tall as
    the limit would run through the words."""
    ax.annotate(
        text,
        (1.01, y),
        xycoords=("axes fraction", "data"),
        ha="left",
        va="center",
        fontsize=10,
        color=LIMIT,
        annotation_clip=False,
    )


def _weeks_axis(ax: Axes, starts: Sequence[date]) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(formatter)
    if starts:
        low = float(mdates.date2num(starts[0] - timedelta(days=4)))  # type: ignore[no-untyped-call]
        high = float(mdates.date2num(starts[-1] + timedelta(days=10)))  # type: ignore[no-untyped-call]
        ax.set_xlim(low, high)


def running(view: ReportView) -> str:
    """Weekly running time, easy and hard, and the hard share against the 20% line."""
    plt = _pyplot()
    weeks = view.analysis.weeks
    starts = [w.week_start + timedelta(days=3) for w in weeks]
    easy = [w.easy_seconds / 3600 for w in weeks]
    hard = [w.hard_seconds / 3600 for w in weeks]
    other = [max(0.0, (w.run_seconds - w.easy_seconds - w.hard_seconds) / 3600) for w in weeks]
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(SIZE[0], SIZE[1] * 1.6), sharex=True, height_ratios=(3, 2)
    )
    top.bar(starts, easy, width=5, color=EASY, label="easy (zones 1-2)")
    top.bar(starts, hard, width=5, bottom=easy, color=HARD, label="hard (zones 3-5)")
    top.bar(
        starts,
        other,
        width=5,
        bottom=[e + h for e, h in zip(easy, hard, strict=True)],
        color="#bbbbbb",
        label="no heart rate",
    )
    top.set_ylabel("hours of running")
    top.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3)
    limit = view.analysis.rules.max_hard_share
    shares = [100 * (w.hard_share or 0.0) for w in weeks]
    colours = [HARD if s > 100 * limit else EASY for s in shares]
    bottom.bar(starts, shares, width=5, color=colours)
    bottom.axhline(100 * limit, color=LIMIT, linestyle="--", linewidth=1.2)
    _limit_label(bottom, f"{limit:.0%}\nlimit", 100 * limit)
    bottom.set_ylabel("% of running hard")
    bottom.set_ylim(0, max(100 * limit * 2, *shares, 1.0) * 1.1)
    _weeks_axis(bottom, [w.week_start for w in weeks])
    return _svg(fig, "running")


def rest_days(view: ReportView) -> str:
    """Rest days per week against the minimum."""
    return _svg(rest_days_figure(view), "rest")


def rest_days_figure(view: ReportView) -> Figure:
    """The rest-days chart before it becomes SVG (tests measure where its label lies)."""
    plt = _pyplot()
    weeks = view.analysis.weeks
    need = view.analysis.rules.min_rest_days
    starts = [w.week_start + timedelta(days=3) for w in weeks]
    values = [w.rest_days for w in weeks]
    colours = [HARD if w.complete and w.rest_days < need else NEUTRAL for w in weeks]
    fig, ax = plt.subplots(figsize=SIZE)
    ax.bar(starts, values, width=5, color=colours)
    for start, w in zip(starts, weeks, strict=True):
        if w.complete and w.rest_days < need:  # a missing bar must still be seen
            ax.annotate(
                str(w.rest_days),
                (start, w.rest_days),
                ha="center",
                va="bottom",
                color=HARD,
                fontweight="bold",
            )
    ax.axhline(need, color=LIMIT, linestyle="--", linewidth=1.2)
    _limit_label(ax, f"at least\n{need}", need)
    ax.set_ylim(0, 7.5)
    ax.set_ylabel("rest days")
    _weeks_axis(ax, [w.week_start for w in weeks])
    figure: Figure = fig
    return figure


def timeline(view: ReportView) -> str:
    """Strength sessions against long and hard runs, day by day; badly timed strength in
    red."""
    plt = _pyplot()
    a = view.analysis
    facts = [f for f in a.facts if a.first <= f.day <= a.last]
    long_ids = {i for w in a.weeks for i in w.long_run_ids}
    mistimed = {
        i for f in a.findings if f.cause == 6 and f.date is not None for i in f.activities[:1]
    }
    rows: list[tuple[str, list[date], str, str]] = [
        ("hard runs", [f.day for f in facts if f.category is Category.RUN and f.hard], HARD, "o"),
        ("long runs", [f.day for f in facts if f.id in long_ids], NEUTRAL, "s"),
        (
            "strength",
            [f.day for f in facts if f.category is Category.STRENGTH and f.id not in mistimed],
            STRENGTH,
            "D",
        ),
        ("strength, badly timed", [f.day for f in facts if f.id in mistimed], HARD, "X"),
    ]
    fig, ax = plt.subplots(figsize=(SIZE[0], 2.4))
    labels = ["hard runs", "long runs", "strength"]
    for label, days, colour, marker in rows:
        y = labels.index("strength") if label.startswith("strength") else labels.index(label)
        if days:
            ax.scatter(
                days, [y] * len(days), color=colour, marker=marker, s=36, label=label, zorder=3
            )
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    if any(days for _, days, _, _ in rows):
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.25), ncols=4, fontsize=10)
    _weeks_axis(ax, [w.week_start for w in a.weeks])
    return _svg(fig, "timeline")


def zones(view: ReportView) -> str:
    """Time in each heart-rate zone over the range, runs only."""
    plt = _pyplot()
    a = view.analysis
    totals = [0.0] * 5
    for f in a.facts:
        if f.category is Category.RUN and a.first <= f.day <= a.last:
            for i, seconds in enumerate(f.zones.seconds):
                totals[i] += max(0.0, seconds) / 3600
    fig, ax = plt.subplots(figsize=(SIZE[0], 2.4))
    names = [f"zone {i}" for i in range(1, 6)]
    ax.barh(names, totals, color=[EASY, EASY, HARD, HARD, HARD])
    for i, hours in enumerate(totals):
        ax.annotate(f" {abs(hours):.1f} h", (hours, i), va="center", fontsize=10)
    ax.invert_yaxis()
    ax.set_xlabel("hours of running")
    return _svg(fig, "zones")


def load(view: ReportView) -> str:
    """Weekly training load, and the acute:chronic ratio against its limit."""
    plt = _pyplot()
    loads = view.loads
    starts = [w.week_start + timedelta(days=3) for w in loads]
    fig, ax = plt.subplots(figsize=SIZE)
    ax.bar(starts, [w.load for w in loads], width=5, color=NEUTRAL, label="weekly load")
    ax.set_ylabel("load (zone-weighted minutes)")
    ratio_ax = ax.twinx()
    points = [(s, w.ratio) for s, w in zip(starts, loads, strict=True) if w.ratio is not None]
    if points:
        ratio_ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            color=HARD,
            marker="o",
            markersize=3,
            label="load ratio (week : typical active week)",
        )
    ratio_ax.axhline(RATIO_LIMIT, color=HARD, linestyle="--", linewidth=1)
    ratio_ax.set_ylim(0, max([RATIO_LIMIT * 1.4, *(p[1] for p in points)]) * 1.1)
    ratio_ax.set_ylabel("load ratio")
    ratio_ax.grid(False)
    handles = ax.get_legend_handles_labels()
    more = ratio_ax.get_legend_handles_labels()
    ax.legend(
        handles[0] + more[0],
        handles[1] + more[1],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncols=2,
    )
    _weeks_axis(ax, [w.week_start for w in loads])
    return _svg(fig, "load")


def _band_axis(ax: Axes, view: ReportView) -> None:
    a = view.analysis
    _weeks_axis(ax, [w.week_start for w in a.weeks])


def _wellness_days(view: ReportView) -> tuple[list[date], dict[date, Any]]:
    from heavylegs_sync.analysis.body import day_baselines

    a = view.analysis
    assert a.wellness is not None
    days = [d for d in sorted(a.wellness.days) if a.first <= d <= a.last]
    bands = {b.day: b for b in day_baselines(a.wellness.days, a.first, a.last, a.rules)}
    return days, bands


def sleep(view: ReportView) -> str:
    """Hours asleep each night (by wake date) against the minimum; short nights in red."""
    plt = _pyplot()
    a = view.analysis
    assert a.wellness is not None
    limit = a.rules.min_sleep_hours
    nights = [
        (d, v.sleep_s / 3600)
        for d, v in sorted(a.wellness.days.items())
        if a.first <= d <= a.last and v.sleep_s  # 0 h: a watch not worn
    ]
    fig, ax = plt.subplots(figsize=SIZE)
    if nights:
        colours = [HARD if h < limit else NEUTRAL for _, h in nights]
        ax.bar([d for d, _ in nights], [h for _, h in nights], width=0.8, color=colours)
    ax.axhline(limit, color=LIMIT, linestyle="--", linewidth=1.2)
    _limit_label(ax, f"{limit:g} h", limit)
    ax.set_ylim(0, max([limit + 3, *(h for _, h in nights)]) * 1.05)
    ax.set_ylabel("hours asleep")
    _band_axis(ax, view)
    return _svg(fig, "sleep")


def resting_hr(view: ReportView) -> str:
    """Resting heart rate each day against its baseline: the median of D-60..D-8, with
    the band up to the allowed rise."""
    plt = _pyplot()
    a = view.analysis
    days, bands = _wellness_days(view)
    rise = a.rules.max_resting_hr_rise
    assert a.wellness is not None
    points = [(d, a.wellness.days[d].resting_hr) for d in days]
    values = [(d, v) for d, v in points if v is not None]
    base = [(d, bands[d].resting_hr) for d in sorted(bands) if bands[d].resting_hr is not None]
    fig, ax = plt.subplots(figsize=SIZE)
    if base:
        xs = [d for d, _ in base]
        ax.fill_between(
            xs,
            [b - rise for _, b in base],
            [b + rise for _, b in base],
            color=EASY,
            alpha=0.15,
            label=f"baseline ± {rise:g} bpm",
        )
        ax.plot(xs, [b for _, b in base], color=EASY, linewidth=1.2, label="baseline (median)")
        ax.plot(xs, [b + rise for _, b in base], color=HARD, linestyle="--", linewidth=1)
    _daily(ax, values, "resting heart rate")
    ax.set_ylabel("bpm")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3)
    _band_axis(ax, view)
    return _svg(fig, "resting-hr")


def _daily(ax: Any, values: list[tuple[date, float]], label: str) -> None:
    """One value a day as dots on a thin line (resting HR, HRV)."""
    if values:
        xs, ys = [d for d, _ in values], [v for _, v in values]
        ax.plot(xs, ys, color=NEUTRAL, marker="o", markersize=3, linewidth=1, label=label)


def hrv(view: ReportView) -> str:
    """Nightly HRV against its baseline band: exp(mean ± sd of ln HRV) over D-60..D-8;
    below the band's lower edge is the limit."""
    import math

    plt = _pyplot()
    a = view.analysis
    days, bands = _wellness_days(view)
    k = a.rules.hrv_drop_sd
    assert a.wellness is not None
    values = [(d, v) for d in days if (v := a.wellness.days[d].hrv_ms) is not None]
    base = [
        (d, b.hrv_ln_mean, b.hrv_ln_sd)
        for d, b in sorted(bands.items())
        if b.hrv_ln_mean is not None and b.hrv_ln_sd is not None
    ]
    fig, ax = plt.subplots(figsize=SIZE)
    if base:
        xs = [d for d, _, _ in base]
        ax.fill_between(
            xs,
            [math.exp(m - k * s) for _, m, s in base],
            [math.exp(m + k * s) for _, m, s in base],
            color=EASY,
            alpha=0.15,
            label=f"baseline ± {k:g} SD (ln HRV)",
        )
        ax.plot(xs, [math.exp(m) for _, m, _ in base], color=EASY, linewidth=1.2,
                label="baseline")  # fmt: skip
    _daily(ax, values, "HRV")
    ax.set_ylabel("ms (RMSSD)")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3)
    _band_axis(ax, view)
    return _svg(fig, "hrv")
