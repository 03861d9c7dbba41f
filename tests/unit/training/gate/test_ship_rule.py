"""The ship rule and its words, from estimates alone: no models, no rows."""

from __future__ import annotations

import pytest

from engage.ope import Estimate
from engage.training.gate.reasons import Judged, rows_said, ship_reason
from engage.training.gate.rule import GateEstimates, Verdict, ship_rule


def _rule(learned, constant, over=None, baseline: bool = True) -> Verdict:
    return ship_rule(
        GateEstimates(
            Estimate(*learned),
            Estimate(*constant),
            None if over is None else Estimate(*over),
            baseline,
        )
    )


def test_a_confidently_better_personalised_policy_ships() -> None:
    assert _rule((0.2, 0.01, 0.4), (0.0, -0.1, 0.1)) == Verdict("personalized", confident=True)


def test_only_a_confidently_better_constant_ships_the_constant() -> None:
    assert _rule((0.2, -0.01, 0.4), (0.5, 0.3, 0.7)) == Verdict("constant", confident=True)


def test_nothing_confident_ships_the_baseline() -> None:
    assert _rule((0.2, -0.01, 0.4), (0.1, -0.2, 0.3)) == Verdict("baseline", confident=False)
    # without a baseline, the best constant stands in
    assert _rule((0.1, -0.1, 0.3), (0.1, -0.1, 0.3), baseline=False) == Verdict(
        "constant", confident=False
    )


def test_the_simpler_constant_is_preferred_only_when_confirmed_better_with_its_choice_allowed_for() -> (
    None
):
    # flat world, style track, n = 20,000, seed 0 (issue 11): the constant is confirmed
    # better than the personalised policy with its choice among the grid allowed for
    displaced = _rule((0.443, 0.132, 0.754), (0.758, 0.342, 1.174), over=(0.316, 0.073, 0.559))
    assert displaced == Verdict("constant", confident=True, displaced=True)
    # better by its point, not once its choice is allowed for: the personalised policy
    kept = _rule((0.691, 0.438, 0.944), (0.848, 0.484, 1.212), over=(0.157, -0.031, 0.344))
    assert kept == Verdict("personalized", confident=True)
    # a constant that is not itself confirmed better than marketers displaces nothing
    assert _rule((0.3, 0.1, 0.5), (0.4, -0.01, 0.8), over=(0.1, 0.01, 0.2)).mode == "personalized"
    # not measured: nothing displaces the personalised policy
    assert _rule((0.3, 0.1, 0.5), (0.9, 0.5, 1.2)).mode == "personalized"


@pytest.mark.parametrize(
    ("learned", "constant", "versus", "mode"),
    [
        ((0.2, 0.01, 0.4), (0.0, -0.1, 0.1), (0.1, -0.1, 0.3), "personalized"),
        # both beat marketers, personalising confidently adds to the constant
        ((0.6, 0.4, 0.8), (0.2, 0.1, 0.3), (0.4, 0.2, 0.6), "personalized"),
        # both beat marketers: the personalised policy, even where the constant's gain has the
        # higher lower bound or the paired comparison favours the constant (issue 11: the
        # constant's gain is the best of the grid's, the personalised policy's is shrunk; the
        # rule of the higher lower bound shipped the constant at a higher true regret)
        ((0.2, 0.01, 0.4), (0.2, 0.1, 0.3), (0.0, -0.1, 0.1), "personalized"),
        ((0.31, 0.03, 0.57), (0.68, 0.40, 0.97), (-0.37, -0.65, -0.05), "personalized"),
        ((0.3, 0.1, 0.5), (0.2, 0.1, 0.3), (0.1, -0.2, 0.4), "personalized"),
        # the constant where the personalised policy is not confirmed
        ((0.2, -0.01, 0.4), (0.5, 0.3, 0.7), (-0.3, -0.5, 0.1), "constant"),
        ((-0.2, -0.4, -0.01), (0.1, 0.01, 0.2), (-0.3, -0.5, -0.1), "constant"),
        # neither is confidently better than what marketers did: no change from them
        ((0.2, -0.01, 0.4), (0.1, -0.2, 0.3), (0.1, -0.1, 0.3), "baseline"),
    ],
)
def test_the_reason_says_what_ships_and_how_it_compares(learned, constant, versus, mode) -> None:
    estimates = GateEstimates(Estimate(*learned), Estimate(*constant))
    ruled = ship_rule(estimates)
    assert ruled.mode == mode
    reason = ship_reason(estimates, ruled, Judged(versus=Estimate(*versus)))
    if mode != "baseline":  # says what ships and how it compares with the other
        assert reason.endswith(
            {"personalized": "personalised policy", "constant": "best constant action"}[mode]
        )
        assert f"{versus[0]:+.3f}" in reason
    else:
        assert reason.endswith(
            "shipping the baseline: what marketers of similar profiles typically do"
        )


def test_a_displacing_constant_is_said_with_its_band() -> None:
    over = Estimate(0.316, 0.073, 0.559)
    estimates = GateEstimates(Estimate(0.443, 0.132, 0.754), Estimate(0.758, 0.342, 1.174), over)
    reason = ship_reason(
        estimates,
        ship_rule(estimates),
        Judged(versus=Estimate(-0.3, -0.5, -0.1), constants_tried=5),
    )
    assert "better still" in reason
    assert "by +0.316, 95% interval +0.073 to +0.559" in reason
    assert "its choice among 5 constants allowed for" in reason
    assert reason.endswith("shipping the best constant action")
    assert (
        "the personalised policy is better than the best constant" not in reason
    )  # the band says it


