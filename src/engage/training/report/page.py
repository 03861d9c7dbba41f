"""The report page: its sections, in the order a marketer reads them.

1. the headline and the numbers behind it; 2. who gets what (the segment table); 3. what the
data could not support, with the overlap warnings; 4. how sure we are (values and figures);
5. the data; then technical details for the analyst. Every text is escaped (:mod:`.markup`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from engage.training.report.markup import (
    bullets,
    count_card,
    esc,
    figure,
    gain_card,
    paragraphs,
    table,
)
from engage.training.report.segments import RARELY, SegmentSummary
from engage.training.report.theme import CSS
from engage.training.report.wording import decimals, number, plural, share

if TYPE_CHECKING:
    from engage.training.report.build import ReportFacts

_ABOUT_MAX = 320  # characters of the spec's description shown under the title
_CANDIDATE_NOTE = (
    "The personalised policy that was tried would have split profiles like this. It did not "
    "beat the single plan with confidence, so treat these as ideas to test, not "
    "recommendations."
)


def render_page(facts: ReportFacts) -> str:
    """The whole self-contained HTML page of ``facts``."""
    body = "".join(
        [
            _header(facts),
            _segments_section(facts),
            _support_section(facts),
            _values_section(facts),
            _data_section(facts),
            _footer(facts),
        ]
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(facts.title)}</title><style>{CSS}</style></head>"
        f'<body><main class="page">{body}</main></body></html>\n'
    )


def _header(facts: ReportFacts) -> str:
    """Title, the spec's description, the headline sentences and the headline numbers."""
    about = facts.spec_description
    about = about if len(about) <= _ABOUT_MAX else about[: _ABOUT_MAX - 1].rstrip() + "…"
    g, unit = facts.gains, facts.objective.gain_unit
    if facts.mode == "personalized":
        second = gain_card(
            "Versus the best single plan",
            g.personalised_over_constant,
            unit,
            "the same plan for everyone",
        )
    else:
        second = gain_card(
            "A tailored plan versus this one",
            g.personalised_over_constant,
            unit,
            "tried, not shipped",
        )
    cards = (
        gain_card("Versus what marketers did", g.over_logged, unit, "the plans in the log")
        + second
        + _judged_card(facts)
    )
    return (
        f'<div class="kicker">Training run report · {esc(facts.spec_name)}</div>'
        f"<h1>{esc(facts.title)}</h1>"
        + (f'<p class="about">{esc(about)}</p>' if about else "")
        + f'<div class="lead">{paragraphs(facts.headline)}</div>'
        + f'<div class="cards">{cards}</div>'
        + _objective(facts)
    )


def _judged_card(facts: ReportFacts) -> str:
    """How many rows the figures were judged on (held out), and what else the gate judged."""
    d, noun = facts.data, plural(facts.row_noun)
    label = f"{noun.capitalize()} it was judged on"
    note = "held out: never seen in training"
    if d.rows_gate > d.rows_evaluated:
        note += (
            f"; the decision to ship also judged {d.rows_gate - d.rows_evaluated:,} training "
            f"{noun}, each by models that never saw it"
        )
    return count_card(label, f"{d.rows_evaluated:,}", note)


def _objective(facts: ReportFacts) -> str:
    """How value is measured: the objective's unit, or its formula and scale."""
    o = facts.objective
    if not o.formula:
        text = f"Value is measured in {o.unit}, on average per {facts.row_noun}."
    else:
        text = f"Value is a score per {facts.row_noun}: {o.formula}; {o.example}."
    return f'<p class="objective">{esc(text)}</p>'


def _segments_section(facts: ReportFacts) -> str:
    """Who gets what: the shipped policy's segments, and the candidate's when not shipped."""
    intro = _segment_intro(facts.segments)
    out = ["<h2>Who gets what</h2>", intro, _segment_table(facts.segments)]
    if facts.candidate_segments is not None:
        out += [
            "<h3>What a tailored plan would have done (not shipped)</h3>",
            f'<p class="note">{esc(_CANDIDATE_NOTE)}</p>',
            _segment_table(facts.candidate_segments),
        ]
    return "".join(out)


