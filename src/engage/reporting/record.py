"""The one record of a run's facts that the report, its figures and its wording are drawn from.

Training computes each part (gains, segments, support, the data) from its own results and
assembles a :class:`RunFacts` once; reporting only lays it out. Every type here is a frozen
dataclass of plain values, so a report can be rendered from a record built by hand in a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engage.ope import Values
from engage.policy.results import FitNote
from engage.reporting.wording import verdict

#: Below this estimated chance marketers "rarely" used a style for a profile.
RARELY = 0.05


@dataclass(frozen=True)
class Gain:
    """A difference of policy values with its 95% interval, in the objective's unit."""

    value: float
    low: float
    high: float

    @property
    def verdict(self) -> str:
        """``better``, ``worse`` or ``no clear difference`` (the interval against 0)."""
        return verdict(self.low, self.high)


@dataclass(frozen=True)
class Gains:
    """What the report says about value.

    Attributes:
        over_logged: the shipped policy's DR value less the marketers' observed mean.
        personalised_over_constant: the personalised policy's DR value less the best
            constant's (the comparison that decided what ships).
    """

    over_logged: Gain
    personalised_over_constant: Gain


@dataclass(frozen=True)
class ObjectiveWords:
    """How the objective reads: its unit and, when it mixes outcomes, its formula.

    Attributes:
        unit: the unit of a policy value.
        gain_unit: the unit of a difference (percentage points for a ``%`` outcome).
        formula: ``""`` for a single outcome, else the weighted sum in words.
        example: what one point of a mixed objective is worth in its heaviest outcomes.
    """

    unit: str
    gain_unit: str
    formula: str
    example: str


@dataclass(frozen=True)
class Segment:
    """One leaf of the summary tree.

    Attributes:
        conditions: what the segment's profiles share, each in words (empty: everyone).
        style: the style the policy recommends most in the segment.
        share: the segment's share of the profiles.
        agreement: the share of the segment's profiles that get ``style``.
        runner_up: the next most recommended style and its share of the segment, when the
            segment is mixed, else None.
        plan: the plan most often recommended in the segment, in words.
        thin_support: styles marketers rarely used for this segment's profiles (median
            estimated chance below ``RARELY``), so the data says little about them here.
    """

    conditions: tuple[str, ...]
    style: str
    share: float
    agreement: float
    runner_up: tuple[str, float] | None
    plan: str
    thin_support: tuple[str, ...]


@dataclass(frozen=True)
class SegmentSummary:
    """The segment table and how faithful it is to the policy."""

    segments: tuple[Segment, ...]
    fidelity: float  # share of profiles whose chosen style the summary reproduces
    depth: int
    n_profiles: int


@dataclass(frozen=True)
class StyleSupport:
    """How well the log covers one style across the evaluated profiles.

    Attributes:
        style: the style, in words.
        recommended: share of profiles the shipped policy recommends it to.
        logged: share of held-out campaigns that used it.
        thin: share of profiles for which its estimated chance is below ``RARELY``.
        unsupported: share of profiles for which it is below the support floor (never
            recommended to them).
        recommended_rarely: share of profiles it is recommended to although it is rarely
            used for them (the least certain recommendations).
        evidence: effective number of held-out campaigns behind its estimates (None: unknown).
    """

    style: str
    recommended: float
    logged: float
    thin: float
    unsupported: float
    recommended_rarely: float
    evidence: float | None


@dataclass(frozen=True)
class SupportFindings:
    """The support table and the warnings, each a sentence."""

    styles: tuple[StyleSupport, ...]
    floor: float
    warnings: tuple[str, ...]
    notes: tuple[str, ...]  # reassurances: what the evaluation could rely on


@dataclass(frozen=True)
class DataFacts:
    """What validation did with the campaign log.

    Attributes:
        rows_read: rows in the input.
        rows_clean: rows used for training and evaluation.
        rows_quarantined: rows set aside (never silently dropped).
        reasons: the commonest quarantine reasons as (sentence, rows), most rows first.
        more_reasons: how many further reasons there are.
        warnings: warnings that lost no rows, as sentences.
        rows_evaluated: held-out campaigns the evaluation scored (never seen in training).
        rows_gate: campaigns the gains (and the shipping decision) were judged on: the held-out
            ones and training ones judged by models that did not see them (0: the held-out).
    """

    rows_read: int
    rows_clean: int
    rows_quarantined: int
    reasons: tuple[tuple[str, int], ...]
    more_reasons: int
    warnings: tuple[str, ...]
    rows_evaluated: int
    rows_gate: int = 0

    @property
    def quarantined_share(self) -> float:
        """The share of input rows set aside."""
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


@dataclass(frozen=True)
class FigureData:
    """What the report's two figures are drawn from.

    Attributes:
        values: the evaluation's policy values (drawn as the policy-value figure).
        shipped: the key of the shipped policy in ``values`` (marked in the figure).
        oracle_value: the optimal policy's true value (simulated logs with an oracle only).
        eval_proba: the propensity model's held-out predictions, shape (n, styles).
        eval_styles: the logged style code of every held-out row.
        styles: the spec's styles, in code order.
        floor: the support floor (the dashed line of the overlap figure).
    """

    values: Values
    shipped: str
    oracle_value: float | None
    eval_proba: np.ndarray = field(repr=False)
    eval_styles: np.ndarray = field(repr=False)
    styles: tuple[str, ...]
    floor: float


@dataclass(frozen=True)
class RunFacts:
    """Everything the report shows, computed by training; reporting only lays it out.

    Attributes:
        title: the page title.
        spec_name: the spec's name; ``spec_description`` its description.
        row_noun: what a row of the log is (``campaign``, ``post``).
        run_id: the MLflow run, or None.
        mode: ``"personalized"``, ``"constant"`` or ``"baseline"``.
        decision_reason: the ship decision's reason, as the run tags it.
        objective: the objective's unit and formula.
        headline: the opening sentences.
        gains: the shipped policy's gains.
        constant_plan: the best single plan, in words.
        fallback_share: share of profiles a constant policy cannot serve its plan to (its
            style is outside their support), so they get the personalised choice.
        segments: the segment table of the shipped policy's choices.
        candidate_segments: the personalised candidate's table when a constant ships.
        support: what the data could not support, and the overlap warnings.
        data: what validation did with the log.
        values: the evaluation's policy values (with ``true`` values in simulation).
        figures: what the policy-value and overlap figures are drawn from.
        fit: how well the outcome models explain the logged outcomes (held-out R² each);
            None when the run has no such figures.
    """

    title: str
    spec_name: str
    spec_description: str
    row_noun: str
    run_id: str | None
    mode: str
    decision_reason: str
    objective: ObjectiveWords
    headline: tuple[str, ...]
    gains: Gains
    constant_plan: str
    fallback_share: float
    segments: SegmentSummary
    candidate_segments: SegmentSummary | None
    support: SupportFindings
    data: DataFacts
    values: Values
    figures: FigureData
    fit: FitNote | None = None
