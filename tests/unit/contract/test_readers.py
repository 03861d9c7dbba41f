"""Reading logs: formats by suffix, compression, the spec's separator, clear failures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engage.contract.readers import log_format, read_log
from engage.contract.spec import CampaignSpec, load_spec

FRAME = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})


@pytest.fixture(scope="module")
def spec() -> CampaignSpec:
    return load_spec()


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("log.csv", ".csv"),
        ("log.CSV", ".csv"),
        ("log.2024.txt", ".txt"),
        ("log.csv.gz", ".csv"),
        ("log.parquet", ".parquet"),
        ("log.pq.zst", ".pq"),
        ("log", ""),
        ("log.gz", ""),
    ],
)
def test_log_format(name, fmt):
    assert log_format(Path(name)) == fmt


def test_compressed_csv(spec, tmp_path):
    path = tmp_path / "log.csv.gz"
    FRAME.to_csv(path, index=False)
    pd.testing.assert_frame_equal(read_log(path, spec), FRAME, check_dtype=False)


def test_parquet(spec, tmp_path):
    path = tmp_path / "log.pq"
    FRAME.to_parquet(path)
    pd.testing.assert_frame_equal(read_log(str(path), spec), FRAME, check_dtype=False)


def test_zero_byte_csv_is_an_empty_frame(spec, tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"")
    assert read_log(path, spec).empty


def test_file_that_is_not_parquet(spec, tmp_path):
    path = tmp_path / "log.parquet"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="could not read .* as Parquet"):
        read_log(path, spec)


def test_csv_that_is_not_text(spec, tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"a,b\n\xff\xfe\x00,\x81\n")
    with pytest.raises(ValueError, match="could not read .* as CSV with separator ','"):
        read_log(path, spec)


def test_unparsable_csv(spec, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text('a,b\n"unclosed,1\n')
    with pytest.raises(ValueError, match="as CSV"):
        read_log(path, spec)


def test_no_extension(spec, tmp_path):
    path = tmp_path / "log"
    path.write_text("a\n1\n")
    with pytest.raises(ValueError, match=r"'\(no extension\)'"):
        read_log(path, spec)
