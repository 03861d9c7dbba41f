"""Checks on what is left after quarantine: enough clean rows, and rows for every style."""

from __future__ import annotations

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
