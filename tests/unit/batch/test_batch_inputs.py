"""Batch input planning and output flattening, on tiny files (no model)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from engage.batch.inputs import (
    BatchInputError,
    check_columns,
    find_files,
    plan_pieces,
    read_piece,
    stream_chunks,
)
from engage.batch.job import Progress
from engage.batch.scoring import ChunkCounts, flatten


@pytest.fixture
def folder(tmp_path):
    for i, rows in enumerate((10, 7)):
        frame = pd.DataFrame({"a": range(rows), "b": [f"x{i}"] * rows})
        frame.to_parquet(tmp_path / f"p{i}.parquet", row_group_size=3, index=False)
    return tmp_path


def test_pieces_are_whole_row_groups_numbered_across_files(folder):
    files = find_files(folder)
    pieces = plan_pieces(files, rows_per_piece=6)
    assert [(p.first_row, p.rows) for p in pieces] == [(0, 6), (6, 4), (10, 6), (16, 1)]
    rows = pd.concat([read_piece(p, ["a"]) for p in pieces])
    assert list(rows["_row"]) == list(range(17))
    assert list(rows["a"]) == list(range(10)) + list(range(7))


def test_streamed_chunks_number_rows_like_the_pieces(folder):
    chunks = list(stream_chunks(find_files(str(folder / "*.parquet")), ["a", "b"], 4))
    assert max(len(c) for c in chunks) <= 4
    assert list(pd.concat(chunks)["_row"]) == list(range(17))


def test_input_problems_are_named(folder, tmp_path):
    with pytest.raises(BatchInputError, match="no Parquet file"):
        find_files(tmp_path / "nothing-*.parquet")
    (folder / "notes.csv").write_text("a\n1\n")
    with pytest.raises(BatchInputError, match="1 file.*not .parquet"):
        find_files(str(folder / "*"))
    with pytest.raises(BatchInputError, match="2 required column.*c, d"):
        check_columns(find_files(folder), ["a", "c", "d"])


def test_flatten_joins_nested_keys_and_leaves_units_out():
    value = {"rank": 1, "predicted": {"x": {"mean": 2.0, "unit": "%"}}, "mix": {"a": 0.5}}
    assert flatten(value) == {"rank": 1, "predicted_x_mean": 2.0, "mix_a": 0.5}


def test_progress_prints_a_line_per_tenth_off_a_terminal():
    out = io.StringIO()
    progress = Progress(100, out)
    for _ in range(20):
        progress.add(ChunkCounts(rows=5, scored=5, recommendations=15, quarantined=0))
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 11  # 0%..100% by tenths, each shown once
    assert lines[-1].startswith("scored 100/100 profiles (100%)")
