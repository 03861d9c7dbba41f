"""The gate's knobs that only the team turns: module constants, not run settings.

They were ``TrainSettings`` fields until issue 27; a run's user had no reason to move them
(they were chosen on the benchmarks: ``benchmarks/results/``). Tests and experiments pass a
:class:`GateKnobs` of their own to :func:`.evaluation.evaluate_offpolicy`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Support floors above the policy's own ``min_propensity`` the gate also tries for the
#: personalised policy (no style below the floor recommended): it is judged and shipped at the
#: lowest of its own and these whose DR gain over what marketers did is positive with 95%
#: confidence, else at its own.
PERSONAL_FLOORS: tuple[float, ...] = (0.05,)

#: Propensity floor of the IPS/DR weights. At most the policy's ``min_propensity``, no row a
#: policy can act on is down-weighted and the DR stays unbiased; a higher floor narrows intervals
#: at the price of a bias towards the valuing models (0.05 overstated edge-hard policies). A
#: constant is for the profiles whose propensity of its style is at least this
#: (``Policy.constant_min_propensity``; the others get their baseline action).
OPE_CLIP = 0.005

#: Training rows ``gate.fold_agreement`` (the same candidate) and ``gate.fold_style_agreement``
#: (the same style) compare the fold policies' choices with the shipped policy's on (each
#: comparison ranks every candidate once more).
AGREEMENT_ROWS = 1_000


@dataclass(frozen=True)
class GateKnobs:
    """The gate's knobs, the module's constants unless a test or an experiment says otherwise."""

    floors: tuple[float, ...] = PERSONAL_FLOORS
    clip: float = OPE_CLIP
