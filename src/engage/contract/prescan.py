"""A streaming pre-scan of an input file, so a bomb is refused before any parser holds it.

Parsers hold what they read: pandas took ~28 times the size of a file of NUL bytes (one
100 MB "line"), and a 3.4 MB ``.csv.gz`` of 100 KB ids became 5.9 GB, because the size limit
was checked on the compressed bytes. Every reader of user files (``engage validate`` and
``train``, ``recommend --input``, ``recommend-batch``) first passes the file through
:func:`scan_text` (or :func:`engage.contract.parquet_scan.scan_parquet`), which reads it once, decompressed, in chunks of :data:`CHUNK_BYTES`, and
refuses it (:class:`~engage.contract.limits.InputLimitError`, naming the limit and the count)
as soon as it sees:

* more decompressed bytes than ``limits.max_bytes`` (a setting: ``--max-bytes``,
  ``ENGAGE_TRAIN_MAX_INPUT_BYTES``, ...);
* a NUL byte in a text file (it is binary, not CSV or JSON);
* a record (a line, quoted newlines included) longer than :data:`MAX_LINE_BYTES`, a field
  longer than :data:`MAX_FIELD_BYTES`, or a record of more than :data:`MAX_COLUMNS` fields;
* more cells (fields) than one per :data:`BYTES_PER_CELL` bytes of ``max_bytes``;
* in Parquet, more columns than :data:`MAX_COLUMNS`, more cells than that, a text or binary
  cell longer than :data:`MAX_FIELD_BYTES`, or more decoded bytes than ``limits.max_bytes``.

Memory, stated as a multiple of the byte limit ``B = max_bytes``:

* refusing costs the scan's own memory only, whatever the file holds: one chunk and a few
  arrays of its size for text (about 12 x :data:`CHUNK_BYTES`), one batch of
  :data:`PARQUET_BATCH_ROWS` rows for Parquet;
* a file that passes holds at most ``B`` bytes and ``B / 8`` cells; pandas keeps a cell in 8
  (a number) to about 64 bytes (a short text), and validation holds the raw and the clean
  frame, so reading and validating it takes at most about ``2 x 64 / 8 = 16 x B`` (every
  cell a short distinct text). Measured (peak RSS, the ~130 MB of imports included): a file
  at the cell limit of short distinct texts (59 MB, 10 M cells, ``B`` = 80 MB) 480 MB, 6 x
  ``B``; a simulated campaign log of 364 MB (27 M cells) 1.0 GB, 2.8 x its size.

The limits that are constants here are wide enough for any campaign log; the one a user may
need to raise, the byte limit (and with it the cell limit), is a setting.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np

from engage.contract.limits import InputLimitError, InputLimits
from engage.contract.messages import shown_names

#: Bytes read (decompressed) per step of the scan.
CHUNK_BYTES = 1 << 20
#: Longest record of a text file, in bytes (a quoted field's newlines do not end it).
MAX_LINE_BYTES = 1 << 20
#: Longest field (cell) of a text file or text cell of a Parquet file, in bytes.
MAX_FIELD_BYTES = 1 << 16
#: Most columns (fields of a record) of any input.
MAX_COLUMNS = 1_000
#: Bytes of ``max_bytes`` per cell (field) allowed: pandas holds a cell in 8 (a number) to
#: about 64 bytes (a short text), however few bytes it took in the file.
BYTES_PER_CELL = 8
#: Rows of a Parquet file decoded per step of the scan.
PARQUET_BATCH_ROWS = 1_024

CHECK_HINT = "nothing was parsed: check the file (is it the log you meant, and is it text?)"
RAISE_HINT = "nothing was parsed: split the file, or raise the limit if it is genuine"


@dataclass(frozen=True)
class Scanned:
    """What the scan saw of a file that passed."""

    bytes: int
    records: int
    columns: int


def limit_error(path: Path, what: str, text: str, hint: str = CHECK_HINT) -> InputLimitError:
    return InputLimitError(f"{what} {path}: {text}; {hint}")


def open_decompressed(path: Path) -> BinaryIO:
    """``path`` opened for reading its decompressed bytes (by its compression suffix).

    Raises:
        ValueError: a ``.zip`` that does not hold exactly one file, or a ``.zst`` without the
            ``zstandard`` package.
    """
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if suffix == ".bz2":
        return cast(BinaryIO, bz2.open(path, "rb"))
    if suffix == ".xz":
        return cast(BinaryIO, lzma.open(path, "rb"))
    if suffix == ".zip":
        archive = zipfile.ZipFile(path)
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if len(names) != 1:
            archive.close()
            raise ValueError(
                f"{path}: a .zip log must hold exactly one file, it holds {len(names):,}"
            )
        return archive.open(names[0])  # type: ignore[return-value]
    if suffix == ".zst":
        try:
            import zstandard  # type: ignore[import-not-found]
        except ImportError:
            raise ValueError(f"{path}: reading .zst needs the zstandard package") from None
        return zstandard.ZstdDecompressor().stream_reader(path.open("rb"))  # type: ignore[no-any-return]
    return path.open("rb")


def check_compressed_size(path: Path, limits: InputLimits, what: str = "input") -> None:
    """Refuse a file whose size on disk is over ``limits.max_bytes`` (before decompressing)."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise InputLimitError(
            f"{what} {path} is {size:,} bytes, more than the limit of {limits.max_bytes:,} "
            f"bytes ({limits.name_of('max_bytes')}); nothing was read: split the file, or "
            "raise the limit if the file is genuine"
        )


