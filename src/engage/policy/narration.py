"""Every English sentence the policy says: explanation factors and the policy note.

Numbers arrive computed (:mod:`engage.policy.explanation`); this module only words them, with
the spec's column descriptions as labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engage.contract.spec import CampaignSpec, CategoricalColumn
from engage.policy.results import PolicyMode, PolicyNote, SupportLevel

SUPPORT_LEVELS: tuple[tuple[float, SupportLevel], ...] = (
    (0.15, "good"),
    (0.05, "limited"),
    (0.0, "poor"),
)

POLICY_NOTES: dict[str, str] = {
    "constant": (
        "Personalising did not beat the best single action on held-out data with "
        "confidence, so the same first recommendation is made for every profile."
    ),
    "personalized": "Recommendations are personalised to the profile.",
}


def support_level(propensity: float) -> SupportLevel:
    """A word for how well the log covers a style for a profile.

    Args:
        propensity: the profile's estimated propensity of the style.

    Returns:
        ``"good"`` from 0.15, ``"limited"`` from 0.05, else ``"poor"``.
    """
    return next(word for threshold, word in SUPPORT_LEVELS if propensity >= threshold)


def policy_note(mode: PolicyMode) -> PolicyNote:
    """What kind of policy this is, in words a caller can show.

    Args:
        mode: the policy's mode; any mode but ``"constant"`` reads as personalised.
    """
    key = "constant" if mode == "constant" else "personalized"
    return PolicyNote(mode=mode, note=POLICY_NOTES[key])


def context_value(spec: CampaignSpec, name: str, code: float) -> object:
    """The raw value of an encoded profile feature: the category label, or the number."""
    col = spec.column(name)
    if isinstance(col, CategoricalColumn):
        return col.values[int(code)]
    return float(code)


@dataclass(frozen=True)
class Narrator:
    """Words the contributions of an explanation in the terms of a spec.

    Attributes:
        spec: the contract, for the style column, mix columns and column descriptions.
    """

    spec: CampaignSpec

    def support_sentence(self, a: Mapping[str, Any], b: Mapping[str, Any], value: float) -> str:
        """The sentence of the support factor.

        Args:
            a: the chosen candidate's decisions.
            b: the runner-up's decisions.
            value: the support factor's contribution (the runner-up's discount less the
                chosen one's).
        """
        style_a, style_b = _words(a[self.spec.style.name]), _words(b[self.spec.style.name])
        if value >= 0:
            return (
                f"The log holds more campaigns like this for {style_a} than for {style_b}, so its "
                f"estimate is surer; the less certain {style_b} estimate is discounted by {value:.2f}."
            )
        return (
            f"Fewer businesses like this have tried {style_a}, so its estimate is discounted by "
            f"{abs(value):.2f} more than {style_b}'s; it still comes out ahead."
        )

    def factor_sentence(
        self,
        name: str,
        value: float,
        a: Mapping[str, Any],
        b: Mapping[str, Any],
        profile_value: object = None,
    ) -> str:
        """The sentence of one feature's contribution to the score difference.

        Args:
            name: the feature.
            value: its contribution.
            a: the chosen candidate's decisions.
            b: the runner-up's decisions.
            profile_value: the profile's raw value of ``name`` when it is a profile feature.
        """
        style_a, style_b = a[self.spec.style.name], b[self.spec.style.name]
        sign = "adds" if value > 0 else "costs"
        amount = f"{abs(value):.2f} objective points"
        if name == self.spec.style.name:
            return (
                f"For a business like this, {_words(style_a)} itself is worth {value:+.2f} "
                f"against {_words(style_b)}."
            )
        if name in self.spec.mix_columns:
            kind = _words(name.removeprefix("mix_"))
            return (
                f"A {kind} share of {float(a[name]):.0%} instead of {float(b[name]):.0%} of posts "
                f"{sign} {amount}."
            )
        label = _label(self.spec, name)
        if name in a:  # another decision
            return f"{label} of {_fmt(a[name])} instead of {_fmt(b[name])} {sign} {amount}."
        lean = "favours" if value > 0 else "counts against"
        return (
            f"{label} of {_fmt(profile_value)} {lean} {_words(style_a)} "
            f"over {_words(style_b)} by {abs(value):.2f} points."
        )


def _words(name: object) -> str:
    return str(name).replace("_", " ")


def _label(spec: CampaignSpec, name: str) -> str:
    """A column's description without its trailing unit note, e.g. 'Company size'."""
    try:
        desc = spec.column(name).description
    except KeyError:
        desc = ""
    desc = re.sub(r"\s*\([^)]*\)\s*$", "", desc).strip()
    desc = re.sub(r"^(the|a|an)\s+", "", desc, flags=re.IGNORECASE)
    return desc[:1].upper() + desc[1:] if desc else _words(name).capitalize()


def _fmt(value: object) -> str:
    """A number as a person would write it: 12,500 / 3.5 / 0.25; anything else as is."""
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2g}" if abs(v) < 1 else f"{v:.1f}"
    return str(value)
