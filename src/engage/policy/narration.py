"""Every English sentence the policy says: explanation factors, their headline, the policy note.

Numbers arrive computed (:mod:`engage.policy.explanation`); this module only words them, in the
spec's terms: column descriptions as labels, ``unit`` after numbers, ``labels`` for category
codes, and ``row_noun`` / ``subject_noun`` for what a row of the log is and who acts (a log of
one brand's posts reads "posts" and "brand", not "campaigns" and "businesses").

Support levels and the policy note are :mod:`engage.policy.notes` (re-exported here).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engage.contract.spec import CampaignSpec, CategoricalColumn
from engage.policy.notes import LOGGING_SERVED, policy_note, support, support_level

__all__ = [
    "Gap",
    "Narrator",
    "ScoreUnit",
    "context_value",
    "plural",
    "policy_note",
    "support",
    "support_level",
]


def context_value(spec: CampaignSpec, name: str, code: float) -> object:
    """The raw value of an encoded profile feature: the category, or the number."""
    col = spec.column(name)
    if isinstance(col, CategoricalColumn):
        return col.values[int(code)]
    return float(code)


@dataclass(frozen=True)
class ScoreUnit:
    """What a point of score is under one objective.

    Attributes:
        points: the words after a number of score points in a sentence: the outcome's unit
            when the objective is one outcome with weight 1, else ``"points"``.
        description: what one point is, e.g. ``"points: 1 × conversions per 1,000 followers
            + 0.5 × % engagement rate"``.
    """

    points: str
    description: str


@dataclass(frozen=True)
class Narrator:
    """Words the contributions of an explanation in the terms of a spec.

    Attributes:
        spec: the contract: style column, mix columns, descriptions, units, labels, nouns.
    """

    spec: CampaignSpec

    # ------------------------------------------------------------------ words

    @property
    def rows(self) -> str:
        """What the log's rows are, plural: "campaigns", "posts"."""
        return plural(self.spec.row_noun)

    @property
    def subject(self) -> str:
        """Who acts: "business", "brand"."""
        return self.spec.subject_noun

    @property
    def subjects(self) -> str:
        """Who acts, plural: "businesses", "brands"."""
        return plural(self.spec.subject_noun)

    def style(self, value: object) -> str:
        """A style in words: its label, else its name with spaces."""
        return _words(self.spec.style.label(value))

    def value(self, name: str, value: object) -> str:
        """A column's value in words: a category's label, or a number with its unit."""
        try:
            col = self.spec.column(name)
        except KeyError:
            return _fmt(value)
        if isinstance(col, CategoricalColumn):
            return _words(col.label(value))
        return f"{_fmt(value)} {col.unit}" if col.unit else _fmt(value)

    def score_unit(self, outcomes: Sequence[str], weights: np.ndarray) -> ScoreUnit:
        """What a point of score is for the objective ``weights`` over ``outcomes``."""
        terms = [(o, float(w)) for o, w in zip(outcomes, weights, strict=True) if w != 0]
        units = {o.name: o.unit or _words(o.name) for o in self.spec.outcomes}
        if len(terms) == 1 and terms[0][1] == 1.0:
            return ScoreUnit(units[terms[0][0]], units[terms[0][0]])
        parts = [f"{'-' if w < 0 else '+'} {abs(w):g} × {units[o]}" for o, w in terms]
        text = " ".join(parts).removeprefix("+ ")
        return ScoreUnit("points", f"points: {text}")

    def action(self, row: Mapping[str, Any]) -> str:
        """A candidate action in a few words: the style, its largest mix share, its decisions."""
        details = []
        if self.spec.mix_columns:
            top = max(self.spec.mix_columns, key=lambda c: float(row[c]))
            details.append(f"{float(row[top]):.0%} {_words(top.removeprefix('mix_'))} posts")
        for col in self.spec.extra_decisions:
            text = self.value(col.name, row[col.name])
            categorical = isinstance(col, CategoricalColumn)
            details.append(f"{_label(self.spec, col.name)}: {text}" if categorical else text)
        style = self.style(row[self.spec.style.name])
        return f"{style} ({'; '.join(details)})" if details else style

    # ------------------------------------------------------------------ sentences

    def support_sentence(
        self, a: Mapping[str, Any], b: Mapping[str, Any], value: float, points: str = "points"
    ) -> str:
        """The sentence of the support factor.

        Args:
            a: the chosen candidate's decisions.
            b: the runner-up's decisions.
            value: the support factor's contribution (the runner-up's discount less the
                chosen one's).
            points: the unit of score points (:meth:`score_unit`).
        """
        style_a, style_b = self.style(a[self.spec.style.name]), self.style(b[self.spec.style.name])
        if value >= 0:
            return (
                f"The log holds more {self.rows} like this with {style_a} than with {style_b}, "
                f"so the {style_a} estimate is surer; the less certain {style_b} estimate is "
                f"discounted by {value:.2f} {points} more."
            )
        return (
            f"The log holds fewer {self.rows} like this with {style_a} than with {style_b}, so "
            f"the {style_a} estimate is discounted by {abs(value):.2f} {points} more."
        )

    def factor_sentence(
        self,
        name: str,
        value: float,
        a: Mapping[str, Any],
        b: Mapping[str, Any],
        profile_value: object = None,
        points: str = "points",
    ) -> str:
        """The sentence of one feature's contribution to the score difference.

        Args:
            name: the feature.
            value: its contribution.
            a: the chosen candidate's decisions.
            b: the runner-up's decisions.
            profile_value: the profile's raw value of ``name`` when it is a profile feature.
            points: the unit of score points (:meth:`score_unit`).
        """
        style_a, style_b = self.style(a[self.spec.style.name]), self.style(b[self.spec.style.name])
        amount = f"{abs(value):.2f} {points}"
        sign = "adds" if value > 0 else "costs"
        if name == self.spec.style.name:
            return (
                f"For this {self.subject}, {style_a} itself is worth {value:+.2f} {points} "
                f"against {style_b}."
            )
        if name in a and b.get(name) == a[name]:
            # Same value, yet a share of the difference: the trees split on it together with
            # the style, so it is worth more (or less) alongside one style than the other.
            more = "more" if value > 0 else "less"
            what = self._decision(name, a[name])
            return (
                f"{what} in both is worth {abs(value):.2f} {points} {more} alongside "
                f"{style_a} than alongside {style_b}."
            )
        if name in self.spec.mix_columns:
            kind = _words(name.removeprefix("mix_"))
            return (
                f"A {kind} share of {float(a[name]):.0%} instead of {float(b[name]):.0%} of posts "
                f"{sign} {amount}."
            )
        label = _label(self.spec, name)
        if name in a:  # another decision; a number's unit once, after the second number
            numeric = not isinstance(self.spec.column(name), CategoricalColumn)
            first = _fmt(float(a[name])) if numeric else self.value(name, a[name])
            return f"{label}: {first} instead of {self.value(name, b[name])} {sign} {amount}."
        winner, loser = (style_a, style_b) if value > 0 else (style_b, style_a)
        return (
            f"{label} ({self.value(name, profile_value)}) favours {winner} over {loser} "
            f"by {amount}."
        )

    def _decision(self, name: str, value: Any) -> str:
        """A decision and its value: "A visual share of 20%", "Cadence: 3 posts per week"."""
        if name in self.spec.mix_columns:
            return f"A {_words(name.removeprefix('mix_'))} share of {float(value):.0%}"
        return f"{_label(self.spec, name)}: {self.value(name, value)}"

    def summary(self, a: Mapping[str, Any], b: Mapping[str, Any], gap: Gap) -> str:
        """The headline of an explanation: how far apart the two are, in the outcomes' units.

        Args:
            a: the chosen candidate's decisions.
            b: the runner-up's decisions.
            gap: the score difference and the two candidates' predicted outcomes.
        """
        style_a, style_b = self.style(a[self.spec.style.name]), self.style(b[self.spec.style.name])
        if style_a == style_b:  # only one style allowed: two of its actions
            style_a, style_b = f"this {style_a} action", f"the next {style_b} action"
        units = {o.name: o.unit or _words(o.name) for o in self.spec.outcomes}
        phrases = ", ".join(f"{_fmt(x)} against {_fmt(y)} {units[o]}" for o, x, y in gap.outcomes)
        outcomes = f" ({phrases})" if phrases else ""
        amount = f"{abs(gap.difference):.2f} {gap.unit.points}"
        if gap.pinned and gap.basis == "logging":
            side = "above" if gap.difference >= 0 else "below"
            return (
                f"{LOGGING_SERVED}: {style_a} comes first because it was drawn from it, not "
                f"because of its score (for this {self.subject} the model scores it {amount} "
                f"{side} {style_b}{outcomes})."
            )
        if gap.pinned and gap.difference < 0 and gap.basis == "baseline":
            return (
                f"{_capital(style_a)} comes first because it is what marketers of similar "
                f"{self.subjects} typically do, not because of its score: for this {self.subject} "
                f"the model scores it {amount} below {style_b}{outcomes}, but no change was "
                f"confidently better than what marketers did on held-out data."
            )
        if gap.pinned and gap.difference < 0:
            return (
                f"{_capital(style_a)} comes first because it is the shipped constant action, "
                f"not because of its score: for this {self.subject} the model scores it "
                f"{amount} below {style_b}{outcomes}, but no personalised plan was confirmed "
                f"better than what marketers did on held-out data."
            )
        if gap.difference == 0:
            return f"For this {self.subject}, {style_a} and {style_b} score the same{outcomes}."
        if f"{abs(gap.difference):.2f}" == "0.00":
            side = "ahead of" if gap.difference > 0 else "behind"
            return (
                f"For this {self.subject}, {style_a} is {side} {style_b} by less than 0.01 "
                f"{gap.unit.points}: practically a tie{outcomes}."
            )
        side = "above" if gap.difference > 0 else "below"
        return f"For this {self.subject}, {style_a} scores {amount} {side} {style_b}{outcomes}."

    def others_sentence(self, count: int, rest: float, dominates: str, points: str) -> str:
        """What the factors not listed add together (``""`` when there are none).

        Args:
            count: how many factors are grouped.
            rest: their summed contribution.
            dominates: what the group outweighs ("any factor listed", "half the difference"),
                or ``""``.
            points: the unit of score points.
        """
        if count == 0:
            return ""
        noun = "factor" if count == 1 else "factors"
        sign = "add" if rest >= 0 else "cost"
        text = f"{count} smaller {noun} together {sign} {abs(rest):.2f} {points}."
        if dominates:
            text = text[:-1] + (
                f": more than {dominates}; the difference comes from many small effects "
                f"rather than a few."
            )
        return text