def test_the_reason_says_which_support_floor_and_rows_judged() -> None:
    estimates = GateEstimates(Estimate(0.3, 0.1, 0.5), Estimate(0.0, -0.1, 0.1))
    ruled = ship_rule(estimates)
    judged = Judged(
        versus=Estimate(0.3, 0.1, 0.5), rows=rows_said(1250, 5000), floor=0.05, floors_tried=2
    )
    reason = ship_reason(estimates, ruled, judged)
    assert reason.startswith(
        "the personalised policy (no style recommended below propensity 0.05: the lowest of 2 "
        "support floors tried whose gain is sure) is better than what marketers did"
    )
    assert "(judged on all 6,250 rows: 1,250 evaluation rows and 5,000 training rows" in reason
    # one floor tried: nothing to say
    alone = ship_reason(estimates, ruled, Judged(versus=Estimate(0.3, 0.1, 0.5), floor=0.005))
    assert "support floors" not in alone
    assert rows_said(1250, 0) == "the 1,250 evaluation rows"


def test_the_verdict_words_an_interval_below_zero_as_worse() -> None:
    worse = Estimate(-1146.9, -1987.0, -512.8)  # issue 13's example: said "not significant"
    estimates = GateEstimates(worse, Estimate(-5.0, -9.0, -1.0))
    reason = ship_reason(estimates, ship_rule(estimates), Judged(versus=Estimate(0.1, -1, 1)))
    assert "worse than what marketers did" in reason
    assert "not significant" not in reason


def test_a_shipped_baseline_is_said_with_its_own_gain() -> None:
    # issue 30: the report headlines the baseline's gain when it ships; the reason says it too
    estimates = GateEstimates(Estimate(0.385, -0.267, 0.870), Estimate(0.129, -0.402, 0.660))
    judged = Judged(versus=Estimate(0.2, -0.3, 0.9), baseline=Estimate(-0.445, -0.838, -0.067))
    reason = ship_reason(estimates, ship_rule(estimates), judged)
    assert "shipping the baseline" in reason
    assert reason.endswith("(worse than what marketers did, -0.445, 95% interval -0.838 to -0.067)")


def test_a_log_that_declares_its_propensities_serves_its_logging_distribution_when_nothing_is_sure() -> (
    None
):
    def rule(learned, constant) -> Verdict:
        return ship_rule(
            GateEstimates(Estimate(*learned), Estimate(*constant), logging_baseline=True)
        )

    # nothing confidently better than the randomisation (or the recorded decisions): serve it
    kept = rule((0.2, -0.01, 0.4), (0.1, -0.2, 0.3))
    assert kept == Verdict("logging", confident=False, keeps_logging=True)
    reason = ship_reason(
        GateEstimates(Estimate(0.2, -0.01, 0.4), Estimate(0.1, -0.2, 0.3), logging_baseline=True),
        kept,
        Judged(Estimate(0.1, -0.1, 0.3), logging=Estimate(-0.02, -0.1, 0.06)),
    )
    assert "nothing was confidently better than the logging policy" in reason
    assert "this is the logging distribution being served" in reason
    assert "not distinguishable from it: -0.020, 95% interval -0.100 to +0.060" in reason
    assert "not promoted" not in reason
    # what is confidently better than it still ships
    assert rule((0.2, 0.01, 0.4), (0.1, -0.2, 0.3)) == Verdict("personalized", confident=True)
    assert rule((0.2, -0.01, 0.4), (0.3, 0.1, 0.5)) == Verdict("constant", confident=True)


def test_the_best_constant_confidently_no_worse_than_the_logging_policy_ships_instead() -> None:
    # its gain's lower bound in the gate's band is 0: confidently no worse (the boundary the
    # rule's docstring names); a lower bound just below 0 is not, and the distribution is served
    at_zero = GateEstimates(
        Estimate(0.1, -0.2, 0.3), Estimate(0.2, 0.0, 0.4), logging_baseline=True
    )
    ruled = ship_rule(at_zero)
    assert ruled == Verdict("constant", confident=True)
    reason = ship_reason(at_zero, ruled, Judged(Estimate(-0.1, -0.3, 0.1)))
    assert "confidently no worse than the logging policy" in reason
    below = GateEstimates(
        Estimate(0.1, -0.2, 0.3), Estimate(0.2, -1e-9, 0.4), logging_baseline=True
    )
    assert ship_rule(below).mode == "logging"
    # on a log that does not declare its propensities a zero lower bound confirms nothing
    assert ship_rule(GateEstimates(Estimate(0.1, -0.2, 0.3), Estimate(0.2, 0.0, 0.4))).mode == (
        "baseline"
    )


def test_the_rows_in_words_say_every_row() -> None:
    assert rows_said(5_000, 15_000) == (
        "all 20,000 rows: 5,000 evaluation rows and 15,000 training rows, each chosen for by a "
        "policy learned without it"
    )
