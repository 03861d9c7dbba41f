"""The `engage` CLI: simulate and validate as a user runs them."""

from __future__ import annotations

import pandas as pd
import pytest

from engage.cli import build_parser, main
from engage.training.pipeline import read_world


def test_simulate_writes_a_valid_log_with_its_world(tmp_path, capsys) -> None:
    out = tmp_path / "campaigns.parquet"
    assert main(["simulate", "--rows", "3000", "--seed", "1", "--difficulty", "hard", "--out", str(out)]) == 0
    assert "wrote 3,000 campaigns" in capsys.readouterr().out
    assert read_world(out) == {"difficulty": "hard", "decisions": "full", "seed": 1, "rows": 3000}
    assert main(["validate", "--data", str(out)]) == 0
    assert "3000 clean, 0 quarantined" in capsys.readouterr().out


def test_simulate_csv_with_truth_and_style_mode(tmp_path) -> None:
    out = tmp_path / "campaigns.csv"
    assert main(["simulate", "--rows", "500", "--decisions", "style", "--with-truth", "--out", str(out)]) == 0
    log = pd.read_csv(out)
    assert "true_objective" in log.columns
    assert log.groupby("style")["posts_per_week"].nunique().max() == 1
    assert main(["validate", "--data", str(out)]) == 0  # true_* columns are declared passthrough


def test_simulate_refuses_unknown_format(tmp_path, capsys) -> None:
    assert main(["simulate", "--rows", "10", "--out", str(tmp_path / "x.xlsx")]) == 1
    assert ".parquet or .csv" in capsys.readouterr().err


def test_validate_quarantines_and_names_the_column(tmp_path, capsys) -> None:
    src = tmp_path / "c.csv"
    main(["simulate", "--rows", "400", "--out", str(src)])
    log = pd.read_csv(src)
    log.loc[[3, 7, 11], "industry"] = "crypto"
    log.to_csv(src, index=False)
    capsys.readouterr()
    assert main(["validate", "--data", str(src)]) == 0
    out = capsys.readouterr().out
    assert "industry" in out and "3 rows" in out and "crypto" in out
    quarantine = pd.read_csv(tmp_path / "c.quarantine.csv")
    assert sorted(quarantine["_row"]) == [3, 7, 11]
    assert quarantine["_reason"].str.contains("industry").all()


def test_validate_fatal_exits_non_zero(tmp_path, capsys) -> None:
    src = tmp_path / "c.csv"
    main(["simulate", "--rows", "100", "--out", str(src)])
    pd.read_csv(src).drop(columns=["followers"]).to_csv(src, index=False)
    capsys.readouterr()
    assert main(["validate", "--data", str(src)]) == 1
    assert "followers" in capsys.readouterr().out


def test_bad_spec_is_a_clear_error(tmp_path, capsys) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: x\ncontext: []\n")
    data = tmp_path / "c.csv"
    main(["simulate", "--rows", "50", "--out", str(data)])
    capsys.readouterr()
    assert main(["validate", "--data", str(data), "--spec", str(spec)]) == 2
    assert "spec file" in capsys.readouterr().err


def test_every_subcommand_has_help() -> None:
    parser = build_parser()
    for command in ("simulate", "validate", "train", "serve", "export-model"):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args([command, "--help"])
        assert exit_.value.code == 0
