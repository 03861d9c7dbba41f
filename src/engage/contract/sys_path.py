"""Processes this one starts must import this ``engage``, not a model's copy of it.

Loading an MLflow model of engage puts the model's code folder (a copy of ``engage.contract``
and ``engage.policy``, the runtime core the model carries) first on ``sys.path``. A worker
process spawned afterwards (a Dask worker, say) starts with the parent's ``sys.path``, imports
that partial copy, and dies (``No module named 'engage.cli'``). While such processes start,
the folders holding another ``engage`` are taken off the path.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOME = Path(__file__).resolve().parents[2]  # the folder this engage package is in


def foreign_engage_folders(path: list[str]) -> list[str]:
    """The entries of ``path`` that hold an ``engage`` package other than this one."""
    return [
        p for p in path if Path(p or ".", "engage").is_dir() and Path(p or ".").resolve() != HOME
    ]


@contextmanager
def without_foreign_engage() -> Iterator[None]:
    """``sys.path`` without :func:`foreign_engage_folders` for the duration of the block."""
    saved = list(sys.path)
    foreign = set(foreign_engage_folders(saved))
    sys.path[:] = [p for p in saved if p not in foreign]
    try:
        yield
    finally:
        sys.path[:] = saved
