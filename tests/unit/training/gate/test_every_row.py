"""The gate judges every clean row of the log, whatever its size (issue 28): ``gate.rows`` is
the count of rows that passed validation, never a sample of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engage.contract.spec import load_spec
from engage.contract.validation import validate_log
from engage.simulation.world import SimulatedWorld
from engage.training.settings import TrainSettings
from engage.training.split import _draw_samples
from tests.unit.training.gate.steps import gate_on


def test_a_large_log_is_judged_on_every_row_of_both_sides() -> None:
    # 200,000 rows: the gate judged a seeded sample of 20,000 of them before issue 28
    s = _draw_samples(150_000, 50_000, seed=0)
    np.testing.assert_array_equal(s.ope, np.arange(50_000))
    np.testing.assert_array_equal(s.gate_train, np.arange(150_000))


@pytest.mark.slow  # a small training, seconds
def test_gate_rows_is_the_clean_row_count_of_a_log_with_invalid_rows() -> None:
    spec = load_spec()
    settings = TrainSettings(data=Path("unused.parquet"), trials=0, n_boot=20)
    log = SimulatedWorld("hard").simulate(1_500, seed=3)
    log.loc[log.index[:20], "conversions"] = np.nan  # 40 rows break the contract
    log.loc[log.index[20:40], spec.style.name] = "not a style"
    clean = validate_log(log, spec).clean
    assert len(clean) == len(log) - 40  # quarantined, so not judged
    split, evaluation = gate_on(clean, spec, settings)
    assert evaluation.gate_rows == len(clean)
    assert evaluation.metrics["gate.rows"] == len(clean)
    assert evaluation.metrics["gate.training_rows"] == len(split.train)