def _segment_intro(summary: SegmentSummary) -> str:
    """How to read the table, and how faithful it is."""
    if len(summary.segments) == 1:
        text = (
            f"The model recommends the same style for all {summary.n_profiles:,} held-out profiles."
        )
    else:
        text = (
            f"A simple summary of the model's choices, on {summary.n_profiles:,} held-out "
            f"profiles. It reproduces the model's chosen style for {share(summary.fidelity)} "
            "of them; the model itself weighs every detail of a profile, so an individual "
            "profile can get another plan than its segment."
        )
    return f'<p class="note">{esc(text)}</p>'


def _segment_table(summary: SegmentSummary) -> str:
    """One row per segment: conditions, share, style (and runner-up), plan, thin support."""
    rows = []
    for seg in summary.segments:
        conds = "".join(f'<span class="cond">{esc(c)}</span>' for c in seg.conditions) or esc(
            "All profiles"
        )
        style = esc(seg.style)
        if seg.runner_up is not None:
            other, part = seg.runner_up
            mixed = f"{share(seg.agreement)} of them; {other} {share(part)}"
            style += f'<div class="muted">{esc(mixed)}</div>'
        rows.append(
            (
                "",
                [
                    conds,
                    esc(share(seg.share)),
                    style,
                    esc(seg.plan),
                    _thin(seg.thin_support, seg.style),
                ],
            )
        )
    headers = [
        ("Profiles like these", ""),
        ("Share", "num"),
        ("Recommended style", "style"),
        ("Plan most often recommended", ""),
        ("Little evidence for", ""),
    ]
    return table(headers, rows, "segments")


def _thin(styles: tuple[str, ...], recommended: str) -> str:
    """The thinly supported styles of a segment; the recommended one, if among them, flagged."""
    if not styles:
        return '<span class="muted">none</span>'
    return ", ".join(
        f'<span class="alert">{esc(s)} (recommended)</span>' if s == recommended else esc(s)
        for s in styles
    )


def _support_section(facts: ReportFacts) -> str:
    """What the data could not support: the style table, the warnings, the reassurances."""
    s = facts.support
    rows = []
    for st in s.styles:
        evidence = "n/a" if st.evidence is None else f"{st.evidence:,.0f}"
        cells = [
            st.style,
            share(st.recommended),
            share(st.logged),
            share(st.thin),
            share(st.unsupported),
            share(st.recommended_rarely),
            evidence,
        ]
        rows.append(("", [esc(c) for c in cells]))
    headers = [
        ("Style", "style"),
        ("Recommended to", "num"),
        ("Used in the log", "num"),
        ("Rarely used for", "num"),
        ("Never used for", "num"),
        ("Recommended where rarely used", "num"),
        (f"Evidence ({plural(facts.row_noun)})", "num"),
    ]
    intro = (
        "The log can only show how a style does for profiles where marketers used it. Shares "
        f"are of the held-out profiles; “rarely used” means an estimated chance below "
        f"{RARELY:.0%}, “never used” below {s.floor:.1%} (the model never recommends a style "
        f"there); evidence is the effective number of held-out {plural(facts.row_noun)} behind "
        "a style's estimates."
    )
    return (
        "<h2>What the data could not support</h2>"
        f'<p class="note">{esc(intro)}</p>'
        + table(headers, rows)
        + bullets(s.warnings, "warn")
        + bullets(s.notes, "ok")
    )


