"""The report page: :func:`render_page` fills the ``report.html.j2`` template from a record.

The template lays the page out; this module only words what goes in it (numbers, shares,
sentences). Jinja2 escapes every value (autoescape), and spec descriptions, category values
and validation messages come from the user's files, so nothing the report shows is trusted as
markup and no HTML is built here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2

from engage.policy.narration import plural
from engage.reporting.figures import report_figures
from engage.reporting.record import RARELY, Gain, RunFacts, SegmentSummary
from engage.reporting.wording import decimals, interval_words, number, share

_ABOUT_MAX = 320  # characters of the spec's description shown under the title
_CANDIDATE_NOTE = (
    "The personalised policy that was tried would have split profiles like this. It did not "
    "beat the single plan with confidence, so treat these as ideas to test, not "
    "recommendations."
)
_CHIP_CLASS = {"better": "better", "worse": "worse", "no clear difference": "unclear"}
_POLICY_NAMES = {
    "learned": "Tailored plan (personalised)",
    "best_constant": "Best single plan",
    "baseline": "What similar marketers typically do (baseline)",
    "logging": "The logging distribution (each style drawn with its logged probability)",
    "logged": "What marketers did",
}
_SHIPPED_KEY = {
    "personalized": "learned",
    "constant": "best_constant",
    "baseline": "baseline",
    "logging": "logging",
}
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("engage.reporting", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
_ENV.globals["zip"] = zip


def render_page(facts: RunFacts, figures: dict[str, str] | None = None) -> str:
    """The whole self-contained HTML page of ``facts``.

    Args:
        facts: the run's facts.
        figures: the figures as base64 PNG by name (None: drawn from ``facts.figures``).
    """
    page = (
        _header(facts)
        | _segments(facts)
        | _support(facts)
        | _values(facts, report_figures(facts.figures) if figures is None else figures)
        | _data(facts)
        | {"footer": _footer(facts)}
    )
    return _ENV.get_template("report.html.j2").render(page=page)


def _header(facts: RunFacts) -> dict[str, Any]:
    """Title, the spec's description, the headline sentences and the headline numbers."""
    about = facts.spec_description
    about = about if len(about) <= _ABOUT_MAX else about[: _ABOUT_MAX - 1].rstrip() + "…"
    g, unit = facts.gains, facts.objective.gain_unit
    if facts.mode == "personalized":
        second = ("Versus the best single plan", "the same plan for everyone")
    else:
        second = ("A tailored plan versus this one", "tried, not shipped")
    cards = [
        _gain_card("Versus what marketers did", g.over_logged, unit, "the plans in the log"),
        _gain_card(second[0], g.personalised_over_constant, unit, second[1]),
    ]
    o = facts.objective
    if not o.formula:
        objective = f"Value is measured in {o.unit}, on average per {facts.row_noun}."
    else:
        objective = f"Value is a score per {facts.row_noun}: {o.formula}; {o.example}."
    return {
        "title": facts.title,
        "spec_name": facts.spec_name,
        "about": about,
        "headline": facts.headline,
        "gain_cards": cards,
        "judged": _judged_card(facts),
        "objective": objective,
    }


def _gain_card(label: str, gain: Gain, unit: str, note: str) -> dict[str, str]:
    """A headline number: a gain, its unit, its interval and its verdict."""
    places = decimals(gain.value, gain.low, gain.high)
    return {
        "label": label,
        "value": number(gain.value, places, signed=True),
        "unit": unit,
        "interval": interval_words(gain),
        "chip": _CHIP_CLASS.get(gain.verdict, "unclear"),
        "verdict": gain.verdict,
        "note": note,
    }


