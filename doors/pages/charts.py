"""The patient page's charts, computed in Python and drawn by the template as inline SVG.

One chart per activity score the visits carry (the headline one with the therapy
lanes beneath), each against its activity bands and target, and one per key lab
against its reference range. No charting library and no script: the page is
readable with JavaScript off and under a strict Content-Security-Policy. Every
value is written beside its point and listed in a table, so nothing needs a
hover; each chart also comes in a narrow drawing for a phone (the template shows
one or the other). Coordinates are preformatted strings so the template never
localises a decimal point into a comma.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from clinnova.svg import Tick
from clinnova.svg import coord as _f
from doors.pages.targets import LAB_TRENDS, SCORE_BANDS, ScoreBands, score_name_of
from patients import dictionary
from patients.models import FAILURE_OUTCOMES, Outcome, TherapyExposure, Visit


@dataclass(frozen=True)
class Layout:
    width: int
    left: int
    right: int
    top: int
    plot_height: int
    max_ticks: int  # date ticks along the axis
    max_labels: int  # points whose value is written beside them (the latest ones)
    band_labels: bool  # each band named in the right margin (the narrow drawing leaves it to the legend)


# The wide drawings keep a right margin for the band names, so no name sits under a point.
WIDE = Layout(width=760, left=52, right=170, top=30, plot_height=190, max_ticks=6, max_labels=16, band_labels=True)
NARROW = Layout(width=360, left=40, right=12, top=30, plot_height=170, max_ticks=3, max_labels=4, band_labels=False)
LAB_WIDE = Layout(width=760, left=52, right=170, top=26, plot_height=120, max_ticks=6, max_labels=16,
                  band_labels=True)
LAB_NARROW = Layout(width=360, left=40, right=12, top=26, plot_height=110, max_ticks=3, max_labels=4,
                    band_labels=False)
AXIS_HEIGHT = 28  # date labels under the plot
LANES_CAPTION = 22  # "Therapies" above the lanes
LANE_HEIGHT, LANE_GAP = 20, 5
CHAR_WIDTH = 7.0  # rough width of a 12px character, to decide where a text fits


def _num(x: float) -> str:
    """A value as a clinician writes it: 4.5, 12, 0.8."""
    return f"{round(x, 2):g}"


@dataclass(frozen=True)
class Point:
    x: str
    y: str
    title: str
    label: str  # the value written beside the point ("" when too crowded)
    label_y: str


@dataclass(frozen=True)
class BandShape:
    y: str
    height: str
    kind: str  # target, off-target, neutral, reference
    shade: int  # 0, 1, 2 … among the bands of its kind: neighbouring bands differ
    text: str
    text_y: str
    show_text: bool


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
class Drawing:
    """One chart drawn at one width."""

    key: str  # unique on the page, for element ids
    width: int
    height: int
    left: str
    right: str
    top: str
    bottom: str
    tick_end: str
    path: str
    points: list[Point]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    bands: list[BandShape]
    lanes: list[Lane]
    lanes_caption_y: str
    plot_width: str


@dataclass(frozen=True)
class Row:
    date: dt.date
    value: str
    category: str


@dataclass(frozen=True)
class Chart:
    key: str
    label: str  # "DAS28-ESR", "CRP"
    unit: str  # shown after values ("mg/L"), "" for scores
    title: str
    desc: str
    wide: Drawing
    narrow: Drawing
    rows: list[Row]  # the values as a table, newest first
    legend: list[tuple[str, int, str]]  # (band kind, shade, "Remission < 2.6") in words
    target: str
    source: str
    has_lanes: bool
    other_index_visits: int = 0
    earlier_therapies: int = 0

    @property
    def drawings(self) -> list[tuple[str, Drawing]]:
        return [("wide", self.wide), ("narrow", self.narrow)]


@dataclass(frozen=True)
class _Series:
    key: str
    label: str
    unit: str
    values: list[tuple[Visit, float, str]]  # visit, value, category


def activity_charts(visits: Sequence[Visit], therapies: Sequence[TherapyExposure], *, today: dt.date) -> list[Chart]:
    """A chart per activity score the visits carry, the headline score (the most used one) first with the
    therapies beneath it; [] without any score."""
    ordered = sorted(visits, key=lambda v: (v.visit_date, v.created_at))
    series: dict[str, list[tuple[Visit, float, str]]] = {name: [] for name in SCORE_BANDS}
    for v in ordered:
        for name, s in (v.scores or {}).items():
            if name in series and s.get("value") is not None:
                series[name].append((v, float(s["value"]), s.get("category_label", "")))
        if (v.measurements or {}).get("edss") is not None and v.activity_label == "EDSS":
            series["edss"].append((v, float(v.measurements["edss"]), v.activity_category))
    present = [name for name, values in series.items() if values]
    if not present:
        return []
    headline_counts = Counter(score_name_of(v.scores or {}, v.activity_label) for v in ordered if v.activity_label)
    headline = max(present, key=lambda n: (headline_counts.get(n, 0), -present.index(n)))
    start, end = _window(ordered, today)
    charts = []
    for name in [headline] + [n for n in present if n != headline]:
        bands = SCORE_BANDS[name]
        label = bands.label
        chart = _chart(_Series(name, label, "", series[name]), start, end, today=today, bands=bands,
                       therapies=therapies if name == headline else (), layouts=(WIDE, NARROW))
        charts.append(chart)
    scored = sum(1 for v in ordered if v.activity_score is not None)
    first = charts[0]
    in_window = sum(1 for t in therapies if (t.stopped_on or end) >= start and t.started_on <= end)
    charts[0] = replace(first, other_index_visits=scored - len(series[headline]),
                        earlier_therapies=len(therapies) - in_window)
    return charts


def lab_charts(visits: Sequence[Visit], *, today: dt.date) -> list[Chart]:
    """A chart per key lab with at least one value, against its reference range."""
    ordered = sorted(visits, key=lambda v: (v.visit_date, v.created_at))
    if not ordered:
        return []
    start, end = _window(ordered, today)
    charts = []
    for lab in LAB_TRENDS:
        var = dictionary.BY_NAME.get(lab.name)
        if var is None:
            continue  # not (yet) a variable of the dictionary
        values = [(v, float(v.measurements[lab.name]), "") for v in ordered
                  if (v.measurements or {}).get(lab.name) is not None]
        if not values:
            continue
        unit = var.display_unit
        charts.append(_chart(_Series(lab.name, var.label, unit, values), start, end, today=today, lab=lab,
                             layouts=(LAB_WIDE, LAB_NARROW)))
    return charts


def _window(visits: Sequence[Visit], today: dt.date) -> tuple[dt.date, dt.date]:
    return visits[0].visit_date - dt.timedelta(days=30), max(today, visits[-1].visit_date) + dt.timedelta(days=10)


def _chart(series: _Series, start: dt.date, end: dt.date, *, today: dt.date, bands: ScoreBands | None = None,
           lab=None, therapies: Sequence[TherapyExposure] = (), layouts: tuple[Layout, Layout]) -> Chart:
    values = series.values
    top_value = max(v for _, v, _ in values)
    if bands is not None:
        edges = [b.upper for b in bands.bands if b.upper is not None]
        y_max, y_step = _nice_scale(min(bands.maximum, max(top_value, edges[-1] * 1.15)), ceiling=bands.maximum)
    else:
        y_max, y_step = _nice_scale(max(top_value, (lab.upper or lab.lower or 0) * 1.2))
    in_window = [t for t in therapies if (t.stopped_on or end) >= start and t.started_on <= end]
    wide, narrow = (_draw(series, f"{series.key}-{kind}", layout, start, end, y_max, y_step, bands, lab, in_window)
                    for kind, layout in zip(("wide", "narrow"), layouts))
    unit = f" {series.unit}" if series.unit else ""
    rows = [Row(v.visit_date, f"{_num(value)}{unit}", category) for v, value, category in reversed(values)]
    if bands is not None:
        legend = [(kind, shade, f"{b.label} {b.rule}") for b, (kind, shade) in zip(bands.bands, _shades(bands))]
        target, source = bands.target, bands.source
        title = f"{series.label} over time, against its activity bands" + (", with therapies" if in_window else "")
    else:
        legend = [("reference", 0, lab.text)]
        target, source = "", lab.source
        title = f"{series.label} over time, against its reference range"
    return Chart(key=series.key, label=series.label, unit=series.unit, title=title,
                 desc=_describe(series, in_window, [text for _, _, text in legend]), wide=wide, narrow=narrow,
                 rows=rows, legend=legend, target=target, source=source, has_lanes=bool(in_window))


def _draw(series: _Series, key: str, layout: Layout, start: dt.date, end: dt.date, y_max: float, y_step: float,
          bands: ScoreBands | None, lab, therapies: Sequence[TherapyExposure]) -> Drawing:
    span = max(1, (end - start).days)
    plot_right = layout.width - layout.right
    bottom = layout.top + layout.plot_height

    def x_of(day: dt.date) -> float:
        return layout.left + (day - start).days / span * (plot_right - layout.left)

    def y_of(value: float) -> float:
        return bottom - min(value, y_max) / y_max * layout.plot_height

    values = series.values
    labelled = set(range(max(0, len(values) - layout.max_labels), len(values)))
    unit = f" {series.unit}" if series.unit else ""
    points = []
    for i, (v, value, category) in enumerate(values):
        y = y_of(value)
        points.append(Point(
            _f(x_of(v.visit_date)), _f(y),
            f"{v.visit_date:%-d %b %Y}: {series.label} {_num(value)}{unit}" + (f" ({category})" if category else ""),
            _num(value) if i in labelled else "", _f(y - 9 if y - 9 > layout.top - 14 else y + 18)))
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x} {p.y}" for i, p in enumerate(points))
    y_ticks = [Tick(_f(y_of(i * y_step)), f"{i * y_step:g}") for i in range(round(y_max / y_step) + 1)]
    x_ticks = [Tick(_f(x_of(day)), text) for day, text in _month_ticks(start, end, layout.max_ticks)]
    shapes = _band_shapes(bands, lab, y_of, y_max, layout)
    lanes_top = bottom + AXIS_HEIGHT + LANES_CAPTION
    lanes = [_lane(t, i, lanes_top, x_of, start, end, plot_right) for i, t in enumerate(therapies)]
    height = bottom + AXIS_HEIGHT + (LANES_CAPTION + len(lanes) * (LANE_HEIGHT + LANE_GAP) if lanes else 0) + 6
    return Drawing(
        key=key, width=layout.width, height=height, left=_f(layout.left), right=_f(plot_right), top=_f(layout.top),
        bottom=_f(bottom), tick_end=_f(bottom + 5), path=path, points=points, y_ticks=y_ticks, x_ticks=x_ticks,
        bands=shapes, lanes=lanes, lanes_caption_y=_f(lanes_top - 8), plot_width=_f(plot_right - layout.left),
    )


def _band_shapes(bands: ScoreBands | None, lab, y_of: Callable[[float], float], y_max: float,
                 layout: Layout) -> list[BandShape]:
    shapes = []
    if bands is not None:
        for b, (kind, shade) in zip(bands.bands, _shades(bands)):
            if b.lower >= y_max:
                break
            upper = min(b.upper if b.upper is not None else y_max, y_max)
            y0, y1 = y_of(upper), y_of(b.lower)
            text = f"{b.label.replace(' disease activity', '')} {b.rule}"
            shapes.append(BandShape(_f(y0), _f(y1 - y0), kind, shade, text, _f((y0 + y1) / 2 + 4),
                                    show_text=layout.band_labels and (y1 - y0) >= 12))
    elif lab is not None:
        lower = lab.lower or 0
        upper = min(lab.upper if lab.upper is not None else y_max, y_max)
        y0, y1 = y_of(upper), y_of(lower)
        text = ("Reference " + (f"{lab.lower:g}–{lab.upper:g}" if lab.lower is not None else f"< {lab.upper:g}"))
        shapes.append(BandShape(_f(y0), _f(y1 - y0), "reference", 0, text, _f((y0 + y1) / 2 + 4),
                                show_text=layout.band_labels and (y1 - y0) >= 12))
    return shapes


def _shades(bands: ScoreBands) -> list[tuple[str, int]]:
    """Each band's kind (at target, off target, or neutral for a score without target) and its shade within it."""
    seen: Counter = Counter()
    out = []
    for band in bands.bands:
        kind = "target" if band.at_target else ("off-target" if bands.target else "neutral")
        out.append((kind, seen[kind]))
        seen[kind] += 1
    return out


