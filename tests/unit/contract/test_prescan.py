"""Issue #31 item 3: the streaming pre-scan refuses NUL-byte files, compression bombs,
over-long lines and fields and too many columns, before any parser holds the file."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.contract import prescan
from engage.contract.limits import InputLimitError, InputLimits
from engage.contract.parquet_scan import scan_parquet
from engage.contract.prescan import MAX_COLUMNS, MAX_FIELD_BYTES, MAX_LINE_BYTES, scan_text

LIMITS = InputLimits(names={"max_bytes": "--max-bytes"})


def write(path: Path, data: bytes) -> Path:
    suffix = path.suffix
    if suffix == ".gz":
        path.write_bytes(gzip.compress(data, compresslevel=1))
    elif suffix == ".bz2":
        path.write_bytes(bz2.compress(data))
    elif suffix == ".xz":
        path.write_bytes(lzma.compress(data))
    elif suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("log.csv", data)
    else:
        path.write_bytes(data)
    return path


def test_a_good_csv_passes_and_is_counted(tmp_path):
    path = write(tmp_path / "log.csv", b'id,text\n1,"a, b"\n2,"multi\nline"\n3,x\n')
    scanned = scan_text(path, ",", LIMITS)
    assert (scanned.records, scanned.columns) == (4, 2)


def test_nul_bytes_are_refused_with_their_count(tmp_path):
    path = write(tmp_path / "log.csv", b"\0" * 5000)
    with pytest.raises(InputLimitError, match=r"5,000 NUL bytes .*the first at byte 0.*binary"):
        scan_text(path, ",", LIMITS, "campaign log")


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zip"])
def test_a_compression_bomb_is_refused_on_its_decompressed_bytes(tmp_path, suffix):
    data = b"id\n" + (b"1" * 1000 + b"\n") * 3000  # 3 MB that compress to a few KB
    path = write(tmp_path / f"log.csv{suffix}", data)
    assert path.stat().st_size < 100_000
    limits = InputLimits(max_bytes=1 << 20, names={"max_bytes": "--max-bytes"})
    with pytest.raises(
        InputLimitError, match=r"more than 1,048,576 bytes once decompressed.*--max-bytes"
    ):
        scan_text(path, ",", limits)


def test_a_compressed_file_of_long_ids_is_refused_on_the_field_length(tmp_path):
    data = b"id,y\n" + (b"7" * 100_000 + b",1\n") * 50
    path = write(tmp_path / "log.csv.gz", data)
    with pytest.raises(
        InputLimitError,
        match=rf"column 'id' \(field 1\) of record 2 is longer than {MAX_FIELD_BYTES:,} bytes.*MAX_FIELD_BYTES",
    ):
        scan_text(path, ",", LIMITS)


def test_an_over_long_line_is_refused(tmp_path):
    path = write(tmp_path / "log.csv", b"a b c " * (MAX_LINE_BYTES // 6 + 10))
    with pytest.raises(
        InputLimitError, match=rf"record 1 .* longer than {MAX_LINE_BYTES:,} bytes.*MAX_LINE_BYTES"
    ):
        scan_text(path, None, LIMITS)


def test_a_quoted_field_with_newlines_is_one_field(tmp_path):
    path = write(
        tmp_path / "log.csv", b'id,text\n1,"' + b"line\n" * (MAX_FIELD_BYTES // 5 + 10) + b'"\n'
    )
    with pytest.raises(InputLimitError, match=r"column 'text' \(field 2\) of record 2 is longer"):
        scan_text(path, ",", LIMITS)


def test_too_many_columns_are_refused(tmp_path):
    header = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)).encode()
    path = write(tmp_path / "log.csv", header + b"\n")
    with pytest.raises(
        InputLimitError, match=rf"record 1 has more than {MAX_COLUMNS:,} fields.*MAX_COLUMNS"
    ):
        scan_text(path, ",", LIMITS)


def test_the_compressed_size_is_checked_too(tmp_path):
    path = write(tmp_path / "log.csv", b"a\n" * 1000)
    with pytest.raises(
        InputLimitError, match=r"2,000 bytes, more than the limit of 100 bytes \(--max-bytes\)"
    ):
        scan_text(path, ",", InputLimits(max_bytes=100, names={"max_bytes": "--max-bytes"}))


csv_bytes = st.lists(
    st.sampled_from([b"a", b"bb", b",", b"\n", b'"', b"\r\n", b"x" * 7, b" "]), max_size=80
).map(b"".join)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=csv_bytes, chunk=st.integers(1, 13), field=st.integers(3, 12), columns=st.integers(2, 6)
)
def test_the_verdict_does_not_depend_on_the_chunk_size(
    tmp_path, monkeypatch, data, chunk, field, columns
):
    """The scan's state carried between chunks: any chunk size gives the whole-file verdict."""
    path = write(tmp_path / "log.csv", data)
    monkeypatch.setattr(prescan, "MAX_FIELD_BYTES", field)
    monkeypatch.setattr(prescan, "MAX_LINE_BYTES", field * 3)
    monkeypatch.setattr(prescan, "MAX_COLUMNS", columns)

    def verdict(size: int) -> object:
        monkeypatch.setattr(prescan, "CHUNK_BYTES", size)
        try:
            return scan_text(path, ",", LIMITS)
        except InputLimitError as exc:
            return str(exc).split(" bytes ")[0].split(" in bytes ")[0]

    assert verdict(chunk) == verdict(1 << 20)


