"""File-level checks: the header against the spec (repeated, missing and undeclared columns)."""

from __future__ import annotations

import pandas as pd

from engage.contract.messages import MAX_NAME_CHARS, plural, shown_names
from engage.contract.report import ProblemCollector
from engage.contract.spec import CampaignSpec, ExtraColumns


def drop_repeated_columns(c: ProblemCollector, df: pd.DataFrame) -> pd.DataFrame:
    """Report column names the file holds more than once; keep the first of each.

    Args:
        c: Where problems go.
        df: The log as read.

    Returns:
        ``df`` without the later copies of a repeated name (``df`` itself if none).
    """
    repeated = df.columns.duplicated()
    if not repeated.any():
        return df
    dupes = sorted({str(x) for x in df.columns[repeated]})
    c.error(
        dupes[0][:MAX_NAME_CHARS] if len(dupes) == 1 else None,
        len(dupes),
        f"the file has {plural(len(dupes), 'column name')} more than once: [{shown_names(dupes)}]; "
        "only the first column of each name is checked",
    )
    return df.loc[:, ~repeated]


def check_required_columns(c: ProblemCollector, columns: list[str], spec: CampaignSpec) -> None:
    """One error per declared column the file lacks, with a hint for near misses.

    A near miss is a file column equal up to case and surrounding spaces. A file with a
    single column and missing ones most likely was split with the wrong separator.

    Args:
        c: Where problems go.
        columns: The file's column names.
        spec: The contract.
    """
    present = set(columns)
    missing = [name for name in spec.declared_columns if name not in present]
    for name in missing:
        near = [x for x in columns if str(x).strip().casefold() == name.casefold()]
        hint = (
            f" (the file has {shown_names(near[:1])}: check spelling, case and spaces)"
            if near
            else ""
        )
        c.error(name, 1, f"required column {name!r} is missing from the file{hint}")
    if missing and len(columns) == 1:
        c.warning(
            None,
            1,
            f"the file has a single column {shown_names(columns[:1])}: is the separator right? "
            f"(the spec's read.sep is {spec.read.sep!r})",
        )


def check_undeclared_columns(c: ProblemCollector, columns: list[str], spec: CampaignSpec) -> None:
    """Report file columns the spec neither declares nor passes through.

    They are an error unless the spec says ``extra_columns: ignore``, then a warning (the
    columns are left out of the clean data).

    Args:
        c: Where problems go.
        columns: The file's column names.
        spec: The contract.
    """
    known = set(spec.declared_columns) | set(spec.passthrough)
    extra = [x for x in columns if x not in known]
    if not extra:
        return
    column = str(extra[0])[:MAX_NAME_CHARS] if len(extra) == 1 else None
    listed = f"[{shown_names(extra)}]"
    if spec.extra_columns == ExtraColumns.error:
        c.error(
            column,
            len(extra),
            f"{plural(len(extra), 'column')} not declared in the spec: {listed}; "
            "declare them under `passthrough:` or set `extra_columns: ignore`",
        )
    else:
        c.warning(
            column,
            len(extra),
            f"{plural(len(extra), 'column')} not declared in the spec ignored and "
            f"left out of the clean data: {listed}",
        )


def clean_columns(columns: list[str], spec: CampaignSpec) -> list[str]:
    """The columns of the clean frame: the declared ones present, then passthrough ones."""
    present = set(columns)
    kept = [x for x in spec.declared_columns if x in present]
    return kept + [x for x in spec.passthrough if x in present and x not in kept]
