"""Counts the command line prints are worded with ``engage.contract.messages.counted``: one of
a thing is singular ("wrote 1 decision"), many carry thousands separators."""

from __future__ import annotations

from engage.batch.job import BatchResult
from engage.decisions.export import Export


def test_export_summary_words_one_decision_in_the_singular(tmp_path) -> None:
    log, spec = tmp_path / "log.csv", tmp_path / "spec.yaml"
    text = Export(log, spec, 1, 1, 1, 1, "propensity").summary()
    assert text.startswith(f"wrote 1 decision to {log} (1 with every outcome)")
    assert "left out 1 decision still missing outcomes" in text
    assert "left out 1 decision made under other specs" in text
    many = Export(log, spec, 2000, 0, 0, 0, "propensity").summary()
    assert many.startswith(f"wrote 2,000 decisions to {log}")


def test_batch_summary_words_one_profile_in_the_singular() -> None:
    result = BatchResult(
        rows=1,
        scored=1,
        recommendations=1,
        quarantined=1,
        output="out",
        model_uri="models:/m@champion",
        model_version="3",
        engine="pandas",
        seconds=1.0,
    )
    text = result.summary()
    assert "scored 1 of 1 profile with models:/m@champion" in text
    assert "; 1 recommendation in " in text
    assert "; 1 row quarantined with their reasons" in text


def test_quarantine_refusal_words_one_row_in_the_singular() -> None:
    from engage.contract.spec import load_spec
    from engage.contract.validation import validate_log
    from engage.simulation.world import SimulatedWorld
    from engage.training.intake import quarantine_share_problem

    log = SimulatedWorld("hard").simulate(2, seed=1)
    log.loc[[0], "industry"] = "crypto"
    report = validate_log(log, load_spec())
    problem = quarantine_share_problem(report, 0.05)
    assert problem is not None
    assert problem.startswith("1 of 2 rows (50.0%) was quarantined, more than the 5%")


def test_evaluate_words_one_decision_in_the_singular(capsys) -> None:
    from types import SimpleNamespace

    from engage.cli.evaluate import _print

    _print([], SimpleNamespace(value=1.0, low=0.5, high=1.5), 1, 1)
    assert capsys.readouterr().out.startswith(
        "1 recorded decision (1 quarantined row left out); propensities: recorded"
    )
