"""A version the gate says keeps the logging policy is not promoted unless forced; an
implausible one is refused even forced (the plausibility reason is the one said)."""

from __future__ import annotations

from types import SimpleNamespace

from engage.training.plausibility import Plausibility
from engage.training.promotion import judge_promotion

OK = Plausibility(finite=True, plausible=True, reason="")
BAD = Plausibility(finite=False, plausible=False, reason="a value is not finite")


def _judge(plausibility: Plausibility, force: bool, keeps_logging: bool):
    settings = SimpleNamespace(force=force, model_name="m")
    return judge_promotion(
        None, None, 0.0, plausibility, settings, n_boot=1, seed=0, keeps_logging=keeps_logging
    )


def test_keeping_the_logging_policy_is_not_promoting_unless_forced() -> None:
    kept = _judge(OK, force=False, keeps_logging=True)
    assert not kept.promote and "logging policy" in kept.reason and "--force" in kept.reason
    assert _judge(OK, force=True, keeps_logging=True).promote


def test_an_implausible_model_is_refused_for_that_reason_even_forced() -> None:
    refused = _judge(BAD, force=True, keeps_logging=True)
    assert not refused.promote and refused.reason.startswith("refused by the plausibility gate")
