"""Issue #31 item 3: every reader of user files refuses NUL-byte files, compression bombs,
over-long lines and fields and too many columns, with a message naming the limit:
``engage validate`` (and ``validate_file``), ``train`` (its intake), ``recommend --input``,
``recommend-batch`` and ``decisions export``."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engage.batch.inputs import BatchInputError, check_columns
from engage.cli import main, recommend_input
from engage.cli import recommend as cli_recommend
from engage.contract.limits import InputLimitError, InputLimits
from engage.contract.prescan import MAX_COLUMNS, MAX_FIELD_BYTES, MAX_LINE_BYTES
from engage.contract.spec import load_spec
from engage.contract.validation import validate_file
from engage.training.intake import validate_input
from engage.training.settings import TrainSettings

SPEC = load_spec()
WIDE_HEADER = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 5)).encode() + b"\n1\n"


def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Each kind of bad text file and the words its refusal must hold."""
    out = tmp_path / "bad"
    out.mkdir(exist_ok=True)
    files = {
        "nul": (out / "nul.csv", b"\0" * 200_000, r"200,000 NUL bytes"),
        "bomb": (
            out / "bomb.csv.gz",
            b"id\n" + (b"7" * 100_000 + b"\n") * 40,
            rf"longer than {MAX_FIELD_BYTES:,} bytes",
        ),
        "line": (
            out / "line.csv",
            b",".join([b"y" * 20_000] * 60),
            rf"record 1 \(a line, quoted newlines included\) is longer than {MAX_LINE_BYTES:,} bytes",
        ),
        "field": (
            out / "field.csv",
            b"a,b\n1," + b"y" * (MAX_FIELD_BYTES + 1) + b"\n",
            r"column 'b' \(field 2\) of record 2 is longer",
        ),
        "columns": (out / "wide.csv", WIDE_HEADER, rf"more than {MAX_COLUMNS:,} fields"),
    }
    result = {}
    for kind, (path, data, words) in files.items():
        path.write_bytes(gzip.compress(data, compresslevel=1) if path.suffix == ".gz" else data)
        result[kind] = (path, words)
    return result


KINDS = ["nul", "bomb", "line", "field", "columns"]


@pytest.mark.parametrize("kind", KINDS)
def test_validate_file_refuses(tmp_path, kind):
    path, words = bad_files(tmp_path)[kind]
    with pytest.raises(InputLimitError, match=words):
        validate_file(path, SPEC)


def test_a_compressed_bomb_is_refused_on_decompressed_bytes_naming_the_flag(tmp_path, capsys):
    path = tmp_path / "log.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 500_000))  # 2 MB, ~10 KB compressed
    assert main(["validate", "--data", str(path), "--max-bytes", "1000000"]) == 1
    err = capsys.readouterr().err
    assert "more than 1,000,000 bytes once decompressed, the limit (--max-bytes)" in err


@pytest.mark.parametrize("kind", KINDS)
def test_engage_validate_refuses(tmp_path, capsys, kind):
    path, words = bad_files(tmp_path)[kind]
    assert main(["validate", "--data", str(path)]) == 1
    out, err = capsys.readouterr()
    assert re.search(words, err), err
    assert len(out + err) < 2000  # nothing of the file is echoed


@pytest.mark.parametrize("kind", ["nul", "bomb", "columns"])
def test_train_intake_refuses(tmp_path, kind):
    path, words = bad_files(tmp_path)[kind]
    with pytest.raises(InputLimitError, match=words):
        validate_input(TrainSettings(data=path), SPEC)


def test_train_intake_names_its_byte_setting_for_a_bomb(tmp_path, monkeypatch):
    path = tmp_path / "log.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 500_000))
    monkeypatch.setenv("ENGAGE_TRAIN_MAX_INPUT_BYTES", "1000000")
    with pytest.raises(
        InputLimitError, match="once decompressed, the limit \\(ENGAGE_TRAIN_MAX_INPUT_BYTES\\)"
    ):
        validate_input(TrainSettings(data=path), SPEC)


def test_a_parquet_log_of_long_cells_is_refused_by_validate(tmp_path):
    path = tmp_path / "log.parquet"
    pq.write_table(
        pa.table({"campaign_id": pa.array(["x" * 100_000] * 300).dictionary_encode()}), path
    )
    with pytest.raises(
        InputLimitError, match=r"column 'campaign_id': 300 cells longer than 65,536 bytes"
    ):
        validate_file(path, SPEC)


# ------------------------------------------------------------------ engage recommend --input


@pytest.mark.parametrize("kind", ["nul", "line", "field", "columns"])
def test_recommend_input_refuses(tmp_path, capsys, monkeypatch, kind):
    monkeypatch.setattr(cli_recommend, "load_model", lambda uri, spec: pytest.fail("loaded"))
    path, words = bad_files(tmp_path)[kind]
    csv = path.with_suffix(".csv") if path.suffix != ".csv" else path
    assert main(["recommend", "--input", str(csv)]) == 2
    err = capsys.readouterr().err
    assert re.search(words, err), err


