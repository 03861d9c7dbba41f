"""The decision store's health as the writer's shipper sees it: up or down, since when, why.

An outage is logged when it starts (with where the decisions wait), every
:data:`BACKLOG_LOG_EVERY_S` while it lasts, and when it ends; a record whose write failed is
retried from the spool, so the log says how many wait, never that any was dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engage.contract.redaction import redact

log = logging.getLogger("engage.decisions")

BACKLOG_LOG_EVERY_S = 30.0  # while the store is down, how often the backlog is logged


def brief_error(exc: BaseException) -> str:
    """The redacted error without the SQL statement and parameters a driver error appends
    (they hold the decisions' profiles: not for the log)."""
    return redact(exc).split("\n[SQL:", 1)[0].split("\n[parameters:", 1)[0]


@dataclass(frozen=True)
class Backlog:
    """The decisions waiting for the store, as an outage's log lines tell them."""

    spool: Path  # the spool file (or its folder before one exists)
    records: int
    spooled_bytes: int
    max_bytes: int


class StoreHealth:
    """Whether the store took the last write (:attr:`up`), and the last error if it did not."""

    def __init__(self, retry_max_s: float) -> None:
        self.retry_max_s = retry_max_s
        self.up = False
        self.last_error: str | None = None
        self._down_since: float | None = None
        self._logged_at = 0.0

    def failed(self, error: str, backlog: Callable[[], Backlog]) -> None:
        """An open or a write failed with ``error`` (redacted); logged as said above."""
        now = time.monotonic()
        if self.up or self._down_since is None:
            self._down_since = self._logged_at = now
            waiting = backlog()
            log.error(
                "decision store unavailable: decisions are kept in the spool (%s, %d waiting) "
                "and written when it is back, retrying with back-off up to %.1f s: %s",
                waiting.spool,
                waiting.records,
                self.retry_max_s,
                error[:500],
            )
        elif now - self._logged_at >= BACKLOG_LOG_EVERY_S:
            self._logged_at = now
            waiting = backlog()
            log.warning(
                "decision store still unavailable after %.0f s: %d decisions waiting in the "
                "spool (%.1f MiB of %.0f MiB): %s",
                now - self._down_since,
                waiting.records,
                waiting.spooled_bytes / 2**20,
                waiting.max_bytes / 2**20,
                error[:500],
            )
        self.last_error = error
        self.up = False

    def succeeded(self, backlog: Callable[[], int]) -> None:
        """The store took a write (or opened with nothing to write yet)."""
        if not self.up and self._down_since is not None:
            log.info(
                "decision store back after %.0f s: writing the %d decisions waiting in the spool",
                time.monotonic() - self._down_since,
                backlog(),
            )
        self._down_since = None
        self.last_error = None
        self.up = True
