"""The activity chart of the patient page, computed in Python and drawn by the template as inline SVG.

No charting library and no script: the page is readable with JavaScript off
and under a strict Content-Security-Policy. Coordinates are preformatted
strings so the template never localises a decimal point into a comma.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from clinnova.svg import Tick
from clinnova.svg import coord as _f

from patients.models import FAILURE_OUTCOMES, Outcome, TherapyExposure, Visit

WIDTH = 760
LEFT, RIGHT, TOP = 52, 20, 30
PLOT_HEIGHT = 190
AXIS_HEIGHT = 28  # date labels under the plot
LANES_CAPTION = 22  # "Therapies" above the lanes
LANE_HEIGHT, LANE_GAP = 20, 5
CHAR_WIDTH = 7.0  # rough width of a 12px character, to decide where a drug name fits


@dataclass(frozen=True)
class Point:
    x: str
    y: str
    title: str


@dataclass(frozen=True)
class Lane:
    x: str
    y: str
    width: str
    height: str
    text_x: str
    text_y: str
    text_anchor: str
    text_class: str  # "inside" (light on the bar) or "outside"
    name: str
    title: str
    kind: str  # ongoing, failed, adverse, stopped


@dataclass(frozen=True)
class ActivityChart:
    width: int
    height: int
    left: str
    right: str
    top: str
    bottom: str
    tick_end: str
    label: str
    title: str
    desc: str
    path: str
    points: list[Point]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    lanes: list[Lane]
    lanes_caption_y: str
    other_index_visits: int
    earlier_therapies: int


def activity_chart(visits: Sequence[Visit], therapies: Sequence[TherapyExposure], *,
                   today: dt.date) -> ActivityChart | None:
    """The headline activity score over time with each therapy as a bar beneath; None without any score.

    Visits scored with another index than the most common one (DAS28-CRP among
    DAS28-ESR, say) are left out of the line, which would otherwise mix scales;
    the page lists them in the visit table.
    """
    scored = sorted((v for v in visits if v.activity_score is not None), key=lambda v: (v.visit_date, v.created_at))
    if not scored:
        return None
    counts = Counter(v.activity_label for v in scored)
    top = max(counts.values())
    label = next(v.activity_label for v in reversed(scored) if counts[v.activity_label] == top)
    shown = [v for v in scored if v.activity_label == label]

    start = shown[0].visit_date - dt.timedelta(days=30)
    end = max(today, shown[-1].visit_date) + dt.timedelta(days=10)
    span = max(1, (end - start).days)
    plot_right = WIDTH - RIGHT
    bottom = TOP + PLOT_HEIGHT

    def x_of(day: dt.date) -> float:
        return LEFT + (day - start).days / span * (plot_right - LEFT)

    y_max, y_step = _nice_scale(max(v.activity_score for v in shown))

    def y_of(value: float) -> float:
        return bottom - value / y_max * PLOT_HEIGHT

    points = [
        Point(_f(x_of(v.visit_date)), _f(y_of(v.activity_score)),
              f"{v.visit_date:%d %b %Y}: {label} {v.activity_score:g} ({v.activity_category})")
        for v in shown
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x} {p.y}" for i, p in enumerate(points))
    y_ticks = [Tick(_f(y_of(i * y_step)), f"{i * y_step:g}") for i in range(round(y_max / y_step) + 1)]
    x_ticks = [Tick(_f(x_of(day)), text) for day, text in _month_ticks(start, end)]

    in_window = [t for t in therapies if (t.stopped_on or end) >= start and t.started_on <= end]
    lanes_top = bottom + AXIS_HEIGHT + LANES_CAPTION
    lanes = [_lane(t, i, lanes_top, x_of, start, end, plot_right) for i, t in enumerate(in_window)]
    height = bottom + AXIS_HEIGHT + (LANES_CAPTION + len(lanes) * (LANE_HEIGHT + LANE_GAP) if lanes else 0) + 6

    return ActivityChart(
        width=WIDTH, height=height, left=_f(LEFT), right=_f(plot_right), top=_f(TOP), bottom=_f(bottom),
        tick_end=_f(bottom + 5),
        label=label, title=f"{label} over time, with therapies",
        desc=_describe(label, shown, in_window), path=path, points=points, y_ticks=y_ticks, x_ticks=x_ticks,
        lanes=lanes, lanes_caption_y=_f(lanes_top - 8), other_index_visits=len(scored) - len(shown),
        earlier_therapies=len(therapies) - len(in_window),
    )


def _nice_scale(maximum: float) -> tuple[float, float]:
    """An axis top a little above the maximum, and a round step giving at most five intervals."""
    target = max(maximum * 1.1, 1.0)
    for step in (0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100):
        if math.ceil(target / step) <= 5:
            return math.ceil(target / step) * step, step
    step = 10 ** math.ceil(math.log10(target / 5))
    return math.ceil(target / step) * step, step


def _month_ticks(start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    months = (end.year - start.year) * 12 + end.month - start.month
    every = next((k for k in (1, 2, 3, 6, 12, 24) if months / k <= 7), 60)
    ticks = []
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        day = dt.date(year, month, 1)
        if day > end:
            return ticks
        if (month - 1) % every == 0:
            ticks.append((day, f"{day:%Y}" if every >= 12 else f"{day:%b %Y}"))


def _kind(t: TherapyExposure) -> str:
    if t.outcome == Outcome.ONGOING:
        return "ongoing"
    if t.outcome in FAILURE_OUTCOMES:
        return "failed"
    if t.outcome == Outcome.ADVERSE_EVENT:
        return "adverse"
    return "stopped"


def _lane(t: TherapyExposure, i: int, lanes_top: float, x_of, start: dt.date, end: dt.date,
          plot_right: float) -> Lane:
    x0 = x_of(max(t.started_on, start))
    x1 = x_of(min(t.stopped_on or end, end))
    width = max(x1 - x0, 3.0)
    y = lanes_top + i * (LANE_HEIGHT + LANE_GAP)
    name = t.drug.name
    needed = len(name) * CHAR_WIDTH + 10
    if width >= needed:
        text_x, anchor, where = x0 + 5, "start", "inside"
    elif x0 + width + needed <= plot_right:
        text_x, anchor, where = x0 + width + 5, "start", "outside"
    else:
        text_x, anchor, where = x0 - 5, "end", "outside"
    until = f"{t.stopped_on:%d %b %Y}" if t.stopped_on else "ongoing"
    return Lane(
        x=_f(x0), y=_f(y), width=_f(width), height=_f(LANE_HEIGHT), text_x=_f(text_x),
        text_y=_f(y + LANE_HEIGHT / 2 + 4), text_anchor=anchor, text_class=where, name=name,
        title=f"{name}: {t.started_on:%d %b %Y} – {until} ({t.get_outcome_display().lower()})", kind=_kind(t),
    )


def _describe(label: str, shown: list[Visit], therapies: list[TherapyExposure]) -> str:
    first, last = shown[0], shown[-1]
    values = ", ".join(f"{v.activity_score:g}" for v in shown)
    text = (f"{label} at {len(shown)} visit{'s' if len(shown) != 1 else ''} from {first.visit_date:%b %Y} "
            f"to {last.visit_date:%b %Y}: {values}. Latest: {last.activity_category or 'no category'}.")
    if therapies:
        parts = []
        for t in therapies:
            until = f"to {t.stopped_on:%b %Y}" if t.stopped_on else "ongoing"
            parts.append(f"{t.drug.name} from {t.started_on:%b %Y} {until} ({t.get_outcome_display().lower()})")
        text += " Therapies: " + "; ".join(parts) + "."
    return text
