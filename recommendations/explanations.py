"""SHAP explanations as a clinician reads them: a waterfall per drug, and two drugs side by side.

Works on the drug entries of recommendations.selectors.recommendation_payload.
The model's output is in log-odds, where SHAP values add up; the page shows
effects in percentage points of response instead (points_scale: an exact
decomposition, so the points add up to the drug's chance), the log-odds only
in each bar's tooltip. Geometry is computed here and drawn by
the templates as inline SVG (no script, nothing for a CSP to block).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from recommendations.features import DRUG_PREFIX, OTHER_DRUGS

WIDTH = 760
LABEL_WIDTH = 330  # the plain-words text of each row
VALUE_WIDTH = 64  # "+0.231" on the right
ROW_HEIGHT = 24
TOP_AXIS = 34  # log-odds ticks above the rows
BOTTOM_AXIS = 40  # probability ticks below the rows


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
    """The drug's explanation rows (recommendation_payload's "shap"), largest effect first, each with "pp", and its
    own indicator row standing for the whole drug effect.

    One indicator column per candidate encodes which drug a row is about; the other candidates' columns (0 here)
    carry small SHAP values of their own, stored as one row. Folded into the drug's own row, with any rounding
    left, the rows sum exactly to the drug's score: base value + rows = margin, and Σ pp = p − p_base.
    """
    scale = points_scale(base_value, float(drug["margin"]))
    rows = []
    for r in drug["shap"]:
        row = dict(r)
        row.setdefault("pp", points(row["shap"], scale))
        rows.append(row)
    own_key = f"{DRUG_PREFIX}{drug['atc']}"
    own = next((r for r in rows if r["feature"] == own_key), None)
    if own is None:
        own = {"feature": own_key, "label": drug["name"], "value": None, "shap": 0.0, "pp": 0.0}
        rows.append(own)
    for other in [r for r in rows if r["feature"] == OTHER_DRUGS]:
        rows.remove(other)
    own["shap"] += float(drug["margin"]) - base_value - sum(r["shap"] for r in rows)
    own["pp"] += (sigmoid(float(drug["margin"])) - sigmoid(base_value)) * 100 - sum(r["pp"] for r in rows)
    own["text"] = f"{drug['name']} itself: this drug's average response in patients like the cohort"
    own["reason"] = True
    rows.sort(key=lambda r: -abs(r["pp"]))
    return rows


def waterfall_ends(drug: dict, base_value: float, *, top: int = 6) -> list[float]:
    """The running totals (percent) the drug's waterfall passes through: what a shared scale must cover."""
    ends = [sigmoid(base_value) * 100]
    for _short, _full, pp, _shap in _entries(drug_rows(drug, base_value), top=top):
        ends.append(ends[-1] + pp)
    return ends


def _entries(rows: list[dict], *, top: int) -> list[tuple[str, str, float, float]]:
    """(text, full text, pp, log-odds) per shown row: the drug itself, the `top` largest effects of recorded inputs,
    then the unrecorded inputs together and the smaller effects together, so nothing is hidden and no input
    without a value or an effect is offered as a reason."""
    own = next(r for r in rows if r["feature"].startswith(DRUG_PREFIX))
    reasons = [r for r in rows if r is not own and r.get("reason")][:top]
    shown = [own] + reasons
    rest = [r for r in rows if r not in shown]
    unrecorded = [r for r in rest if r.get("value") is None and not r["feature"].startswith(DRUG_PREFIX)]
    small = [r for r in rest if r not in unrecorded]
    entries = [(r["text"], r["text"], r["pp"], r["shap"]) for r in sorted(shown, key=lambda r: -abs(r["pp"]))]
    if unrecorded:
        names = ", ".join(r["label"] for r in unrecorded)
        entries.append((f"Not recorded ({len(unrecorded)}): the model's defaults",
                        f"Not recorded, the model's defaults for: {names}",
                        sum(r["pp"] for r in unrecorded), sum(r["shap"] for r in unrecorded)))
    if small:
        n = len(small)
        text = f"{n} smaller effect{'s' if n != 1 else ''} together"
        entries.append((text, f"{text} (each under half a point)", sum(r["pp"] for r in small),
                        sum(r["shap"] for r in small)))
    return entries


