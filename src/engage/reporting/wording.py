"""How the report writes numbers: decimals, signs, shares, intervals and verdicts."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engage.reporting.record import Gain


def decimals(*values: float) -> int:
    """Decimals that show the largest of ``values`` with about three significant digits."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    top = max(finite, default=0.0)
    if top >= 100:
        return 0
    if top >= 10:
        return 1
    if top >= 1 or top == 0:
        return 2
    return min(4, 1 - math.floor(math.log10(top)))  # two significant digits below 1


def number(value: float, places: int | None = None, signed: bool = False) -> str:
    """A number as a person writes it: ``12,500``, ``3.14``, ``+0.63``, ``−0.20``."""
    if not math.isfinite(value):
        return "n/a"
    places = decimals(value) if places is None else places
    text = f"{value:{'+' if signed else ''},.{places}f}"
    return text.replace("-", "−")  # a true minus sign reads better than a hyphen


def share(value: float) -> str:
    """A share in [0, 1] as a whole percentage, with ``<1%`` for small non-zero shares."""
    if 0 < value < 0.005:
        return "<1%"
    return f"{100 * value:.0f}%"


def verdict(low: float, high: float) -> str:
    """What a 95% interval of a difference says: better, worse or no clear difference."""
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "no clear difference"


def interval_words(gain: Gain) -> str:
    """``95% interval +0.31 to +0.89``, with the value's decimals."""
    places = decimals(gain.value, gain.low, gain.high)
    low, high = number(gain.low, places, signed=True), number(gain.high, places, signed=True)
    return f"95% interval {low} to {high}"
