"""The report's opening: what the model recommends and what it is expected to gain.

Two or three plain sentences a marketer can repeat. A gain is worded by what its 95% interval
says (better, worse, or no clear difference), never by its point value alone.
"""

from __future__ import annotations

from engage.policy.narration import plural
from engage.reporting.record import Gain, Gains, ObjectiveWords, SegmentSummary
from engage.reporting.wording import decimals, interval_words, number, share
from engage.training.gate.reasons import LOGGING_SERVED

TOP_STYLES = 3
PATTERN_SHARE = 0.1


def gain_words(gain: Gain, unit: str, against: str) -> str:
    """A gain as the end of a sentence whose subject is the recommended policy.

    Example: ``should earn +0.63 points more on average than what marketers did (95%
    interval +0.31 to +0.89)``.
    """
    places = decimals(gain.value, gain.low, gain.high)
    interval, signed = interval_words(gain), number(gain.value, places, signed=True)
    if gain.verdict == "better":
        return f"should earn {signed} {unit} more on average than {against} ({interval})"
    if gain.verdict == "worse":
        amount = number(-gain.value, places)
        return f"is expected to do worse than {against}, by {amount} {unit} on average ({interval})"
    return f"shows no clear difference from {against} ({signed} {unit}, {interval})"


def style_mix(recommended: dict[str, float]) -> str:
    """``conversational for 29% of profiles, thought leadership for 21% and broadcast for 17%``.

    Args:
        recommended: share of profiles per recommended style.
    """
    ranked = [
        (style, v) for style, v in sorted(recommended.items(), key=lambda kv: -kv[1]) if v > 0
    ]
    if not ranked:
        return "no style"
    parts = [f"{style} for {share(v)}" for style, v in ranked[:TOP_STYLES]]
    parts[0] += " of profiles"
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return text + (", among others" if len(ranked) > TOP_STYLES else "")


def clearest_pattern(summary: SegmentSummary) -> str | None:
    """The segment the policy treats most uniformly, as a sentence (None: no such segment).

    Only segments of at least ``PATTERN_SHARE`` of the profiles count: a rule that holds for
    a handful of profiles is not what a reader should remember.
    """
    big = [s for s in summary.segments if s.conditions and s.share >= PATTERN_SHARE]
    if not big:
        return None
    seg = max(big, key=lambda s: (s.agreement, s.share))
    conditions = "; ".join(seg.conditions)
    return (
        f"The clearest pattern: {conditions} → {seg.style} for {share(seg.agreement)} of "
        f"these profiles ({share(seg.share)} of all)."
    )