def waterfall(drug: dict, base_value: float, *, top: int = 6, width: int = WIDTH,
              label_width: int = LABEL_WIDTH, max_label: int = 0, domain: tuple[float, float] | None = None
              ) -> Waterfall:
    """From the average patient's chance, each of the `top` largest effects in percentage points in turn, then the
    rest together, to the drug's chance (see points_scale: the effects add up exactly).

    A narrower figure (width, label_width) suits two waterfalls side by side; max_label then shortens long
    texts (the tooltip and the lists under the figure keep them whole); `domain` (percent) gives two figures one
    scale (waterfall_domain).
    """
    rows = drug_rows(drug, base_value)

    def short(text: str) -> str:
        return text if not max_label or len(text) <= max_label else text[:max_label - 1] + "…"

    entries = _entries(rows, top=top)
    start_pct = sigmoid(base_value) * 100
    ends = [start_pct]
    for _text, _full, pp, _shap in entries:
        ends.append(ends[-1] + pp)
    lo, hi = domain or _domain(ends)
    bars_left, bars_right = label_width + 10, width - VALUE_WIDTH

    def x_of(v: float) -> float:
        return bars_left + (v - lo) / (hi - lo) * (bars_right - bars_left)

    n_rows = len(entries) + 2
    steps = [_marker("base", short(f"Average patient: {start_pct:.0f} %"), start_pct, 0, x_of,
                     f"Average over the training data: {start_pct:.1f} % (log-odds {base_value:+.2f})",
                     value_text=f"{start_pct:.0f} %")]
    cum = start_pct
    for i, (text, full_text, pp, shap) in enumerate(entries, start=1):
        start, cum = cum, cum + pp
        y = TOP_AXIS + i * ROW_HEIGHT
        x0, x1 = x_of(start), x_of(cum)
        steps.append(Step(
            kind="up" if pp >= 0 else "down", text=short(text), value=f"{pp:+.1f}",
            title=f"{full_text}: {'raises' if pp >= 0 else 'lowers'} the chance of response by {abs(pp):.1f} "
                  f"percentage points ({start:.0f} % → {cum:.0f} %; log-odds {shap:+.3f})",
            bar_x=_f(min(x0, x1)), bar_width=_f(max(abs(x1 - x0), 2.0)), y=_f(y + 4), y_bottom=_f(y + ROW_HEIGHT - 4),
            text_y=_f(y + 16),
            marker_x="", link_x=_f(x1), link_y1=_f(y + ROW_HEIGHT - 4), link_y2=_f(y + ROW_HEIGHT + 4),
        ))
    name = drug["name"]
    margin = float(drug["margin"])
    steps.append(_marker("score", short(f"{name}: {percent(drug['probability'])}"), cum, n_rows - 1, x_of,
                         f"{name}: {percent(drug['probability'])} (log-odds {margin:+.2f})",
                         value_text=percent(drug["probability"])))

    axis_bottom = TOP_AXIS + n_rows * ROW_HEIGHT
    words = [{"text": full, "pp": pp, "value": f"{pp:+.1f} points"} for _t, full, pp, _s in entries]
    up = [w for w in words if w["pp"] > 0]
    down = [w for w in words if w["pp"] < 0]
    return Waterfall(
        width=width, height=axis_bottom + BOTTOM_AXIS, label_width=label_width, bars_left=_f(bars_left),
        bars_right=_f(bars_right), axis_top=_f(TOP_AXIS), axis_bottom=_f(axis_bottom),
        logodds_label_y=_f(TOP_AXIS - 8), probability_tick_y=_f(axis_bottom + 5),
        probability_label_y=_f(axis_bottom + 17),
        probability_caption_y=_f(axis_bottom + 34), value_x=_f(width - 4),
        caption="Chance of response (%); bars in percentage points, adding up to the drug's chance" if width >= 700
        else "Chance of response (%); bars in points",
        steps=steps, logodds_ticks=_percent_ticks(lo, hi, x_of), probability_ticks=[],
        title=f"Why {name} scores {percent(drug['probability'])}",
        desc=_describe(name, start_pct, drug["probability"], up, down),
        up=up, down=down,
    )


def waterfall_domain(drugs: list[dict], base_value: float, *, top: int = 6) -> tuple[float, float]:
    """One percent scale covering every given drug's waterfall: the compare page's figures share it."""
    ends = [e for d in drugs for e in waterfall_ends(d, base_value, top=top)]
    return _domain(ends)


def _marker(kind: str, text: str, value: float, row: int, x_of, title: str, *, value_text: str = "") -> Step:
    y = TOP_AXIS + row * ROW_HEIGHT
    return Step(kind=kind, text=text, value=value_text, title=title, bar_x="", bar_width="", y=_f(y + 2),
                y_bottom=_f(y + ROW_HEIGHT - 2), text_y=_f(y + 16), marker_x=_f(x_of(value)), link_x=_f(x_of(value)),
                link_y1=_f(y + ROW_HEIGHT - 4), link_y2=_f(y + ROW_HEIGHT + 4))


