"""The network's charts, computed in Python and drawn by the templates as inline SVG (as the patient page's).

No charting library and no script, so the pages stay readable under the strict Content-Security-Policy.
Coordinates are preformatted strings so a template never localises a decimal point into a comma.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clinnova.svg import Tick
from clinnova.svg import coord as _f

LEFT, TOP, RIGHT_PAD, BOTTOM_PAD = 52, 24, 16, 40


@dataclass(frozen=True)
class Mark:
    x: str
    y: str
    low: str  # the interval's ends (y), equal to y when there is none
    high: str
    title: str


@dataclass(frozen=True)
class Series:
    name: str
    kind: str  # css class: observed, expected, psi, ...
    path: str
    marks: list[Mark]


@dataclass(frozen=True)
class Chart:
    title: str
    desc: str
    width: int
    height: int
    left: str
    right: str
    top: str
    bottom: str
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    x_label: str
    y_label: str
    series: list[Series]
    reference: str = ""  # a dashed reference line: the diagonal, or a threshold
    reference_label: str = ""


def _frame(width: int, height: int):
    return LEFT, width - RIGHT_PAD, TOP, height - BOTTOM_PAD


def reliability_diagram(points: Sequence[dict], *, title: str) -> Chart | None:
    """Observed share against mean predicted probability per band, with Wilson intervals; the diagonal is perfect."""
    if not points:
        return None
    width = height = 360
    left, right, top, bottom = _frame(width, height)
    sx = lambda p: left + p * (right - left)  # noqa: E731 - two one-line scales read best inline
    sy = lambda p: bottom - p * (bottom - top)  # noqa: E731
    ticks = [i / 5 for i in range(6)]
    marks = [Mark(_f(sx(p["predicted"])), _f(sy(p["observed"])), _f(sy(p["low"])), _f(sy(p["high"])),
                  f"predicted {p['predicted']:.2f}, observed {p['observed']:.2f} "
                  f"(95% CI {p['low']:.2f}–{p['high']:.2f}), {p['n']} patients") for p in points]
    path = "M" + " L".join(f"{m.x},{m.y}" for m in marks)
    return Chart(title=title, desc="Observed response rate against the predicted probability, in bands of "
                                   "predicted probability, with 95% intervals; on the diagonal the model is calibrated.",
                 width=width, height=height, left=_f(left), right=_f(right), top=_f(top), bottom=_f(bottom),
                 x_ticks=[Tick(_f(sx(t)), f"{t:.1f}") for t in ticks],
                 y_ticks=[Tick(_f(sy(t)), f"{t:.1f}") for t in ticks],
                 x_label="Predicted probability", y_label="Observed share",
                 series=[Series("Observed", "observed", path, marks)],
                 reference=f"M{_f(sx(0))},{_f(sy(0))} L{_f(sx(1))},{_f(sy(1))}", reference_label="Perfect calibration")


def monthly_chart(months: Sequence[str], series: dict[str, tuple[str, list[tuple | None]]], *, title: str,
                  desc: str, y_label: str, y_max: float | None = None, threshold: float | None = None,
                  threshold_label: str = "") -> Chart | None:
    """Lines over months: each series is (css kind, one value or (value, low, high) or None per month).

    A month whose value was withheld or is unknown leaves a gap, never a zero.
    """
    values = [v for _, vs in series.values() for v in vs if v is not None]
    if not months or not values:
        return None
    width, height = 720, 260
    left, right, top, bottom = _frame(width, height)
    top_value = max([y_max or 0.0, *(v[2] if isinstance(v, tuple) else v for v in values),
                     *([threshold * 1.2] if threshold else [])]) or 1.0
    step = (right - left) / max(len(months) - 1, 1)
    sx = lambda i: left + i * step if len(months) > 1 else (left + right) / 2  # noqa: E731
    sy = lambda v: bottom - v / top_value * (bottom - top)  # noqa: E731
    out = []
    for name, (kind, vs) in series.items():
        marks, path, pen_down = [], [], False
        for i, v in enumerate(vs):
            if v is None:
                pen_down = False
                continue
            value, low, high = v if isinstance(v, tuple) else (v, v, v)
            m = Mark(_f(sx(i)), _f(sy(value)), _f(sy(low)), _f(sy(high)),
                     f"{months[i]}: {name} {value:.2f}" + (f" (95% CI {low:.2f}–{high:.2f})" if low != high else ""))
            marks.append(m)
            path.append(("L" if pen_down else "M") + f"{m.x},{m.y}")
            pen_down = True
        out.append(Series(name, kind, " ".join(path), marks))
    every = max(1, len(months) // 8)
    y_ticks = [top_value * i / 4 for i in range(5)]
    reference = f"M{_f(left)},{_f(sy(threshold))} L{_f(right)},{_f(sy(threshold))}" if threshold else ""
    return Chart(title=title, desc=desc, width=width, height=height, left=_f(left), right=_f(right), top=_f(top),
                 bottom=_f(bottom), x_ticks=[Tick(_f(sx(i)), m) for i, m in enumerate(months) if i % every == 0],
                 y_ticks=[Tick(_f(sy(t)), f"{t:.2f}") for t in y_ticks], x_label="Month of visit", y_label=y_label,
                 series=out, reference=reference, reference_label=threshold_label)