def test_a_parquet_file_of_long_text_cells_is_refused(tmp_path):
    path = tmp_path / "log.parquet"
    table = pa.table(
        {"id": pa.array(["x" * 100_000] * 2000).dictionary_encode(), "y": list(range(2000))}
    )
    pq.write_table(table, path, compression="zstd")
    assert path.stat().st_size < 1_000_000  # dictionary-encoded: small on disk, 200 MB decoded
    with pytest.raises(
        InputLimitError,
        match=r"column 'id': 1,024 cells longer than 65,536 bytes.*rows 0 to 1,023, the first at row 0",
    ):
        scan_parquet(path, LIMITS, what="campaign log")


def test_a_parquet_file_of_too_many_columns_is_refused(tmp_path):
    path = tmp_path / "wide.parquet"
    pd.DataFrame({f"c{i}": [1] for i in range(MAX_COLUMNS + 1)}).to_parquet(path)
    with pytest.raises(
        InputLimitError, match=rf"{MAX_COLUMNS + 1:,} columns, more than {MAX_COLUMNS:,}"
    ):
        scan_parquet(path, LIMITS)


def test_a_parquet_file_over_the_byte_limit_once_decoded_is_refused(tmp_path):
    path = tmp_path / "log.parquet"
    pd.DataFrame({"y": ["x" * 200] * 10_000}).to_parquet(path)  # a few KB on disk, 2 MB decoded
    limits = InputLimits(max_bytes=1 << 20, names={"max_bytes": "ENGAGE_TRAIN_MAX_INPUT_BYTES"})
    assert path.stat().st_size < limits.max_bytes
    with pytest.raises(
        InputLimitError,
        match=r"more than 1,048,576 bytes once decoded.*ENGAGE_TRAIN_MAX_INPUT_BYTES",
    ):
        scan_parquet(path, limits)


def test_too_many_cells_for_the_byte_limit_are_refused(tmp_path):
    """A file of tiny cells costs pandas 8 to 64 bytes a cell: at most one per 8 bytes of the
    limit, so memory stays a bounded multiple of max_bytes."""
    path = write(tmp_path / "log.csv", b"a,b\n" + b"1,2\n" * 2000)  # 8,002 bytes, 4,002 cells
    limits = InputLimits(max_bytes=16_000, names={"max_bytes": "--max-bytes"})
    with pytest.raises(
        InputLimitError,
        match=r"more than 2,000 cells \(fields\), the limit of one per 8 bytes of 16,000 \(--max-bytes\)",
    ):
        scan_text(path, ",", limits)
    assert scan_text(path, ",", InputLimits(max_bytes=40_000)).records == 2001
    parquet = tmp_path / "log.parquet"
    pd.DataFrame({"a": range(3000), "b": range(3000)}).to_parquet(parquet)
    with pytest.raises(InputLimitError, match=r"3,000 rows of 2 columns, more than 5,000 cells"):
        scan_parquet(parquet, InputLimits(max_bytes=40_000))