def _nice_scale(maximum: float, ceiling: float | None = None) -> tuple[float, float]:
    """An axis top a little above the maximum (at most the scale's ceiling), and a round step giving at most
    five intervals."""
    target = max(maximum * 1.1, 1.0)
    if ceiling is not None:
        target = min(target, ceiling)
    for step in (0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if math.ceil(target / step) <= 5:
            return math.ceil(target / step) * step, step
    step = 10 ** math.ceil(math.log10(target / 5))
    return math.ceil(target / step) * step, step


def _month_ticks(start: dt.date, end: dt.date, max_ticks: int) -> list[tuple[dt.date, str]]:
    months = (end.year - start.year) * 12 + end.month - start.month
    every = next((k for k in (1, 2, 3, 6, 12, 24, 60) if months / k <= max_ticks), 120)
    ticks = []
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        day = dt.date(year, month, 1)
        if day > end:
            return ticks
        if (month - 1) % every == 0 and (every < 12 or month == 1):
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
        text_x, anchor, where = max(x0 - 5, needed), "end", "outside"
    until = f"{t.stopped_on:%-d %b %Y}" if t.stopped_on else "ongoing"
    return Lane(
        x=_f(x0), y=_f(y), width=_f(width), height=_f(LANE_HEIGHT), text_x=_f(text_x),
        text_y=_f(y + LANE_HEIGHT / 2 + 4), text_anchor=anchor, text_class=where, name=name,
        title=f"{name}: {t.started_on:%-d %b %Y} – {until} ({t.get_outcome_display().lower()})", kind=_kind(t),
    )


def _describe(series: _Series, therapies: Sequence[TherapyExposure], bands_text: list[str]) -> str:
    values = series.values
    first, last = values[0], values[-1]
    unit = f" {series.unit}" if series.unit else ""
    listed = ", ".join(f"{v.visit_date:%b %Y} {_num(value)}" for v, value, _ in values)
    text = (f"{series.label} at {len(values)} visit{'s' if len(values) != 1 else ''} from "
            f"{first[0].visit_date:%b %Y} to {last[0].visit_date:%b %Y}{(' in' + unit) if unit else ''}: {listed}. "
            f"Latest: {_num(last[1])}{unit}" + (f", {last[2]}" if last[2] else "") + ". "
            f"Bands: {'; '.join(bands_text)}.")
    if therapies:
        parts = []
        for t in therapies:
            until = f"to {t.stopped_on:%b %Y}" if t.stopped_on else "ongoing"
            parts.append(f"{t.drug.name} from {t.started_on:%b %Y} {until} ({t.get_outcome_display().lower()})")
        text += " Therapies: " + "; ".join(parts) + "."
    return text