def test_recommend_input_refuses_a_large_file_before_reading_it(tmp_path, capsys):
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"{}\n" * 100_000)
    assert main(["recommend", "--input", str(path), "--max-bytes", "1000"]) == 2
    assert (
        "300,000 bytes, more than the limit of 1,000 bytes (--max-bytes)" in capsys.readouterr().err
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_recommend_input_refuses_too_many_profiles(tmp_path, capsys, suffix):
    path = tmp_path / f"p{suffix}"
    n = recommend_input.MAX_PROFILES + 1
    path.write_bytes(
        (b"a\n" if suffix == ".csv" else b"") + (b"1\n" if suffix == ".csv" else b"{}\n") * n
    )
    assert main(["recommend", "--input", str(path)]) == 2
    assert f"{n:,} profiles, more than {recommend_input.MAX_PROFILES:,}" in capsys.readouterr().err


def test_recommend_json_nul_bytes_and_parquet_cells_are_refused(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_bytes(b"[" + b"\0" * 10 + b"]")
    assert main(["recommend", "--input", str(path)]) == 2
    assert "10 NUL bytes" in capsys.readouterr().err
    path = tmp_path / "p.parquet"
    pd.DataFrame({"industry": ["x" * (MAX_FIELD_BYTES + 1)]}).to_parquet(path)
    assert main(["recommend", "--input", str(path)]) == 2
    assert "column 'industry': 1 cells longer than 65,536 bytes" in capsys.readouterr().err


def test_recommend_profile_file_is_limited_too(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"a": "x" * 5000}))
    assert main(["recommend", "--profile", f"@{path}", "--max-bytes", "1000"]) == 2
    assert "more than the limit of 1,000 bytes (--max-bytes)" in capsys.readouterr().err


# ------------------------------------------------------------------ engage recommend-batch


def test_batch_input_refuses_long_cells_and_wide_files(tmp_path):
    long_cells = tmp_path / "long.parquet"
    pq.write_table(
        pa.table({"a": pa.array(["x" * 100_000] * 50).dictionary_encode(), "b": list(range(50))}),
        long_cells,
    )
    with pytest.raises(BatchInputError, match=r"column 'a': 50 cells longer than 65,536 bytes"):
        check_columns([long_cells], ["a", "b"])
    check_columns([long_cells], ["b"])  # only the columns read are scanned
    wide = tmp_path / "wide.parquet"
    pd.DataFrame({f"c{i}": [1] for i in range(MAX_COLUMNS + 1)}).to_parquet(wide)
    with pytest.raises(
        BatchInputError, match=rf"{MAX_COLUMNS + 1:,} columns, more than {MAX_COLUMNS:,}"
    ):
        check_columns([wide], ["c0"])


# ------------------------------------------------------------------ engage decisions export


def test_decisions_export_refuses_a_window_over_the_row_limit(tmp_path, capsys):
    from engage.decisions.store import open_store
    from tests.unit.decisions.test_decision_store import record

    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = open_store(url)
    store.write([record() for _ in range(5)])
    store.close()
    out = tmp_path / "log.parquet"
    assert main(["decisions", "export", "--url", url, "--out", str(out), "--max-rows", "4"]) == 1
    assert (
        "5 decisions between the start and now, more than 4 (--max-rows)" in capsys.readouterr().err
    )
    assert not out.exists()


def test_decisions_export_refuses_an_oversized_payload(tmp_path):
    from engage.decisions.export import export_decisions
    from engage.decisions.store import open_store
    from tests.unit.decisions.test_decision_store import PROFILE, record

    store = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    store.write([record(profile={**PROFILE, "note": "x" * (MAX_LINE_BYTES + 1)})])
    with pytest.raises(
        InputLimitError, match=rf"payload of [\d,]+ characters, more than {MAX_LINE_BYTES:,}"
    ):
        export_decisions(store, SPEC, tmp_path / "log.parquet")
    store.close()


def test_input_limits_default_is_the_train_setting():
    assert InputLimits().max_bytes == TrainSettings.model_fields["max_input_bytes"].default


def test_recommend_json_of_too_many_objects_is_refused_before_parsing(
    tmp_path, capsys, monkeypatch
):
    def parse(*args, **kwargs):
        raise AssertionError("parsed")

    path = tmp_path / "p.json"
    n = recommend_input.MAX_PROFILES + 1
    path.write_text("[" + ",".join(["{}"] * n) + "]")
    monkeypatch.setattr(recommend_input, "_json", parse)
    assert main(["recommend", "--input", str(path)]) == 2
    assert f"{n:,} profiles, more than {recommend_input.MAX_PROFILES:,}" in capsys.readouterr().err
