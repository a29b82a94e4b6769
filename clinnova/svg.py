"""What every server-drawn SVG chart shares: coordinates as fixed strings and axis ticks.

Coordinates are preformatted so that a template never localises a decimal point into a comma.
"""

from __future__ import annotations

from dataclasses import dataclass


def coord(x: float) -> str:
    return f"{x:.1f}"


@dataclass(frozen=True)
class Tick:
    pos: str
    label: str
