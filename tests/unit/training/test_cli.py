"""The `engage` CLI: simulate and validate as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engage.cli import build_parser, main
from engage.simulation.world import read_world


def test_simulate_writes_a_valid_log_with_its_world(tmp_path, capsys) -> None:
    out = tmp_path / "campaigns.parquet"
    assert (
        main(
            ["simulate", "--rows", "3000", "--seed", "1", "--difficulty", "hard", "--out", str(out)]
        )
        == 0
    )
    assert "wrote 3,000 campaigns" in capsys.readouterr().out
    assert read_world(out) == {"difficulty": "hard", "decisions": "full", "seed": 1, "rows": 3000}
    assert main(["validate", "--data", str(out)]) == 0
    assert "3000 clean, 0 quarantined" in capsys.readouterr().out


def test_simulate_csv_with_truth_and_style_mode(tmp_path) -> None:
    out = tmp_path / "campaigns.csv"
    assert (
        main(
            ["simulate", "--rows", "500", "--decisions", "style", "--with-truth", "--out", str(out)]
        )
        == 0
    )
    log = pd.read_csv(out)
    assert "true_objective" in log.columns
    assert log.groupby("style")["posts_per_week"].nunique().max() == 1
    assert main(["validate", "--data", str(out)]) == 0  # true_* columns are declared passthrough


def test_simulate_refuses_unknown_format(tmp_path, capsys) -> None:
    assert main(["simulate", "--rows", "10", "--out", str(tmp_path / "x.xlsx")]) == 1
    assert ".parquet or .csv" in capsys.readouterr().err


def test_validate_quarantines_and_names_the_column(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)  # the quarantine goes under ./engage-output, never beside the data
    src = tmp_path / "data" / "c.csv"
    src.parent.mkdir()
    main(["simulate", "--rows", "400", "--out", str(src)])
    log = pd.read_csv(src)
    log.loc[[3, 7, 11], "industry"] = "crypto"
    log.to_csv(src, index=False)
    capsys.readouterr()
    assert main(["validate", "--data", str(src)]) == 0
    out = capsys.readouterr().out
    assert "industry" in out and "3 rows" in out and "crypto" in out
    written = Path("engage-output") / "quarantine" / "c.quarantine.csv"
    assert f"quarantined rows written to {written}" in out
    assert sorted(p.name for p in src.parent.iterdir()) == ["c.csv"]  # nothing beside the data
    quarantine = pd.read_csv(tmp_path / written)
    assert sorted(quarantine["_row"]) == [3, 7, 11]
    assert quarantine["_reason"].str.contains("industry").all()


def test_validate_exits_1_when_train_would_refuse_the_quarantined_share(
    tmp_path, monkeypatch, capsys
) -> None:
    # Issue 31, item 6: validate said 0 on logs train refuses (16.7% and 45% quarantined).
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ENGAGE_TRAIN_MAX_QUARANTINE_SHARE", raising=False)
    src = tmp_path / "c.csv"
    main(["simulate", "--rows", "300", "--out", str(src)])
    log = pd.read_csv(src)
    log.loc[log.index[:50], "industry"] = "Surburban"  # 16.7% of the rows
    log.to_csv(src, index=False)
    capsys.readouterr()
    assert main(["validate", "--data", str(src)]) == 1
    said = capsys.readouterr()
    assert "50 of 300 rows (16.7%) were quarantined, more than the 5% training accepts" in said.err
    assert "ENGAGE_TRAIN_MAX_QUARANTINE_SHARE" in said.err and "--allow-quarantine 0.17" in said.err
    assert "Surburban" in said.out  # the report still says which rows and why
    assert main(["validate", "--data", str(src), "--allow-quarantine", "0.2"]) == 0
    monkeypatch.setenv("ENGAGE_TRAIN_MAX_QUARANTINE_SHARE", "0.2")  # the setting train reads
    assert main(["validate", "--data", str(src)]) == 0


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


@pytest.mark.parametrize(
    ("objective", "says"),
    [
        ('{"sales": 1}', "unknown outcome(s) in objective: ['sales']"),
        ("{conversions: 1}", "not valid JSON"),
    ],
)
def test_train_refuses_a_bad_objective_before_anything_is_logged(
    tmp_path, monkeypatch, capsys, objective, says
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    data = tmp_path / "c.parquet"
    main(["simulate", "--rows", "300", "--out", str(data)])
    capsys.readouterr()
    assert main(["train", "--data", str(data), "--objective", objective, "--no-progress"]) == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "mlruns").exists()  # no tracking store was even opened


def test_train_refuses_an_unknown_setting_variable(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ENGAGE_TRAIN_TRAILS", "9")
    assert main(["train", "--data", str(tmp_path / "c.parquet")]) == 1
    err = capsys.readouterr().err
    assert "ENGAGE_TRAIN_TRAILS" in err and "ENGAGE_TRAIN_TRIALS" in err


def test_simulated_logs_get_an_oracle_other_logs_none(tmp_path) -> None:
    from engage.simulation.oracle import oracle_for_log

    parquet, csv = tmp_path / "c.parquet", tmp_path / "c.csv"
    main(["simulate", "--rows", "50", "--difficulty", "easy", "--out", str(parquet)])
    main(["simulate", "--rows", "50", "--out", str(csv)])
    oracle = oracle_for_log(parquet)
    assert oracle is not None and oracle.description["difficulty"] == "easy"
    assert oracle_for_log(csv) is None
    facebook = Path(__file__).resolve().parents[3] / "examples" / "facebook_metrics.yaml"
    assert oracle_for_log(parquet, facebook) is None  # read through another spec: no truth


def test_version_is_the_package_version(capsys) -> None:
    import engage

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"engage {engage.__version__}"


def test_an_error_carrying_a_password_is_printed_redacted(capsys) -> None:
    assert main(["validate", "--data", "http://user:PW@host/log.csv"]) != 0
    err = capsys.readouterr().err
    assert "PW" not in err
    assert "user:***@host" in err