def headline_sentences(
    mode: str,
    recommended: dict[str, float],
    gains: Gains,
    objective: ObjectiveWords,
    constant_plan: str,
    fallback_share: float,
    row: str = "campaign",
    segments: SegmentSummary | None = None,
    baseline_share: float = 0.0,
    displaced: bool = False,
) -> tuple[str, ...]:
    """The opening sentences for a personalised, constant, baseline or logging policy.

    Args:
        mode: the shipped policy's mode.
        recommended: share of profiles per style the shipped policy recommends.
        gains: its gains.
        objective: the objective's units.
        constant_plan: the best single plan, in words.
        fallback_share: share of profiles a constant policy serves another plan (its style
            is outside their support).
        row: what a row of the log is, in the spec's words (``campaign``, ``post``).
        segments: the shipped policy's segment table, for its clearest pattern.
        baseline_share: share of profiles a constant policy serves their baseline plan (what
            marketers of similar profiles typically do), because few similar campaigns were
            logged near the single plan.
        displaced: the single plan ships although tailoring was confirmed better than what
            marketers did too: it was confirmed better still, its choice allowed for.
    """
    unit = objective.gain_unit
    over_logged = gain_words(gains.over_logged, unit, "what marketers did")
    vs = gains.personalised_over_constant
    if mode == "personalized":
        pattern = None if segments is None else clearest_pattern(segments)
        return (
            f"The model tailors its plan to each profile: {style_mix(recommended)}.",
            *([pattern] if pattern else []),
            f"Following it {over_logged}, and {_versus_words(vs, row)}.",
            f"That single plan would be {constant_plan}.",
        )
    if mode == "baseline":
        return (
            "The model recommends, for each profile, the plan marketers of similar profiles "
            f"typically use: {style_mix(recommended)}.",
            f"Following it {over_logged}.",
            "Neither a plan tailored to each profile nor one plan for everyone "
            f"({constant_plan}) was confirmed better than what marketers did, so nothing new "
            f"ships ({_tailoring_words(vs, unit)}).",
        )
    if mode == "logging":
        return _logging_sentences(style_mix(recommended), over_logged, constant_plan, vs, unit)
    first = f"The model recommends the same plan for every {row}: {constant_plan}."
    if baseline_share > 0:
        first = (
            f"The model recommends one plan, {constant_plan}, wherever marketers of similar "
            f"profiles ran {plural(row)} close to it; for the other {share(baseline_share)} of "
            "profiles, it recommends what those marketers typically do."
        )
    if fallback_share > 0:
        first += (
            f" For the {share(fallback_share)} of profiles where that style is practically "
            "never used, it recommends a tailored plan instead."
        )
    tried = (
        "Tailoring the plan to each profile was confirmed better than what marketers did, and "
        "the single plan better still, allowing for its choice among the candidates, so"
        if displaced
        else "Tailoring the plan to each profile was tried and could not be confirmed better "
        "than what marketers did, so"
    ) + f" the single plan ships ({_tailoring_words(vs, unit)})."
    return first, f"Following it {over_logged}.", tried


def _logging_sentences(
    styles: str, over_logged: str, constant_plan: str, vs: Gain, unit: str
) -> tuple[str, ...]:
    """The opening of a logging policy's report (the logging distribution is served)."""
    return (
        f"{LOGGING_SERVED}: each profile's style is drawn with the probability the logging "
        f"policy gives it ({styles} in one draw), with the plan marketers of similar profiles "
        "use with that style, and the probability is recorded with each decision so the log "
        "keeps its value.",
        f"Serving it {over_logged}.",
        "Neither a plan tailored to each profile nor one plan for everyone "
        f"({constant_plan}) was confirmed better than the logging policy "
        f"({_tailoring_words(vs, unit)}).",
    )


def _versus_words(gain: Gain, row: str) -> str:
    """The personalised policy against the best single plan, worded by its interval like every
    gain (the ship-decision line says the same of the same figures)."""
    plan = f"the best single plan for every {row}"
    if gain.verdict == "better":
        return f"{_short_gain(gain)} more than {plan}"
    if gain.verdict == "worse":
        return f"{_short_gain(gain, sign=-1)} less than {plan}"
    return f"shows no clear difference from {plan} ({_short_gain(gain)})"


def _short_gain(gain: Gain, sign: int = 1) -> str:
    """``+0.63 (+0.31 to +0.89)`` for a second comparison in the same unit (``sign=-1``: the
    amount by which it is less, ``0.63 (0.31 to 0.89)``)."""
    places = decimals(gain.value, gain.low, gain.high)
    value = sign * gain.value
    low, high = sorted((sign * gain.low, sign * gain.high))
    signed = sign == 1  # "0.20 less than": the amount, unsigned
    return (
        f"{number(value, places, signed=signed)} ({number(low, places, signed=signed)} to "
        f"{number(high, places, signed=signed)})"
    )


def _tailoring_words(gain: Gain, unit: str) -> str:
    """The tailored plan against the single plan, with its interval (the gate ships the single
    plan because tailoring was not confirmed better than the marketers, whatever this says)."""
    places = decimals(gain.value, gain.low, gain.high)
    return (
        f"tailored against the single plan: {number(gain.value, places, signed=True)} {unit}, "
        f"{interval_words(gain)}"
    )