def _domain(values: list[float]) -> tuple[float, float]:
    """A percent range around the values, padded, within 0–100."""
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.12, 2.0)
    return max(0.0, lo - pad), min(100.0, hi + pad)


def _percent_ticks(lo: float, hi: float, x_of) -> list[Tick]:
    step = next(s for s in (1, 2, 5, 10, 20, 25) if (hi - lo) / s <= 8)
    first = math.ceil(lo / step)
    return [Tick(_f(x_of(k * step)), f"{k * step:g} %") for k in range(first, math.floor(hi / step) + 1)]


def _describe(name: str, base_pct: float, probability: float, up: list[dict], down: list[dict]) -> str:
    text = f"From the average patient's {base_pct:.0f} % to {percent(probability)} for {name}."
    if up:
        text += " Raised by: " + "; ".join(f"{r['text']} ({r['pp']:+.1f} points)" for r in up) + "."
    if down:
        text += " Lowered by: " + "; ".join(f"{r['text']} ({r['pp']:+.1f} points)" for r in down) + "."
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


def comparison(a: dict, b: dict, base_value: float, *, top: int = 8) -> Comparison:
    """Why the model scores drug A differently from drug B for this patient, input by input, in percentage points.

    Both drugs' effects start from the same average patient, so their difference per input (A's points minus B's)
    adds up exactly to the difference of the two chances (see points_scale).
    """
    sa = {r["feature"]: r for r in drug_rows(a, base_value)}
    sb = {r["feature"]: r for r in drug_rows(b, base_value)}
    own_a, own_b = f"{DRUG_PREFIX}{a['atc']}", f"{DRUG_PREFIX}{b['atc']}"
    pa, pb = sa[own_a]["pp"], sb[own_b]["pp"]
    entries = [(f"The drugs themselves: {a['name']} rather than {b['name']}", "", pa, pb, pa - pb)]
    features = [f for f in sa if not f.startswith(DRUG_PREFIX)]
    features += [f for f in sb if not f.startswith(DRUG_PREFIX) and f not in sa]
    for f in features:
        ra, rb = sa.get(f), sb.get(f)
        text = (ra or rb)["text"]
        other = rb["text"] if ra and rb and rb["text"] != ra["text"] else ""
        pp_a, pp_b = (ra or {}).get("pp", 0.0), (rb or {}).get("pp", 0.0)
        entries.append((text, other, pp_a, pp_b, pp_a - pp_b))
    entries.sort(key=lambda e: -abs(e[4]))
    gap_points = (a["probability"] - b["probability"]) * 100
    gap = float(a["margin"]) - float(b["margin"])
    shown = entries[:top]
    if len(entries) > top:
        n = len(entries) - len(shown)
        rest = (sigmoid(float(a["margin"])) - sigmoid(float(b["margin"]))) * 100 - sum(e[4] for e in shown)
        shown.append((f"{n} smaller difference{'s' if n != 1 else ''} together", "", None, None, rest))

    bars_left, bars_right = LABEL_WIDTH + 10, WIDTH - VALUE_WIDTH
    zero = (bars_left + bars_right) / 2
    scale = max(max(abs(e[4]) for e in shown), 0.5)
    half = (bars_right - bars_left) / 2
    rows = []
    for i, (text, other, pp_a, pp_b, diff) in enumerate(shown):
        y = 8 + i * ROW_HEIGHT
        width = abs(diff) / scale * half
        rows.append(DiffRow(
            text=text, other_text=other, shap_a=pp_a, shap_b=pp_b, diff=diff, value=f"{diff:+.1f}",
            favours="a" if diff > 0.05 else "b" if diff < -0.05 else "",
            bar_x=_f(zero if diff >= 0 else zero - width), bar_width=_f(max(width, 1.0)), y=_f(y + 4),
            text_y=_f(y + 16),
        ))
    favoured, other_drug = (a, b) if gap >= 0 else (b, a)
    reasons = [r.text for r in rows if r.favours == ("a" if gap >= 0 else "b")][:3]
    desc = (f"{favoured['name']} {percent(favoured['probability'])} against {other_drug['name']} "
            f"{percent(other_drug['probability'])}.")
    if reasons:
        desc += f" Mostly because of: {'; '.join(reasons)}."
    return Comparison(
        a=a, b=b,
        probability_gap=f"{abs(gap_points):.0f} percentage point{'s' if round(abs(gap_points)) != 1 else ''}",
        logodds_gap=gap, rows=rows, width=WIDTH, height=8 + len(rows) * ROW_HEIGHT + 8, zero_x=_f(zero),
        label_width=LABEL_WIDTH, value_x=_f(WIDTH - 4),
        title=f"Why {a['name']} and {b['name']} score differently", desc=desc,
    )
