"""Checks on what is left after quarantine: enough clean rows, and rows for every style."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from engage.contract.messages import format_value, plural
from engage.contract.report import ProblemCollector
from engage.contract.spec import CampaignSpec


def check_clean_rows_left(c: ProblemCollector, n_input: int, n_clean: int) -> None:
    """An error when every row was quarantined."""
    if n_clean == 0:
        c.error(None, n_input, f"no clean rows left: all {plural(n_input, 'row')} were quarantined")


def check_styles_covered(
    c: ProblemCollector, clean_styles: Iterable[str], spec: CampaignSpec
) -> None:
    """An error naming the declared styles without a clean row.

    A policy cannot learn the effect of a style it has never seen logged, so the spec must
    drop the style or the log must hold rows of it.

    Args:
        c: Where problems go.
        clean_styles: The style labels of the clean rows.
        spec: The contract.
    """
    seen = set(clean_styles)
    unused = [s for s in spec.styles if s not in seen]
    if unused:
        c.error(
            spec.style.name,
            len(unused),
            f"column {spec.style.name!r}: declared {plural(len(unused), 'style')} {unused} "
            f"{'has' if len(unused) == 1 else 'have'} no clean rows; remove unused styles "
            "from decision.style.values in the spec or add data for them",
        )


def check_style_rows(c: ProblemCollector, clean_styles: Iterable[str], spec: CampaignSpec) -> None:
    """One error naming the styles with fewer clean rows than ``min_rows_per_style.fatal``,
    one warning naming those with fewer than ``min_rows_per_style.warn``.

    A style with a handful of rows gets an effect estimate and off-policy values from those
    few rows alone (with 3 rows, IPS is 0 [0, 0] and SNIPS undefined); styles without any
    row are :func:`check_styles_covered`'s.

    Args:
        c: Where problems go.
        clean_styles: The style labels of the clean rows.
        spec: The contract.
    """
    counts = Counter(clean_styles)
    name, rule = spec.style.name, spec.min_rows_per_style
    thin = {s: counts[s] for s in spec.styles if 0 < counts[s] < rule.warn}
    fatal = {s: n for s, n in thin.items() if n < rule.fatal}
    few = {s: n for s, n in thin.items() if n >= rule.fatal}
    if fatal:
        c.error(
            name,
            sum(fatal.values()),
            f"column {name!r}: {_rows_per_style(fatal)} fewer than "
            f"min_rows_per_style.fatal = {rule.fatal}: too few to learn or judge a style; "
            "add data, or remove the style from decision.style.values",
        )
    if few:
        c.warning(
            name,
            sum(few.values()),
            f"column {name!r}: {_rows_per_style(few)} fewer than "
            f"min_rows_per_style.warn = {rule.warn}: effects and off-policy values learnt "
            "from so few rows are unreliable",
        )


def _rows_per_style(counts: dict[str, int]) -> str:
    """``style 'a' has 3 clean rows,`` or ``styles 'a' (3 clean rows), 'b' (4 clean rows) have``."""
    if len(counts) == 1:
        ((style, n),) = counts.items()
        return f"style {style!r} has {plural(n, 'clean row')},"
    listed = ", ".join(f"{s!r} ({plural(n, 'clean row')})" for s, n in counts.items())
    return f"styles {listed} have"


def check_quarantine_fraction(
    c: ProblemCollector, n_input: int, n_quarantined: int, spec: CampaignSpec
) -> None:
    """An error when more than the spec's ``max_quarantine_fraction`` of rows were set aside.

    Past that point the clean rows are unlikely to represent the log: the data needs fixing.
    """
    fraction = n_quarantined / n_input
    limit = spec.max_quarantine_fraction
    if fraction > limit:
        c.error(
            None,
            n_quarantined,
            f"{n_quarantined} of {n_input} rows ({fraction:.1%}) were quarantined, more than "
            f"the spec's max_quarantine_fraction {format_value(limit)} ({limit:.0%})",
        )
