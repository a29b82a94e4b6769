"""The chart bands and list targets say what patients/scores.py categorises: one set of cut-offs."""

import pytest

from doors.pages.targets import SCORE_BANDS
from patients import scores


@pytest.mark.parametrize("name", ["das28_esr", "das28_crp", "cdai", "sdai", "hbi", "partial_mayo", "full_mayo"])
def test_each_band_holds_the_values_the_score_puts_in_that_category(name):
    bands = SCORE_BANDS[name]
    labels = scores.RA_LABELS if name.startswith(("das28", "cdai", "sdai")) else scores.IBD_LABELS
    step = 0.01 if name.startswith(("das28", "cdai", "sdai")) else 1
    top = int(bands.maximum / step)
    for i in range(top + 1):
        value = round(i * step, 2)
        band = next(b for b in bands.bands if b.upper is None or value < b.upper or
                    (value == b.upper and _closed(name, value)))
        assert labels[scores.categorize(name, value)] == band.label, (name, value)


def _closed(name: str, value: float) -> bool:
    # DAS28 remission is "< 2.6": 2.6 itself is low activity; the other RA cut-offs are "≤".
    return not (name.startswith("das28") and value == 2.6)


def test_every_score_cites_its_source_and_says_its_target():
    for name, bands in SCORE_BANDS.items():
        assert bands.source and ("et al." in bands.source or "," in bands.source), name
        assert bands.target or name == "edss"


def test_every_band_shade_a_chart_can_draw_has_a_colour():
    from pathlib import Path

    from doors.pages.charts import _shades

    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "clinnova.css").read_text()
    for name, bands in SCORE_BANDS.items():
        for kind, shade in _shades(bands):
            assert f".band-{kind}.shade-{shade} {{ fill:" in css, (name, kind, shade)
            assert f".band-key-{kind}.shade-{shade} {{ background:" in css, (name, kind, shade)
