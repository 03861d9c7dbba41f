"""The validate step of ``engage train`` (issue 12): a heavily quarantined log fails unless the
user opts in, the console says how many rows were quarantined and why, input limits name their
settings, and a constant propensity reaches off-policy evaluation."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from engage.cli import main
from engage.contract.limits import InputLimitError, InputLimits
from engage.contract.spec import ConstantPropensity, load_spec
from engage.contract.validation import LogValidationError
from engage.simulation.world import SimulatedWorld
from engage.training.gate.rows import logged_data
from engage.training.intake import QuarantineShareError, input_limits, validate_input
from engage.training.settings import TrainSettings, settings_from_flags
from engage.training.split import TrainingError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.upper().startswith("ENGAGE_TRAIN_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="module")
def misspelt(tmp_path_factory) -> Path:
    """2,000 simulated rows, 45% of them with a misspelt industry."""
    log = SimulatedWorld("hard").simulate(2000, seed=5)
    log.loc[log.index[:900], "industry"] = "sofware"
    path = tmp_path_factory.mktemp("data") / "misspelt.csv"
    log.to_csv(path, index=False)
    return path


def test_a_heavily_quarantined_log_is_refused_with_counts_and_reasons(misspelt):
    with pytest.raises(QuarantineShareError) as err:
        validate_input(TrainSettings(data=misspelt), load_spec())
    message = str(err.value)
    assert message.startswith("900 of 2,000 rows (45.0%) were quarantined, more than the 5%")
    assert "--allow-quarantine 0.45" in message and "ENGAGE_TRAIN_MAX_QUARANTINE_SHARE" in message
    assert "quarantined 900 of 2,000 rows (45.0%):" in message
    assert "column 'industry': 900 rows have unknown categories ['sofware']" in message
    assert isinstance(err.value, TrainingError) and err.value.report.n_input_rows == 2000


def test_opting_in_lets_the_run_go_on(misspelt, monkeypatch):
    report = validate_input(TrainSettings(data=misspelt, max_quarantine_share=0.45), load_spec())
    assert len(report.clean) == 1100
    monkeypatch.setenv("ENGAGE_TRAIN_MAX_QUARANTINE_SHARE", "0.5")
    assert validate_input(TrainSettings(data=misspelt), load_spec()).n_input_rows == 2000
    assert (
        settings_from_flags({"data": "x.csv", "max_quarantine_share": 0.6}).max_quarantine_share
        == 0.6
    )


def test_the_cli_flag_opts_in():
    from engage.cli import build_parser

    args = build_parser().parse_args(["train", "--data", "x.csv", "--allow-quarantine", "0.5"])
    assert settings_from_flags(vars(args)).max_quarantine_share == 0.5


def test_cli_train_fails_and_says_why_before_anything_is_logged(
    misspelt, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["train", "--data", str(misspelt), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "900 of 2,000 rows (45.0%) were quarantined" in err
    assert "column 'industry': 900 rows have unknown categories" in err
    assert not (tmp_path / "mlruns").exists()  # no tracking store was even opened


def test_cli_train_on_a_fatal_log_prints_the_quarantine_too(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    log = SimulatedWorld("hard").simulate(2000, seed=5)
    log.loc[log.index[:1100], "industry"] = "sofware"  # 55%: over the spec's 50%, fatal
    path = tmp_path / "worse.csv"
    log.to_csv(path, index=False)
    assert main(["train", "--data", str(path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "2000 rows read: file rejected; 900 rows passed the row checks, 1100 quarantined" in err
    assert "QUARANTINE: column 'industry': 1100 rows have unknown categories" in err


def test_too_few_clean_rows_says_how_many_were_quarantined(tmp_path):
    log = SimulatedWorld("hard").simulate(250, seed=5)
    log.loc[log.index[:60], "followers"] = -1.0
    path = tmp_path / "small.csv"
    log.to_csv(path, index=False)
    with pytest.raises(TrainingError) as err:
        validate_input(TrainSettings(data=path, max_quarantine_share=0.3), load_spec())
    assert str(err.value).splitlines()[:2] == [
        "only 190 valid rows: at least 200 are needed to train",
        "quarantined 60 of 250 rows (24.0%):",
    ]
    assert "column 'followers': 60 rows have a value outside" in str(err.value)


def test_input_limits_name_the_training_settings(tmp_path, monkeypatch):
    path = tmp_path / "log.csv"
    SimulatedWorld("hard").simulate(50, seed=1).to_csv(path, index=False)
    monkeypatch.setenv("ENGAGE_TRAIN_MAX_INPUT_BYTES", "100")
    with pytest.raises(InputLimitError, match="ENGAGE_TRAIN_MAX_INPUT_BYTES"):
        validate_input(TrainSettings(data=path), load_spec())
    limits = input_limits(TrainSettings(data=path, max_input_rows=7).input)
    assert (limits.max_rows, limits.max_bytes) == (7, 100)
    assert limits.name_of("max_rows") == "ENGAGE_TRAIN_MAX_INPUT_ROWS"
    # the probe and the quarantined rows written are the contract's, not settings
    assert (limits.probe_rows, limits.probe_max_bad_share) == (
        InputLimits.probe_rows,
        InputLimits.probe_max_bad_share,
    )
    assert limits.name_of("probe_rows") == "probe_rows"


def test_a_fatal_log_still_raises_the_validation_error(tmp_path):
    path = tmp_path / "log.csv"
    SimulatedWorld("hard").simulate(300, seed=1).drop(columns=["style"]).to_csv(path, index=False)
    with pytest.raises(LogValidationError, match="style"):
        validate_input(TrainSettings(data=path), load_spec())


def test_off_policy_evaluation_uses_a_constant_propensity():
    spec = load_spec().model_copy(update={"propensity": ConstantPropensity(value=0.2)})
    n = 6
    ev = SimpleNamespace(
        log=pd.DataFrame({"logged_propensity": np.full(n, 0.9)}),  # ignored: the spec says 0.2
        y={o: np.arange(n, dtype=float) for o in spec.outcome_names},
        X=np.zeros((n, 2)),
        context=np.zeros((n, 1)),
        style=np.arange(n) % 5,
    )
    split = SimpleNamespace(eval=ev, samples=SimpleNamespace(ope=np.array([0, 2, 4])))
    valuer = SimpleNamespace(objective=lambda rows, context, decisions: np.ones(len(rows)))
    estimated = SimpleNamespace(eval_proba=np.full((n, 5), 0.5))
    weights = spec.outcome_weights()
    data, clipped, source = logged_data(
        spec, split, split.samples.ope, valuer, estimated, weights, clip=0.05
    )
    assert source == "logged" and clipped == 0
    np.testing.assert_array_equal(data.propensity, [0.2, 0.2, 0.2])
    no_propensity = spec.model_copy(update={"propensity": None})
    data, _, source = logged_data(
        no_propensity, split, split.samples.ope, valuer, estimated, weights, clip=0.05
    )
    assert source == "estimated"
    np.testing.assert_array_equal(data.propensity, [0.5, 0.5, 0.5])