def _judged_card(facts: RunFacts) -> dict[str, str]:
    """How many rows the headline's gains (the decision's figures) were judged on."""
    d, noun = facts.data, plural(facts.row_noun)
    label = f"{noun.capitalize()} it was judged on"
    if d.rows_gate <= d.rows_evaluated:
        note = "held out: never seen in training; the decision to ship judged the same"
        return {"label": label, "value": f"{d.rows_evaluated:,}", "note": note}
    note = (
        f"{d.rows_evaluated:,} held out, never seen in training, and "
        f"{d.rows_gate - d.rows_evaluated:,} training {noun}, each judged by models that never "
        "saw it; the gains above and the decision to ship are these"
    )
    return {"label": label, "value": f"{d.rows_gate:,}", "note": note}


def _segments(facts: RunFacts) -> dict[str, Any]:
    """Who gets what: the shipped policy's segments, and the candidate's when not shipped."""
    summary = facts.segments
    if len(summary.segments) == 1:
        intro = (
            f"The model recommends the same style for all {summary.n_profiles:,} held-out profiles."
        )
    else:
        intro = (
            f"A simple summary of the model's choices, on {summary.n_profiles:,} held-out "
            f"profiles. It reproduces the model's chosen style for {share(summary.fidelity)} "
            "of them; the model itself weighs every detail of a profile, so an individual "
            "profile can get another plan than its segment."
        )
    candidate = facts.candidate_segments
    return {
        "segment_intro": intro,
        "segments": _segment_rows(summary),
        "candidate_segments": _segment_rows(candidate) if candidate is not None else None,
        "candidate_note": _CANDIDATE_NOTE,
    }


def _segment_rows(summary: SegmentSummary) -> list[dict[str, Any]]:
    """One row per segment: conditions, share, style (and runner-up), plan, thin support."""
    rows = []
    for seg in summary.segments:
        # the style's own share of the group, beside it: the group's share of all profiles
        # sits in the column before and is not how many profiles get this style
        mixed = f"for {share(seg.agreement)} of this group"
        if seg.runner_up is not None:
            other, part = seg.runner_up
            mixed += f"; {other} {share(part)}"
        thin = [{"style": s, "recommended": s == seg.style} for s in seg.thin_support]
        rows.append(
            {
                "conditions": seg.conditions,
                "share": share(seg.share),
                "style": seg.style,
                "mixed": mixed,
                "plan": seg.plan,
                "thin": thin,
            }
        )
    return rows


def _support(facts: RunFacts) -> dict[str, Any]:
    """What the data could not support: the style table, the warnings, the reassurances."""
    s, rows_noun = facts.support, plural(facts.row_noun)
    rows = [
        [
            st.style,
            share(st.recommended),
            share(st.logged),
            share(st.thin),
            share(st.unsupported),
            share(st.recommended_rarely),
            "n/a" if st.evidence is None else f"{st.evidence:,.0f}",
        ]
        for st in s.styles
    ]
    headers = [
        ("Style", "style"),
        ("Recommended to", "num"),
        ("Used in the log", "num"),
        ("Rarely used for", "num"),
        ("Never used for", "num"),
        ("Recommended where rarely used", "num"),
        (f"Evidence ({rows_noun})", "num"),
    ]
    intro = (
        "The log can only show how a style does for profiles where marketers used it. Shares "
        f"are of the held-out profiles; “rarely used” means an estimated chance below "
        f"{RARELY:.0%}, “never used” below {s.floor:.1%} (the model never recommends a style "
        f"there); evidence is the effective number of held-out {rows_noun} behind "
        "a style's estimates."
    )
    return {
        "support_intro": intro,
        "support_headers": headers,
        "support_rows": rows,
        "warnings": s.warnings,
        "notes": s.notes,
    }