class _TextScan:
    """The state of a text scan between chunks (positions are in decompressed bytes)."""

    def __init__(
        self, path: Path, sep: str | None, limits: InputLimits, what: str, *, lines: bool = True
    ) -> None:
        self.path, self.limits, self.what, self.lines = path, limits, what, lines
        encoded = sep.encode() if sep else b""
        self.sep = encoded[0] if len(encoded) == 1 else None  # a longer separator: lines only
        self.total = 0
        self.parity = 0  # quotes seen so far, mod 2 (inside a quoted field when 1)
        self.record_start = 0
        self.field_start = 0
        self.record = 0  # 0-based record number of the current record
        self.fields = 1  # fields of the current record so far
        self.cells = 0  # fields ended so far
        self.max_cells = limits.max_bytes // BYTES_PER_CELL
        self.header = bytearray()  # the first record, for the columns' names
        self.names: list[str] | None = None

    def error(self, text: str, hint: str = CHECK_HINT) -> InputLimitError:
        return limit_error(self.path, self.what, text, hint)

    def column_name(self, index: int, record: int) -> str:
        """``column 'name' (field i)`` for a data record's field, ``field i`` in the header."""
        if record > 0 and self.names is not None and index < len(self.names):
            return f"column {shown_names([self.names[index]])} (field {index + 1:,})"
        return f"field {index + 1:,}"

    def feed(self, chunk: bytes) -> None:
        base = self.total
        self.total += len(chunk)
        if self.total > self.limits.max_bytes:
            raise self.error(
                f"more than {self.limits.max_bytes:,} bytes once decompressed, the limit "
                f"({self.limits.name_of('max_bytes')})",
                RAISE_HINT,
            )
        data = np.frombuffer(chunk, dtype=np.uint8)
        nuls = int(np.count_nonzero(data == 0))
        if nuls:
            first = base + int(np.argmax(data == 0))
            raise self.error(
                f"{nuls:,} NUL bytes in bytes {base:,} to {self.total:,} (the first at byte "
                f"{first:,}): a binary file, not text"
            )
        # parity of the quotes before each byte (uint8 wraps at 256, an even number)
        inside = (np.cumsum(data == 34, dtype=np.uint8) + self.parity) & 1
        self.parity = int(inside[-1]) if len(inside) else self.parity
        outside = inside == 0
        ends = np.flatnonzero((data == 10) & outside)
        if self.sep is not None:
            delims = np.flatnonzero(((data == 10) | (data == self.sep)) & outside)
        else:
            delims = ends
        if self.names is None and self.lines:  # the header, to name columns in messages
            stop = int(ends[0]) + 1 if len(ends) else len(chunk)
            if len(self.header) + stop <= MAX_LINE_BYTES + 2:  # longer: refused just below
                self.header += chunk[:stop]
                if len(ends):
                    self._read_names()
        if self.lines:
            # the first limit broken in byte order, whatever the chunk size
            found = [
                v
                for v in (self._fields(base, data, delims), self._records(base, ends, len(chunk)))
                if v
            ]
            if found:
                _, text, hint = min(found)
                raise self.error(text, hint)
        else:
            self.record += len(ends)

    def _fields(
        self, base: int, data: np.ndarray, delims: np.ndarray
    ) -> tuple[int, str, str] | None:
        """The first field too long or record too wide (its position and message); the state
        carried to the next chunk updated."""
        if self.sep is None:
            return None
        found: list[tuple[int, str, str]] = []
        # the fields this chunk ends, then the one it leaves open
        starts = np.concatenate(([self.field_start], base + delims + 1))
        stops = np.concatenate((base + delims, [base + len(data)]))
        over = np.flatnonzero(stops - starts > MAX_FIELD_BYTES)
        if len(over):
            k = int(over[0])
            record, field = self._locate(data, delims, k)
            found.append(
                (
                    int(starts[k]) + MAX_FIELD_BYTES,
                    f"{self.column_name(field, record)} of record {record + 1:,} is longer than "
                    f"{MAX_FIELD_BYTES:,} bytes, the limit (engage.contract.prescan.MAX_FIELD_BYTES)",
                    CHECK_HINT,
                )
            )
        # fields per record: the separator that opens field MAX_COLUMNS + 1 is the breach
        is_end = data[delims] == 10
        end_at = np.flatnonzero(is_end)
        record_first = np.concatenate(([0], end_at + 1))  # index in delims of each record's first
        seps_before = np.zeros(len(record_first), dtype=np.int64)
        seps_before[0] = self.fields - 1
        record_last = np.concatenate((end_at, [len(delims)]))  # exclusive of its end
        seps = seps_before + (record_last - record_first)
        wide = np.flatnonzero(seps >= MAX_COLUMNS)
        if len(wide):
            r = int(wide[0])
            idx = int(record_first[r] + (MAX_COLUMNS - seps_before[r]) - 1)
            found.append(
                (
                    base + int(delims[idx]),
                    f"record {self.record + r + 1:,} has more than {MAX_COLUMNS:,} fields, the "
                    "limit (engage.contract.prescan.MAX_COLUMNS)",
                    CHECK_HINT,
                )
            )
        self.fields = int(seps[-1]) + 1  # of the record left open
        self.cells += len(delims)
        if self.cells > self.max_cells:
            found.append(
                (base + int(delims[self.max_cells - self.cells]), self._cells_text(), RAISE_HINT)
            )
        if len(delims):
            self.field_start = base + int(delims[-1]) + 1
        return min(found) if found else None

    def _cells_text(self) -> str:
        return (
            f"more than {self.max_cells:,} cells (fields), the limit of one per {BYTES_PER_CELL} "
            f"bytes of {self.limits.max_bytes:,} ({self.limits.name_of('max_bytes')}): each cell "
            "costs 8 to 64 bytes of memory once parsed"
        )

    def _locate(self, data: np.ndarray, delims: np.ndarray, k: int) -> tuple[int, int]:
        """(record, field) of the ``k``-th field this chunk closes or continues."""
        ends_before = np.flatnonzero(data[delims[:k]] == 10)
        record = self.record + len(ends_before)
        field = k - int(ends_before[-1]) - 1 if len(ends_before) else self.fields - 1 + k
        return record, field

    def _records(self, base: int, ends: np.ndarray, n: int) -> tuple[int, str, str] | None:
        """The first record too long (its position and message); the state carried on."""
        starts = np.concatenate(([self.record_start], base + ends + 1))
        stops = np.concatenate((base + ends, [base + n]))
        over = np.flatnonzero(stops - starts > MAX_LINE_BYTES)
        found = None
        if len(over):
            k = int(over[0])
            found = (
                int(starts[k]) + MAX_LINE_BYTES,
                f"record {self.record + k + 1:,} (a line, quoted newlines included) is longer "
                f"than {MAX_LINE_BYTES:,} bytes, the limit (engage.contract.prescan.MAX_LINE_BYTES)",
                CHECK_HINT,
            )
        self.record += len(ends)
        if len(ends):
            self.record_start = base + int(ends[-1]) + 1
        return found

    def _read_names(self) -> None:
        text = bytes(self.header).decode("utf-8", errors="replace").rstrip("\r\n")
        if self.sep is None:
            self.names = []
            return
        try:
            self.names = next(csv.reader([text], delimiter=chr(self.sep)), [])
        except csv.Error:
            self.names = []

    def finish(self) -> Scanned:
        if self.names is None:
            self._read_names()
        records = self.record + (1 if self.total > self.record_start else 0)
        return Scanned(self.total, records, len(self.names or []))


def scan_text(
    path: Path, sep: str | None, limits: InputLimits, what: str = "input", *, lines: bool = True
) -> Scanned:
    """Stream a text file (CSV with ``sep``, or JSON lines when ``sep`` is None), decompressed,
    and refuse it at the first limit it breaks (``lines=False``: a JSON document, whose one
    line may be long: only the byte limit and NUL bytes apply).

    Raises:
        InputLimitError: the file breaks a limit (the message names it and the count).
        ValueError: the compression is not readable.
    """
    check_compressed_size(path, limits, what)
    scan = _TextScan(path, sep, limits, what, lines=lines)
    try:
        with open_decompressed(path) as stream:
            while chunk := stream.read(CHUNK_BYTES):
                scan.feed(chunk)
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise ValueError(f"could not read {path}: {exc.__class__.__name__}: {exc}") from exc
    return scan.finish()


__all__ = [
    "CHUNK_BYTES",
    "MAX_COLUMNS",
    "MAX_FIELD_BYTES",
    "MAX_LINE_BYTES",
    "PARQUET_BATCH_ROWS",
    "Scanned",
    "open_decompressed",
    "scan_text",
]