def _values_section(facts: ReportFacts) -> str:
    """How sure we are: the value of each policy with its interval, and the two figures."""
    names = {
        "learned": "Tailored plan (personalised)",
        "best_constant": "Best single plan",
        "baseline": "What similar marketers typically do (baseline)",
        "logged": "What marketers did",
    }
    shipped = {"personalized": "learned", "constant": "best_constant", "baseline": "baseline"}.get(
        facts.mode, ""
    )
    has_true = any("true" in facts.values.get(k, {}) for k in names)
    rows = []
    for key, name in names.items():
        est = facts.values.get(key, {})
        if not est:  # e.g. no baseline: a policy without profile clusters
            continue
        main = est.get("range") or est.get("dr") or est.get("observed")
        cells = [
            esc(name + (" ✓ shipped" if key == shipped else "")),
            _triple(main),
            _triple(est.get("snips")),
        ]
        if has_true:
            cells.append(esc(number(est["true"][0])) if "true" in est else "")
        rows.append(("shipped" if key == shipped else "", cells))
    headers = [
        ("Policy", ""),
        (f"Expected value ({facts.objective.unit})", "num"),
        ("Model-free check", "num"),
    ]
    if has_true:
        headers.append(("True value (simulation)", "num"))
    note = (
        f"Expected values are doubly robust estimates on held-out {plural(facts.row_noun)}, with "
        "95% intervals that also allow for the model's error where a plan's mix or cadence differs "
        "from what marketers did (they span the doubly robust estimate's and the model's own "
        "read-out's); what marketers did is the observed average. The model-free check "
        "(self-normalised inverse propensity scoring) credits only the style, with the other "
        "choices marketers actually made."
    )
    figs = figure(
        facts.figures.get("values", ""),
        "Policy values",
        "Each marker is one way of estimating a policy's value, with its 95% interval; the "
        "decision uses DR (doubly robust). DR range: the DR value with the interval the table "
        "gives.",
    ) + figure(
        facts.figures.get("overlap", ""),
        "Propensity overlap",
        f"For each style: how likely marketers were to choose it, for {plural(facts.row_noun)} "
        "that used it (colour) and the rest (grey). Mass left of the dashed line is where the "
        "data cannot support the style.",
    )
    return f'<h2>How sure are we</h2>{table(headers, rows)}<p class="note">{esc(note)}</p>{figs}'


def _triple(t: tuple[float, float, float] | None) -> str:
    """``12.6 <muted>(12.5 to 12.8)</muted>``, or empty."""
    if t is None:
        return ""
    places = decimals(*t)
    interval = f"({number(t[1], places)} to {number(t[2], places)})"
    return f'{esc(number(t[0], places))} <span class="muted">{esc(interval)}</span>'


def _data_section(facts: ReportFacts) -> str:
    """Rows read, clean and set aside, the commonest reasons, and the warnings."""
    d = facts.data
    text = (
        f"{d.rows_read:,} rows read: {d.rows_clean:,} clean, {d.rows_quarantined:,} set aside "
        f"({share(d.quarantined_share)}) and kept in the run's quarantine file with their reasons."
    )
    reasons = [f"{msg}" for msg, _ in d.reasons]
    if d.more_reasons:
        reasons.append(f"… and {d.more_reasons} more reasons (see validation/report.txt).")
    out = f"<h2>The data</h2><p>{esc(text)}</p>"
    if reasons:
        out += '<p class="note">Why rows were set aside (commonest first):</p>' + bullets(
            reasons, "warn"
        )
    if d.warnings:
        noted = f"Validation also noted ({len(d.warnings)}, no rows lost):"
        out += f'<p class="note">{esc(noted)}</p>' + bullets(d.warnings[:5], "info")
    return out


def _footer(facts: ReportFacts) -> str:
    """Technical details for the analyst who wants to trace the run."""
    items = {
        "Run": facts.run_id or "not tracked",
        "Policy mode": facts.mode,
        "Ship decision": facts.decision_reason,
        "Segment summary": (
            f"decision tree of depth {facts.segments.depth}, "
            f"fidelity {share(facts.segments.fidelity)}"
        ),
        "Support floor": f"{facts.support.floor:.2%} estimated chance",
        "Generated": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC"),
    }
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items.items())
    return f"<footer><dl>{rows}</dl></footer>"