def _values(facts: RunFacts, figures: dict[str, str]) -> dict[str, Any]:
    """How sure we are: the value of each policy with its interval, and the two figures."""
    rows_noun = plural(facts.row_noun)
    shipped = _SHIPPED_KEY.get(facts.mode, "")
    has_true = any("true" in facts.values.get(k, {}) for k in _POLICY_NAMES)
    rows = []
    for key, name in _POLICY_NAMES.items():
        est = facts.values.get(key, {})
        if not est:  # e.g. no baseline: a policy without profile clusters
            continue
        main = est.get("range") or est.get("dr") or est.get("observed")
        rows.append(
            {
                "name": name + (" ✓ shipped" if key == shipped else ""),
                "shipped": key == shipped,
                "main": _triple(main),
                "check": _triple(est.get("snips")),
                "true": number(est["true"][0]) if "true" in est else "",
            }
        )
    headers = [
        ("Policy", ""),
        (f"Expected value ({facts.objective.unit})", "num"),
        ("Model-free check", "num"),
    ]
    if has_true:
        headers.append(("True value (simulation)", "num"))
    d = facts.data
    judged = max(d.rows_gate, d.rows_evaluated)
    note = (
        f"Expected values are doubly robust estimates on the {judged:,} {rows_noun} the decision "
        "judged (each valued by models that never saw it, so the difference of two values here "
        "is the gain at the top), with "
        "95% intervals that also allow for the model's error where a plan's mix or cadence differs "
        "from what marketers did (they span the doubly robust estimate's and the model's own "
        "read-out's); what marketers did is the observed average. The model-free check "
        "(self-normalised inverse propensity scoring) credits only the style, with the other "
        "choices marketers actually made."
    )
    return {
        **_fit(facts),
        "value_headers": headers,
        "value_rows": rows,
        "has_true": has_true,
        "values_note": note,
        "figures": figures,
        "values_caption": (
            "Each marker is one way of estimating a policy's value, with its 95% interval; the "
            "decision uses DR (doubly robust). DR range: the DR value with the interval the "
            "table gives."
        ),
        "overlap_caption": (
            f"For each style: how likely marketers were to choose it, for {rows_noun} "
            "that used it (colour) and the rest (grey). Mass left of the dashed line is where "
            "the data cannot support the style."
        ),
    }


def _fit(facts: RunFacts) -> dict[str, Any]:
    """Each outcome model's held-out R², and a warning where one explains little."""
    fit = facts.fit
    if fit is None:
        return {"fit_text": "", "fit_warnings": []}
    each = ", ".join(f"{o} {v:.2g}" for o, v in fit.r2.items())
    text = (
        f"How much of the logged outcomes the outcome models explain on held-out "
        f"{plural(facts.row_noun)} (R²: 1 explains every difference, 0 no better than the "
        f"average): {each}."
    )
    warnings = [fit.note] if fit.weak else []
    return {"fit_text": text, "fit_warnings": warnings}


def _triple(t: tuple[float, float, float] | None) -> dict[str, str] | None:
    """A value and its interval, worded with the same decimals; None when absent."""
    if t is None:
        return None
    places = decimals(*t)
    return {
        "value": number(t[0], places),
        "low": number(t[1], places),
        "high": number(t[2], places),
    }


def _data(facts: RunFacts) -> dict[str, Any]:
    """Rows read, clean and set aside, the commonest reasons, and the warnings."""
    d = facts.data
    text = (
        f"{d.rows_read:,} rows read: {d.rows_clean:,} clean, {d.rows_quarantined:,} set aside "
        f"({share(d.quarantined_share)}) and kept in the run's quarantine file with their reasons."
    )
    reasons = [f"{msg}" for msg, _ in d.reasons]
    if d.more_reasons:
        reasons.append(f"… and {d.more_reasons} more reasons (see validation/report.txt).")
    return {"data_text": text, "reasons": reasons, "data_warnings": list(d.warnings)}


def _footer(facts: RunFacts) -> dict[str, str]:
    """Technical details for the analyst who wants to trace the run."""
    return {
        "Run": facts.run_id or "not tracked",
        "Policy mode": facts.mode,
        "Ship decision": facts.decision_reason,
        "Segment summary": (
            f"decision tree of depth {facts.segments.depth}, "
            f"fidelity {share(facts.segments.fidelity)}"
        ),
        "Support floor": f"{facts.support.floor:.2%} estimated chance",
        "Generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
