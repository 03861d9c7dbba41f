"""Limits on what validating a log reads and writes, so a huge or garbage file fails fast.

A 200 MB file of garbage with the right header once took 761 s and 7.6 GB to validate and
wrote a 1.67 GB quarantine file. With these limits (defaults below; ``engage train`` takes
them from its settings, ``engage validate`` from its flags):

* a file larger than ``max_bytes`` (on disk, and once decompressed), or with more than
  ``max_rows`` data rows, is refused before it is validated (:class:`InputLimitError`,
  naming the limit and how to raise it); so is a file with NUL bytes, a line, a field or
  more columns than the constants of :mod:`engage.contract.prescan` allow, found by a
  streaming pre-scan before any parser holds the file;
* the first ``probe_rows`` rows are validated first: when more than ``probe_max_bad_share``
  of them are bad, or they make the log unusable, validation stops there with a fatal
  problem naming the top reasons, without reading the rest;
* at most ``max_quarantine_written`` quarantined rows are written to the quarantine file;
  the report and a sidecar file say how many were not written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class InputLimitError(ValueError):
    """The log is over a size limit; nothing was validated."""


@dataclass(frozen=True)
class InputLimits:
    """How much of a log validation reads and writes.

    Attributes:
        max_bytes: Largest file size accepted, on disk and once decompressed (or, for
            Parquet, once decoded).
        max_rows: Most data rows accepted.
        probe_rows: Rows validated first, on their own (the whole file when it has no more).
        probe_max_bad_share: Largest share of bad rows among the probe rows before
            validation stops.
        max_quarantine_written: Most quarantined rows written to the quarantine file.
        names: How a person changes each limit (e.g. ``{"max_rows":
            "ENGAGE_TRAIN_MAX_INPUT_ROWS"}``), quoted in messages; the field name otherwise.
    """

    max_bytes: int = 1 << 30
    max_rows: int = 5_000_000
    probe_rows: int = 10_000
    probe_max_bad_share: float = 0.5
    max_quarantine_written: int = 10_000
    names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (
            min(self.max_bytes, self.max_rows, self.probe_rows) < 1
            or self.max_quarantine_written < 0
        ):
            raise ValueError(f"input limits must be positive: {self}")
        if not 0 < self.probe_max_bad_share <= 1:
            raise ValueError(f"probe_max_bad_share must be in (0, 1]: {self.probe_max_bad_share}")

    def name_of(self, limit: str) -> str:
        """How a person changes ``limit`` (a setting, a flag, or the field's own name)."""
        return self.names.get(limit, limit)


def too_many_rows(path: Path, limits: InputLimits) -> InputLimitError:
    """The error for a file with more than ``limits.max_rows`` data rows."""
    return InputLimitError(
        f"campaign log {path} has more than {limits.max_rows:,} data rows, the limit "
        f"({limits.name_of('max_rows')}); nothing was validated: split the file, or raise "
        "the limit if the file is genuine"
    )
