"""The report's words for the spec's things: column labels, outcome units, numbers, plans.

Every label comes from the spec (descriptions, category values, names), so the report speaks
the log's language, Facebook posts or simulated campaigns alike. Text made here is plain: the
page escapes it when it is placed in HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engage.contract.spec import CampaignSpec, CategoricalColumn, Outcome
from engage.policy.narration import plural  # noqa: F401 - one plural rule, re-exported for the report's modules
from engage.reporting.record import ObjectiveWords
from engage.reporting.wording import number, share

# A trailing "(...)" of a description is a unit note when it is this short: "(%)", "(USD)".
_UNIT_NOTE_MAX = 16
_TRAILING_NOTE = re.compile(r"\s*\(([^()]*)\)\s*$")


def words(name: object) -> str:
    """A code as words: ``thought_leadership`` -> ``thought leadership``."""
    return str(name).replace("_", " ").strip()


def column_label(spec: CampaignSpec, name: str) -> str:
    """A context or decision column's label: its description without a trailing note.

    ``"Sales cycle (days from first contact to purchase)"`` gives ``"Sales cycle"``; a column
    without a description gives its name in words, capitalised.
    """
    try:
        desc = spec.column(name).description
    except KeyError:
        desc = ""
    desc = _TRAILING_NOTE.sub("", desc).strip()
    desc = re.sub(r"^(the|a|an)\s+", "", desc, flags=re.IGNORECASE)
    text = desc or words(name)
    return text[:1].upper() + text[1:]


def column_unit(spec: CampaignSpec, name: str) -> str:
    """A numeric column's declared unit (``"days"``, ``"USD per month"``), else ``""``.

    A scale note (``"on a 0-1 scale"``) is left out: after a threshold it adds words, not
    meaning.
    """
    try:
        unit = str(getattr(spec.column(name), "unit", "") or "")
    except KeyError:
        return ""
    return "" if unit.startswith("on a ") else unit


def category_words(col: CategoricalColumn, value: object) -> str:
    """A category in words: its declared label when the spec gives one, else the value."""
    if getattr(col, "labels", None):  # specs may declare labels for codes ("2": "product")
        return words(col.label(value))
    return words(value)


def style_words(spec: CampaignSpec, value: object) -> str:
    """A style in words."""
    return category_words(spec.style, value)


def row_noun(spec: CampaignSpec) -> str:
    """What a row of the log is, in the spec's words: ``"campaign"``, ``"post"``."""
    return str(getattr(spec, "row_noun", "") or "campaign")  # a field newer specs carry


def other_decisions(spec: CampaignSpec) -> str:
    """The decisions besides the style, in words: ``"posting mix and cadence"`` (or ``""``)."""
    names = (["posting mix"] if spec.mix_columns else []) + [
        column_label(spec, c.name).lower() for c in spec.extra_decisions
    ]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def outcome_unit(outcome: Outcome) -> str | None:
    """The unit of an outcome: its ``unit`` field when the spec has one, else a short
    trailing note of its description (``"... (%)"`` gives ``"%"``), else None."""
    unit = getattr(outcome, "unit", None)  # an optional field some specs will carry
    if unit:
        return str(unit).strip()
    match = _TRAILING_NOTE.search(outcome.description)
    if match and 0 < len(match.group(1).strip()) <= _UNIT_NOTE_MAX:
        return match.group(1).strip()
    return None


def outcome_label(outcome: Outcome) -> str:
    """What an outcome measures, in the spec's words (without its unit note)."""
    desc = _TRAILING_NOTE.sub("", outcome.description).strip()
    return desc or words(outcome.name)


def describe_objective(spec: CampaignSpec, weights: Mapping[str, float]) -> ObjectiveWords:
    """The objective's unit and formula (``weights`` are signed, every outcome of the spec)."""
    used = [(o, float(weights.get(o.name, 0.0))) for o in spec.outcomes]
    used = [(o, w) for o, w in used if w != 0]
    if len(used) == 1 and used[0][1] == 1.0:
        unit = _unit_or_label(used[0][0])
        return ObjectiveWords(unit, _difference_unit(unit), "", "")
    terms = [f"{'−' if w < 0 else '+'} {abs(w):g} × {_unit_or_label(o)}" for o, w in used]
    formula = " ".join(terms).removeprefix("+ ")
    # what one point is worth in each outcome, heaviest first: the scale a marketer knows
    ranked = sorted(used, key=lambda ow: -abs(ow[1]))[:3]
    worth = [f"{1 / abs(w):.2g} {_difference_unit(_unit_or_label(o))}" for o, w in ranked]
    return ObjectiveWords("points", "points", formula, "one point is " + ", or ".join(worth))


def _unit_or_label(outcome: Outcome) -> str:
    """An outcome's unit (``"conversions per 1,000 followers"``), else what it measures."""
    return outcome_unit(outcome) or outcome_label(outcome).lower()


def _difference_unit(unit: str) -> str:
    """The unit of a difference: a change of ``"% engagement rate"`` is in percentage points."""
    if unit == "%":
        return "percentage points"
    if unit.startswith("% "):
        rest = unit[2:].removeprefix("of ")
        return f"percentage points of {rest}"
    return unit


def describe_plan(spec: CampaignSpec, action: Mapping[str, Any]) -> str:
    """A candidate action in words: style, cadence and other decisions, the leading mix.

    Example: ``conversational, 7 posts per week, mostly educational (40%) and conversational
    (30%) posts``.
    """
    parts = [style_words(spec, action[spec.style.name])]
    for col in spec.extra_decisions:
        value = action[col.name]
        if isinstance(col, CategoricalColumn):
            parts.append(f"{column_label(spec, col.name).lower()}: {category_words(col, value)}")
        else:
            amount = number(float(value), 0 if abs(float(value)) >= 3 else 1)
            parts.append(f"{amount} {column_unit(spec, col.name) or words(col.name)}")
    text = ", ".join(parts)
    mix = sorted(
        ((float(action[c]), words(c.removeprefix("mix_"))) for c in spec.mix_columns), reverse=True
    )
    leading = [f"{name} ({share(v)})" for v, name in mix[:2] if v > 0]
    if leading:
        text += ", mostly " + " and ".join(leading) + " posts"
    return text
