"""A version that serves the logging distribution (the gate found nothing confidently better
than a declared log's logging policy) is judged for promotion like any other: promoted when
there is no champion yet. An implausible one is refused even forced (the plausibility reason is
the one said)."""

from __future__ import annotations

from types import SimpleNamespace

from engage.training.plausibility import Plausibility
from engage.training.promotion import judge_promotion

OK = Plausibility(finite=True, plausible=True, reason="")
BAD = Plausibility(finite=False, plausible=False, reason="a value is not finite")


def _judge(plausibility: Plausibility, force: bool, name: str = "m"):
    settings = SimpleNamespace(force=force, model_name=name)
    return judge_promotion(None, None, lambda rows: 0.0, plausibility, settings, n_boot=1, seed=0)


def test_a_first_version_is_promoted_whatever_it_serves(mlflow_store) -> None:
    judged = _judge(OK, force=False, name="logging-first-version")
    assert judged.promote and judged.reason == "no champion yet"
    assert _judge(OK, force=True).promote


def test_an_implausible_model_is_refused_for_that_reason_even_forced() -> None:
    refused = _judge(BAD, force=True)
    assert not refused.promote and refused.reason.startswith("refused by the plausibility gate")
