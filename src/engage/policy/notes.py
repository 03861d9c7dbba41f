"""What the policy says about support and about itself: a style's support level for a profile,
an action's support, and the policy note (what kind of policy answered, and why its usual
first action is not first for this profile when it is not). Worded in the spec's terms by the
caller (``subjects``, ``style``); the explanation's sentences are :mod:`engage.policy.narration`.
"""

from __future__ import annotations

import numpy as np

from engage.policy.results import Fallback, PolicyMode, PolicyNote, Support, SupportLevel

# From this propensity up a style's support reads "good"; from the policy's ``min_propensity``
# up "limited"; below it "poor", which is also exactly where ``within_support`` is false.
GOOD_PROPENSITY = 0.15

# The one wording of a logging policy (mode "logging"): the answer's note, the explanation's
# summary, and training's ship reason and report headline all start from it (training's words
# are in engage.training.gate.reasons, which imports it: the policy sits below training).
LOGGING_SERVED = (
    "Nothing was confidently better than the logging policy (the randomised experiment or the "
    "decisions the service recorded), so this is the logging distribution being served"
)

POLICY_NOTES: dict[str, str] = {
    "constant": (
        "One single action was better than what marketers did with confidence on held-out "
        "data, and a personalised plan could not be shown to be, or was shown to do less well "
        "than the single action, so it comes first for every "
        "profile it is allowed for and the log supports, whatever its score; the other "
        "recommendations are ranked by their score for the profile."
    ),
    "personalized": "Recommendations are personalised to the profile and ranked by their score.",
    "baseline": (
        "Neither a personalised plan nor one single plan was better than what marketers did "
        "with confidence on held-out data, so the first recommendation is what marketers of "
        "similar profiles typically do (their most frequent style, with its usual mix and "
        "cadence); the other recommendations are ranked by their score for the profile."
    ),
    "logging": (
        f"{LOGGING_SERVED}: the first recommendation's style is drawn with the probability the "
        "logging policy gives it for such a profile (recorded with the decision), with the plan "
        "marketers of similar profiles use with that style; the others are the plans of the "
        "other styles it could have drawn, most likely first."
    ),
}

FALLBACK_NOTES: dict[str, str] = {
    "outside_constraints": (
        "For this profile it is outside the constraints given, so the first recommendation is "
        "the best-scoring action they allow instead."
    ),
    "outside_support": (
        "For this profile it is outside the log's support (too few {subjects} like this chose "
        "{style}), so the first recommendation is the best-scoring supported action instead."
    ),
}

# A constant policy of scope "supported" gives a profile its baseline action where the log does
# not support the constant one for it (the fallback is "outside_support" too).
FALLBACK_TO_BASELINE = (
    "For this profile it is outside the log's support (too few {subjects} like this ran "
    "campaigns like it), so the first recommendation is what marketers of similar "
    "{subjects} typically do instead."
)


def support_level(propensity: float, min_propensity: float) -> SupportLevel:
    """A word for how well the log covers a style for a profile.

    Args:
        propensity: the profile's estimated propensity of the style.
        min_propensity: the policy's support floor.

    Returns:
        ``"poor"`` below ``min_propensity`` (outside the support), ``"good"`` from
        :data:`GOOD_PROPENSITY` (or the floor, if higher), else ``"limited"``.
    """
    if propensity < min_propensity:
        return "poor"
    return "good" if propensity >= max(GOOD_PROPENSITY, min_propensity) else "limited"


def support(propensity: float, min_propensity: float, nearby: float | None = None) -> Support:
    """The support of an action for a profile: its style's level and ``within_support`` (which
    agree by construction) and, when measured, the similar logged campaigns near the action."""
    level = support_level(propensity, min_propensity)
    count = None if nearby is None or not np.isfinite(nearby) else int(nearby)
    return Support(
        propensity=propensity, level=level, within_support=level != "poor", similar_campaigns=count
    )


def policy_note(
    mode: PolicyMode,
    action: str | None = None,
    fallback: Fallback | None = None,
    to_baseline: bool = False,
    **words: str,
) -> PolicyNote:
    """What kind of policy this is, in words a caller can show.

    Args:
        mode: the policy's mode; any mode but ``"constant"`` reads as personalised.
        action: a constant policy's action in words, named in the note when given.
        fallback: why the constant action is not first for this profile, if it is not.
        to_baseline: the profile's baseline action is first instead (a constant policy of
            scope ``"supported"`` where few similar campaigns were logged near its action).
        **words: ``subjects`` and ``style`` for the ``"outside_support"`` sentence.
    """
    if mode != "constant":
        return PolicyNote(mode=mode, note=POLICY_NOTES.get(mode, POLICY_NOTES["personalized"]))
    note = POLICY_NOTES["constant"]
    if action is not None:
        note = f"{note} The constant action is {action}."
    if fallback is not None:
        sentence = FALLBACK_TO_BASELINE if to_baseline else FALLBACK_NOTES[fallback]
        note = f"{note} {sentence.format(**words)}"
    return PolicyNote(mode=mode, note=note, fallback=fallback)