@dataclass(frozen=True)
class Gap:
    """What an explanation's headline states.

    Attributes:
        difference: the chosen candidate's score less the runner-up's.
        outcomes: ``(outcome, chosen's prediction, runner-up's)`` for each outcome the
            objective weighs.
        unit: the unit of score points.
        pinned: the chosen candidate is a constant policy's action, first whatever its score.
        basis: what pinned it: ``"constant"`` or ``"baseline"`` (a baseline policy's typical
            action for profiles like this one).
    """

    difference: float
    outcomes: tuple[tuple[str, float, float], ...]
    unit: ScoreUnit
    pinned: bool = False
    basis: str = "constant"


def _words(name: object) -> str:
    return str(name).replace("_", " ")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def plural(noun: str) -> str:
    """The regular English plural of a noun: post -> posts, business -> businesses, study -> studies."""
    if re.search(r"(s|sh|ch|x|z)$", noun):
        return noun + "es"
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    return noun + "s"


def _label(spec: CampaignSpec, name: str) -> str:
    """A column's description without its trailing note, e.g. 'Company size'."""
    try:
        desc = spec.column(name).description
    except KeyError:
        desc = ""
    desc = re.sub(r"\s*\([^)]*\)\s*$", "", desc).strip()
    desc = re.sub(r"^(the|a|an)\s+", "", desc, flags=re.IGNORECASE)
    return desc[:1].upper() + desc[1:] if desc else _words(name).capitalize()


def _fmt(value: object) -> str:
    """A number as a person would write it: 12,500 / 3.5 / 3 / 0.25; anything else as is."""
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:.2g}" if abs(v) < 1 else f"{v:.1f}".removesuffix(".0")
    return str(value)
