"""How counts and cell values are written in validation messages.

One place so every check words its problems the same way: integral numbers without a
trailing ``.0``, strings quoted, at most a few distinct examples per message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

MAX_EXAMPLES = 5


def plural(n: int, noun: str) -> str:
    """``"1 error"``, ``"2 errors"`` (validation messages: no thousands separator)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def counted(n: int, noun: str, many: str | None = None) -> str:
    """A count as the command line words it: ``"1 decision"``, ``"12,000 decisions"``;
    ``many`` is the plural when it is not ``noun + "s"`` (``counted(2, "reply", "replies")``)."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {many or noun + 's'}"


def rows_have(n: int) -> str:
    """``"1 row has"``, ``"3 rows have"``."""
    return "1 row has" if n == 1 else f"{n} rows have"


def format_value(value: Any) -> str:
    """A short readable form of a cell value: ``61``, ``0.333333``, ``'abc'``, ``True``."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        # Beyond 1e15 the integer digits are float noise; the exponent form is honest.
        if np.isfinite(v) and v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.6g}"
    if isinstance(value, str):
        return shown_names([value])  # a cell is the user's: cut like a name
    return str(value)


def format_id(value: Any) -> str:
    """An id in quotes whatever its type (``'c-1'``, ``'17'``), as duplicate-id reasons show it."""
    text = format_value(value)
    return text if text.startswith("'") else f"'{text}'"


def examples(values: Iterable[Any], limit: int = MAX_EXAMPLES) -> str:
    """Up to ``limit`` distinct formatted values, in first-seen order, comma-separated."""
    seen: list[str] = []
    for v in values:
        text = format_value(v)
        if text not in seen:
            seen.append(text)
            if len(seen) == limit:
                break
    return ", ".join(seen)


def bounds_text(lo: float | None, hi: float | None) -> str:
    """An inclusive interval such as ``[1, 60]``; an open side is ``-inf`` / ``inf``."""
    return f"[{'-inf' if lo is None else format_value(lo)}, {'inf' if hi is None else format_value(hi)}]"


#: Names (of columns, keys, ...) a message lists before the rest are only counted.
MAX_NAMES = 10
#: Characters of one name a message shows before the rest are only counted.
MAX_NAME_CHARS = 80


def shown_names(
    names: Iterable[Any], limit: int = MAX_NAMES, max_chars: int = MAX_NAME_CHARS
) -> str:
    """User-supplied names as every message echoes them: each quoted with control characters
    escaped (``repr``), cut to ``max_chars`` characters, at most ``limit`` of them, and
    saying how much was cut: ``'a', 'bbbb…' (+920 characters) and 3,998 more``.

    A file's header is the user's: a message (and so the console and the log) never grows
    with it.
    """
    items = list(names)
    shown = []
    for name in items[:limit]:
        text = str(name)
        if len(text) > max_chars:
            shown.append(f"{text[:max_chars]!r}… (+{len(text) - max_chars:,} characters)")
        else:
            shown.append(repr(text))
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")
