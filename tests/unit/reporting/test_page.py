"""The report page from a record built by hand: reporting needs nothing from training, lays out
what the record says, and escapes every value (the templates autoescape)."""

from __future__ import annotations

import dataclasses
import html
import re

import numpy as np

from engage.reporting import Report, RunFacts, render_report
from engage.reporting.page import render_page
from engage.reporting.record import (
    DataFacts,
    FigureData,
    Gain,
    Gains,
    ObjectiveWords,
    Segment,
    SegmentSummary,
    StyleSupport,
    SupportFindings,
)

EVIL = '<script>alert("x")</script>'


def _facts(**changes: object) -> RunFacts:
    segment = Segment(
        conditions=("Followers above 5,000", f"Industry {EVIL}"),
        style="storytelling",
        share=1.0,
        agreement=0.55,
        runner_up=("humour", 0.45),
        plan="storytelling, 3 posts a week",
        thin_support=("storytelling", "humour"),
    )
    summary = SegmentSummary(segments=(segment,), fidelity=0.9, depth=1, n_profiles=1200)
    values = {
        "learned": {"dr": (12.6, 12.5, 12.8), "snips": (12.4, 12.0, 12.9)},
        "logged": {"observed": (11.0, 10.9, 11.1)},
    }
    facts = RunFacts(
        title=f"What the model learned: {EVIL}",
        spec_name=EVIL,
        spec_description="A test log.",
        row_noun="campaign",
        run_id="run-1",
        mode="personalized",
        decision_reason="personalised beat the best constant",
        objective=ObjectiveWords(
            unit="conversions", gain_unit="conversions", formula="", example=""
        ),
        headline=("The model recommends storytelling.", f"Spec text {EVIL} stays text."),
        gains=Gains(
            over_logged=Gain(1.6, 1.2, 2.0), personalised_over_constant=Gain(0.1, -0.2, 0.4)
        ),
        constant_plan="storytelling",
        fallback_share=0.0,
        segments=summary,
        candidate_segments=None,
        support=SupportFindings(
            styles=(StyleSupport("storytelling", 1.0, 0.3, 0.1, 0.0, 0.05, 250.0),),
            floor=0.005,
            warnings=(f"Warning {EVIL}",),
            notes=(),
        ),
        data=DataFacts(1000, 990, 10, (("missing conversions", 10),), 0, (), 300),
        values=values,
        figures=FigureData(values, "learned", None, np.zeros((0, 1)), np.zeros(0), ("a",), 0.005),
    )
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def test_a_hand_built_record_renders_every_section_with_its_values_escaped() -> None:
    page = render_page(_facts(), figures={})
    assert "<script" not in page
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    for words in (
        "Who gets what",
        "What the data could not support",
        "How sure are we",
        "The data",
        f"Industry {EVIL}",
        f"Warning {EVIL}",
        "for 55% of this group; humour 45%",
        "Tailored plan (personalised) ✓ shipped",
        "1,000 rows read: 990 clean, 10 set aside (1%)",
        "+1.6",
    ):
        assert words in text, words
    assert '<span class="alert">storytelling (recommended)</span>, humour' in page
    assert "<figure>" not in page  # no figures given: none drawn, no empty image
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")


def test_render_report_gives_title_headline_and_page() -> None:
    facts = _facts(candidate_segments=_facts().segments, mode="constant")
    report = render_report(facts)
    assert isinstance(report, Report)
    assert report.headline == " ".join(facts.headline)
    assert "What a tailored plan would have done (not shipped)" in report.html
    assert report.html.count('src="data:image/png;base64,') == 2  # drawn from the record
