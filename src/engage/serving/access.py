"""Who may call the recommendation routes, and how often: API keys and per-key rate limits.

Keys come from ``ENGAGE_SERVE_API_KEYS`` (a comma list, fixed for the process's life) and
from ``ENGAGE_SERVE_API_KEYS_FILE`` (one key per line, ``#`` comments), which is re-read
whenever its modification time, size or inode changes: replace the file (write a new one and
rename it over the old) to rotate keys without a restart. With neither set the routes are
open; that is meant for a loopback-only process, and :func:`open_access_warning` says so.

Keys are compared as SHA-256 digests with :func:`secrets.compare_digest`, against every
accepted key (no early exit), so the time taken says nothing about which key nearly matched.
A key is identified to the rate limiter, and in logs, by a short prefix of its digest, never
by its text.

Rate limits use the ``limits`` library's in-memory moving window (the library behind
slowapi): each key gets ``ENGAGE_SERVE_RATE_LIMIT`` requests (e.g. ``600/minute``) in any
sliding window of that length; over it, a 429 with ``Retry-After``. The counts live in this
process: behind several processes each enforces its own share.

Failed authentication (no key, or an unknown one) is limited too, per client address
(``ENGAGE_SERVE_AUTH_FAILURE_LIMIT``): once an address has used up its failures, every keyed
request from it gets a 429 with ``Retry-After`` until the window lets it try again, without
its key being checked (else a guesser would still learn which key is right). Behind a proxy
every client shares the proxy's address.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

logger = logging.getLogger("serving")

MIN_SECRET_CHARS = 16  # API keys and the admin token: long enough that guessing is hopeless


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def split_keys(text: str) -> list[str]:
    """Keys from a comma list or a keys file: one per comma or line, ``#`` starts a comment."""
    keys = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        keys += [part.strip() for part in line.split(",") if part.strip()]
    return keys


def short_keys(keys: Iterable[str]) -> int:
    """How many of ``keys`` are shorter than :data:`MIN_SECRET_CHARS`."""
    return sum(len(k) < MIN_SECRET_CHARS for k in keys)


class ApiKeyring:
    """The accepted API keys: fixed ones, plus those of a file re-read when it changes.

    Args:
        keys: keys accepted for the process's life (already checked for length).
        path: a keys file, re-read on change; None for none.
    """

    def __init__(self, keys: Iterable[str] = (), path: Path | None = None) -> None:
        self.path = path
        self._fixed = [_digest(k) for k in keys]
        self._from_file: list[bytes] = []
        self._stamp: tuple[int, int, int] | None = None
        self._file_missing = False
        self._refresh()

    @property
    def enabled(self) -> bool:
        """Whether keys are required (some were configured, even if the file is now empty)."""
        return bool(self._fixed) or self.path is not None

    def identify(self, presented: str) -> str | None:
        """The short id of the accepted key equal to ``presented``, or None."""
        self._refresh()
        given = _digest(presented)
        match = None
        for digest in (*self._fixed, *self._from_file):  # all compared: constant work per key
            if secrets.compare_digest(given, digest):
                match = digest
        return None if match is None else match.hex()[:12]

    def _refresh(self) -> None:
        """Re-read the keys file when it changed; keep the last keys read when it cannot be."""
        if self.path is None:
            return
        try:
            st = self.path.stat()
        except OSError as exc:
            # A rotation that briefly removes the file must not lock every client out.
            if not self._file_missing:
                logger.warning("API keys file unreadable (%s); keeping the keys last read", exc)
                self._file_missing = True
            return
        self._file_missing = False
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self._stamp:
            return
        try:
            # utf-8-sig: a byte-order mark (Windows editors write one) is not part of a key
            keys = split_keys(self.path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("API keys file unreadable (%s); keeping the keys last read", exc)
            return
        short = short_keys(keys)
        if short:
            logger.warning(
                "API keys file: %d key(s) shorter than %d characters ignored",
                short,
                MIN_SECRET_CHARS,
            )
        self._from_file = [_digest(k) for k in keys if len(k) >= MIN_SECRET_CHARS]
        self._stamp = stamp
        logger.info("API keys file read: %d key(s) accepted", len(self._from_file))
        if not self._from_file and not self._fixed:
            logger.warning("no API key is accepted: every request to a keyed route gets a 401")


class RateLimiter:
    """Per-identity request limits in a moving window (``None`` rate: no limit).

    Args:
        rate: a ``limits`` rate string such as ``"600/minute"`` or ``"10/second"``.
    """

    def __init__(self, rate: str | None) -> None:
        self.item: RateLimitItem | None = parse(rate) if rate else None
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, identity: str) -> int | None:
        """Count one request of ``identity``: None when allowed, else whole seconds to wait."""
        if self.item is None or self._limiter.hit(self.item, identity):
            return None
        return self._wait(identity)

    def exhausted(self, identity: str) -> int | None:
        """Whole seconds ``identity`` must wait when its limit is used up, else None (nothing
        is counted)."""
        if self.item is None or self._limiter.test(self.item, identity):
            return None
        return self._wait(identity)

    def _wait(self, identity: str) -> int:
        assert self.item is not None
        reset = self._limiter.get_window_stats(self.item, identity).reset_time
        return max(1, math.ceil(reset - time.time()))


@dataclass(frozen=True)
class Access:
    """The keyring and the rate limiters of one app: requests per key, failures per address."""

    keyring: ApiKeyring
    limiter: RateLimiter
    failures: RateLimiter


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the process reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: assume it may be reachable from elsewhere
        return False


def open_access_warning(host: str, keys_configured: bool) -> str | None:
    """The start-up warning for a process that serves keyless routes off loopback, if any."""
    if keys_configured or is_loopback(host):
        return None
    return (
        f"no API keys are configured and the server binds {host}: the recommendation routes "
        "are open to anyone who can reach it; set ENGAGE_SERVE_API_KEYS or "
        "ENGAGE_SERVE_API_KEYS_FILE"
    )
