"""SHAP explanations as a clinician reads them: a waterfall per drug, and two drugs side by side.

Works on the drug entries of recommendations.selectors.recommendation_payload.
The model's output is in log-odds, where SHAP values add up; the page shows
that scale and, under it, the probability each log-odds value means, so
"+0.4" reads as "from 45 % to 55 %". Geometry is computed here and drawn by
the templates as inline SVG (no script, nothing for a CSP to block).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from recommendations.features import DRUG_PREFIX

WIDTH = 760
LABEL_WIDTH = 330  # the plain-words text of each row
VALUE_WIDTH = 64  # "+0.231" on the right
ROW_HEIGHT = 24
TOP_AXIS = 34  # log-odds ticks above the rows
BOTTOM_AXIS = 40  # probability ticks below the rows
MIN_TICK_GAP = 44  # pixels between two probability labels
PROBABILITY_TICKS = (0.5, 0.25, 0.75, 0.1, 0.9, 0.05, 0.95, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.02, 0.98, 0.01, 0.99)


def _f(x: float) -> str:
    return f"{x:.1f}"


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def percent(p: float) -> str:
    return f"{p * 100:.0f} %"


def points_scale(base_value: float, margin: float) -> float:
    """Percentage points of response per log-odds unit for this drug: (p − p_base) / (margin − base), ×100.

    SHAP values add up in log-odds; a clinician reads probabilities. Multiplying every value by this one factor
    gives effects in percentage points that add up *exactly* to the drug's probability minus the average
    patient's, keep each value's sign and order, and do not depend on the order in which inputs are taken
    (a waterfall converted step by step would). It is DeepLIFT's Rescale rule for a nonlinearity
    y = f(x): multiplier Δy/Δx (Shrikumar A, Greenside P, Kundaje A, "Learning Important Features Through
    Propagating Activation Differences", ICML 2017, PMLR 70:3145–3153, section 3.5.1), here f the logistic
    function and x the margin; Deep SHAP composes SHAP values with the same multipliers (Lundberg SM, Lee S-I,
    NeurIPS 2017, section 4.2). When margin ≈ base the factor is the slope of the logistic there.
    """
    delta = margin - base_value
    if abs(delta) < 1e-9:
        p = sigmoid(base_value)
        return p * (1.0 - p) * 100.0
    return (sigmoid(margin) - sigmoid(base_value)) / delta * 100.0


def points(shap: float, scale: float) -> float:
    """A SHAP value (log-odds) in percentage points of response, with the drug's points_scale."""
    return shap * scale


@dataclass(frozen=True)
class Tick:
    x: str
    label: str


@dataclass(frozen=True)
class Step:
    kind: str  # base, up, down, score
    text: str
    value: str  # "+0.231", or the log-odds of the base and the score
    title: str  # tooltip: the step in probability terms
    bar_x: str
    bar_width: str
    y: str
    y_bottom: str
    text_y: str
    marker_x: str  # base and score rows: where the vertical marker stands
    link_x: str  # the dashed connector to the next row
    link_y1: str
    link_y2: str


@dataclass(frozen=True)
class Waterfall:
    width: int
    height: int
    label_width: int
    bars_left: str
    bars_right: str
    axis_top: str
    axis_bottom: str
    logodds_label_y: str
    probability_tick_y: str
    probability_label_y: str
    probability_caption_y: str
    value_x: str
    caption: str
    steps: list[Step]
    logodds_ticks: list[Tick]
    probability_ticks: list[Tick]
    title: str
    desc: str
    up: list[dict]
    down: list[dict]


def drug_rows(drug: dict, base_value: float) -> list[dict]:
    """The drug's SHAP rows, largest first, with its own indicator row standing for the whole drug effect.

    One indicator column per candidate encodes which drug a row is about; the
    other candidates' columns (0 here) also carry small SHAP values, left out of
    the stored rows. Added to the drug's own row, they make the rows sum exactly
    to the drug's score: base value + rows = margin.
    """
    rows = [dict(r) for r in drug["shap"]]
    rest = float(drug["margin"]) - base_value - sum(r["shap"] for r in rows)
    own = next((r for r in rows if r["feature"] == f"{DRUG_PREFIX}{drug['atc']}"), None)
    if own is None:
        own = {"feature": f"{DRUG_PREFIX}{drug['atc']}", "label": drug["name"], "value": None, "shap": 0.0}
        rows.append(own)
    own["shap"] += rest
    own["text"] = f"The drug itself: {drug['name']}"
    rows.sort(key=lambda r: -abs(r["shap"]))
    return rows


def waterfall(drug: dict, base_value: float, *, top: int = 8, width: int = WIDTH,
              label_width: int = LABEL_WIDTH, max_label: int = 0) -> Waterfall:
    """From the base value, each of the `top` largest SHAP contributions in turn, the rest together, to the score.

    A narrower figure (width, label_width) suits two waterfalls side by side; max_label then shortens long
    texts (the tooltip and the lists under the figure keep them whole).
    """
    rows = drug_rows(drug, base_value)
    shown, hidden = rows[:top], rows[top:]

    def short(text: str) -> str:
        return text if not max_label or len(text) <= max_label else text[:max_label - 1] + "…"

    entries: list[tuple[str, str, float]] = [(short(r["text"]), r["text"], r["shap"]) for r in shown]
    if hidden:
        n = len(hidden)
        text = f"{n} smaller effect{'s' if n != 1 else ''} together"
        entries.append((text, text, sum(r["shap"] for r in hidden)))

    ends = [base_value]
    for _text, _feature, shap in entries:
        ends.append(ends[-1] + shap)
    lo, hi = _domain(ends)
    bars_left, bars_right = label_width + 10, width - VALUE_WIDTH

    def x_of(v: float) -> float:
        return bars_left + (v - lo) / (hi - lo) * (bars_right - bars_left)

    n_rows = len(entries) + 2
    steps = [_marker("base", short(f"Average patient: {percent(sigmoid(base_value))}"), base_value, 0, x_of,
                     f"Average over the training data: log-odds {base_value:+.2f}, probability "
                     f"{percent(sigmoid(base_value))}")]
    cum = base_value
    for i, (text, full_text, shap) in enumerate(entries, start=1):
        start, cum = cum, cum + shap
        y = TOP_AXIS + i * ROW_HEIGHT
        x0, x1 = x_of(start), x_of(cum)
        steps.append(Step(
            kind="up" if shap >= 0 else "down", text=text, value=f"{shap:+.3f}",
            title=f"{full_text}: {'raises' if shap >= 0 else 'lowers'} the log-odds by {abs(shap):.3f} "
                  f"(probability {percent(sigmoid(start))} → {percent(sigmoid(cum))})",
            bar_x=_f(min(x0, x1)), bar_width=_f(max(abs(x1 - x0), 2.0)), y=_f(y + 4), y_bottom=_f(y + ROW_HEIGHT - 4),
            text_y=_f(y + 16),
            marker_x="", link_x=_f(x1), link_y1=_f(y + ROW_HEIGHT - 4), link_y2=_f(y + ROW_HEIGHT + 4),
        ))
    name = drug["name"]
    steps.append(_marker("score", short(f"{name}: {percent(drug['probability'])}"), cum, n_rows - 1, x_of,
                         f"{name}: log-odds {cum:+.2f}, probability {percent(drug['probability'])}"))

    axis_bottom = TOP_AXIS + n_rows * ROW_HEIGHT
    up = [{"text": r["text"], "shap": r["shap"], "value": f"{r['shap']:+.3f}"} for r in shown if r["shap"] > 0]
    down = [{"text": r["text"], "shap": r["shap"], "value": f"{r['shap']:+.3f}"} for r in shown if r["shap"] < 0]
    return Waterfall(
        width=width, height=axis_bottom + BOTTOM_AXIS, label_width=label_width, bars_left=_f(bars_left),
        bars_right=_f(bars_right), axis_top=_f(TOP_AXIS), axis_bottom=_f(axis_bottom),
        logodds_label_y=_f(TOP_AXIS - 8), probability_tick_y=_f(axis_bottom + 5),
        probability_label_y=_f(axis_bottom + 17),
        probability_caption_y=_f(axis_bottom + 34), value_x=_f(width - 4),
        caption="Model score in log-odds (SHAP values add up on this scale)" if width >= 700
        else "Score in log-odds (SHAP values add up)",
        steps=steps, logodds_ticks=_logodds_ticks(lo, hi, x_of), probability_ticks=_probability_ticks(lo, hi, x_of),
        title=f"Why {name} scores {percent(drug['probability'])}",
        desc=_describe(name, base_value, drug["probability"], up, down),
        up=up, down=down,
    )


def _marker(kind: str, text: str, value: float, row: int, x_of, title: str) -> Step:
    y = TOP_AXIS + row * ROW_HEIGHT
    return Step(kind=kind, text=text, value=f"{value:+.2f}", title=title, bar_x="", bar_width="", y=_f(y + 2),
                y_bottom=_f(y + ROW_HEIGHT - 2), text_y=_f(y + 16), marker_x=_f(x_of(value)), link_x=_f(x_of(value)),
                link_y1=_f(y + ROW_HEIGHT - 4), link_y2=_f(y + ROW_HEIGHT + 4))


def _domain(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.12, 0.25)
    return lo - pad, hi + pad


def _logodds_ticks(lo: float, hi: float, x_of) -> list[Tick]:
    step = next(s for s in (0.25, 0.5, 1.0, 2.0, 5.0) if (hi - lo) / s <= 8)
    first = math.ceil(lo / step)
    return [Tick(_f(x_of(k * step)), f"{k * step:+g}" if k else "0") for k in range(first, math.floor(hi / step) + 1)]


def _probability_ticks(lo: float, hi: float, x_of) -> list[Tick]:
    chosen: list[float] = []
    for p in PROBABILITY_TICKS:
        x = x_of(logit(p))
        if lo <= logit(p) <= hi and all(abs(x - x_of(logit(q))) >= MIN_TICK_GAP for q in chosen):
            chosen.append(p)
    return [Tick(_f(x_of(logit(p))), f"{p * 100:g} %") for p in sorted(chosen)]


def _describe(name: str, base: float, probability: float, up: list[dict], down: list[dict]) -> str:
    text = f"From the average patient's {percent(sigmoid(base))} to {percent(probability)} for {name}."
    if up:
        text += " Raised by: " + "; ".join(f"{r['text']} ({r['shap']:+.2f})" for r in up) + "."
    if down:
        text += " Lowered by: " + "; ".join(f"{r['text']} ({r['shap']:+.2f})" for r in down) + "."
    return text


# --- two drugs side by side ---------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    text: str
    other_text: str  # the value as drug B sees it, when it differs (drug-relative features)
    shap_a: float
    shap_b: float
    diff: float
    value: str
    favours: str  # "a", "b" or ""
    bar_x: str
    bar_width: str
    y: str
    text_y: str


@dataclass(frozen=True)
class Comparison:
    a: dict
    b: dict
    probability_gap: str  # "14 percentage points"
    logodds_gap: float
    rows: list[DiffRow]
    width: int
    height: int
    zero_x: str
    label_width: int
    value_x: str
    title: str
    desc: str


def comparison(a: dict, b: dict, base_value: float, *, top: int = 10) -> Comparison:
    """Why the model scores drug A differently from drug B for this patient, input by input.

    Both drugs' SHAP values share the base value, so their difference per input
    adds up to the difference of the two scores in log-odds.
    """
    sa = {r["feature"]: r for r in drug_rows(a, base_value)}
    sb = {r["feature"]: r for r in drug_rows(b, base_value)}
    own_a, own_b = f"{DRUG_PREFIX}{a['atc']}", f"{DRUG_PREFIX}{b['atc']}"
    entries = []
    drug_effect = sa.get(own_a, {}).get("shap", 0.0) - sb.get(own_b, {}).get("shap", 0.0)
    entries.append((f"The drug itself: {a['name']} rather than {b['name']}", "",
                    sa.get(own_a, {}).get("shap", 0.0), sb.get(own_b, {}).get("shap", 0.0), drug_effect))
    features = [f for f in sa if not f.startswith(DRUG_PREFIX)]
    features += [f for f in sb if not f.startswith(DRUG_PREFIX) and f not in sa]
    for f in features:
        ra, rb = sa.get(f), sb.get(f)
        text = (ra or rb)["text"]
        other = rb["text"] if ra and rb and rb["text"] != ra["text"] else ""
        shap_a, shap_b = (ra or {}).get("shap", 0.0), (rb or {}).get("shap", 0.0)
        entries.append((text, other, shap_a, shap_b, shap_a - shap_b))
    entries.sort(key=lambda e: -abs(e[4]))
    gap = float(a["margin"]) - float(b["margin"])
    shown = entries[:top]
    rest = gap - sum(e[4] for e in shown)
    if len(entries) > top:
        n = len(entries) - len(shown)
        shown.append((f"{n} smaller difference{'s' if n != 1 else ''} together", "", None, None, rest))

    bars_left, bars_right = LABEL_WIDTH + 10, WIDTH - VALUE_WIDTH
    zero = (bars_left + bars_right) / 2
    scale = max(max(abs(e[4]) for e in shown), 0.05)
    half = (bars_right - bars_left) / 2
    rows = []
    for i, (text, other, shap_a, shap_b, diff) in enumerate(shown):
        y = 8 + i * ROW_HEIGHT
        width = abs(diff) / scale * half
        rows.append(DiffRow(
            text=text, other_text=other, shap_a=shap_a, shap_b=shap_b, diff=diff, value=f"{diff:+.3f}",
            favours="a" if diff > 5e-4 else "b" if diff < -5e-4 else "",
            bar_x=_f(zero if diff >= 0 else zero - width), bar_width=_f(max(width, 1.0)), y=_f(y + 4),
            text_y=_f(y + 16),
        ))
    points = (a["probability"] - b["probability"]) * 100
    favoured, other_drug = (a, b) if gap >= 0 else (b, a)
    reasons = [r.text for r in rows if r.favours == ("a" if gap >= 0 else "b")][:3]
    desc = (f"{favoured['name']} {percent(favoured['probability'])} against {other_drug['name']} "
            f"{percent(other_drug['probability'])}.")
    if reasons:
        desc += f" Mostly because of: {'; '.join(reasons)}."
    return Comparison(
        a=a, b=b, probability_gap=f"{abs(points):.0f} percentage point{'s' if round(abs(points)) != 1 else ''}",
        logodds_gap=gap, rows=rows, width=WIDTH, height=8 + len(rows) * ROW_HEIGHT + 8, zero_x=_f(zero),
        label_width=LABEL_WIDTH, value_x=_f(WIDTH - 4),
        title=f"Why {a['name']} and {b['name']} score differently", desc=desc,
    )
