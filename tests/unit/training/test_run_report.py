"""The run report (``engage.training.report``) without a browser: what the page says, that it
says it in the objective's units, that it stands alone, and that spec text cannot inject
markup. One small training run (a few seconds) serves the module."""

from __future__ import annotations

import dataclasses
import html
import logging
import re

import matplotlib.image as mpimg
import numpy as np
import pytest

from engage.contract.spec import load_spec
from engage.contract.validation import validate_log
from engage.reporting import render_png
from engage.reporting.page import render_page
from engage.reporting.record import Gain
from engage.reporting.render import trim_background
from engage.simulation.world import SimulatedWorld
from engage.training.gate import ShipDecision
from engage.training.report import build_report, gather_facts
from engage.training.report.gains import measure_gains
from engage.training.report.headline import gain_words
from engage.training.report.quality import describe_data
from engage.training.report.segments import summarise_segments
from engage.training.report.wording import describe_objective, describe_plan
from tests.small_run import small_run_inputs

# Each module run trains a small policy (seconds): the slow lane, with the report's render test.
pytestmark = pytest.mark.slow

OBJECTIVE = {"conversions": 1.0}
UNIT = "conversions per 1,000 followers"  # the simulated spec's unit of the objective's outcome
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def inputs():
    # a personalised policy's report (the gate may decide otherwise on so small a log)
    return small_run_inputs(objective=OBJECTIVE, ship="personalized")


@pytest.fixture(scope="module")
def report(inputs):
    return build_report(inputs, n_boot=50)


def text_of(page: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities unescaped, spaces folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_headline_says_what_is_recommended_and_the_gains_in_the_objectives_unit(
    inputs, report
) -> None:
    assert inputs.decision.mode == "personalized"  # shipped as personalised (see the fixture)
    assert report.headline.startswith("The model tailors its plan to each profile: ")
    # worded by the decision's figures, whatever they say (this forced mode may not be sure)
    e = inputs.decision.gain
    said = gain_words(Gain(e.value, e.low, e.high), UNIT, "what marketers did")
    assert said in report.headline
    assert "the best single plan for every campaign" in report.headline
    text = text_of(report.html)
    assert report.title == "What the model learned: simulated_world"
    for sentence in report.headline.split(". "):
        assert sentence.rstrip(".") in text
    assert text.count(UNIT) >= 3  # headline, both gain cards, the value table


def test_segment_table_support_warnings_and_data_counts(inputs, report) -> None:
    facts = gather_facts(inputs, n_boot=50)
    text = text_of(report.html)
    assert "Who gets what" in text and "Profiles like these" in text
    assert f"It reproduces the model's chosen style for {facts.segments.fidelity:.0%}" in text
    for seg in facts.segments.segments:
        for condition in seg.conditions:
            assert condition in text
    assert sum(s.share for s in facts.segments.segments) == pytest.approx(1.0)
    assert "What the data could not support" in text
    assert facts.support.warnings, "a confounded log always has thinly supported styles"
    for warning in facts.support.warnings:
        assert warning in text
    validation = inputs.validation
    assert (
        f"{validation.n_input_rows:,} rows read: {len(validation.clean):,} clean, 6 set aside"
        in text
    )
    assert "column 'conversions': 4 rows have a missing value" in text


def test_the_page_stands_alone(report) -> None:
    page = report.html
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert page.count('src="data:image/png;base64,') == 2  # policy values and overlap figures
    for external in ("http://", "https://", "<script", "<link", "@import", "url("):
        assert external not in page


def test_spec_text_is_escaped(inputs) -> None:
    spec = inputs.policy.spec
    context = [
        c.model_copy(update={"description": f"Industry {EVIL}"}) if c.name == "industry" else c
        for c in spec.context
    ]
    outcomes = [
        o.model_copy(update={"unit": EVIL}) if o.name == "conversions" else o for o in spec.outcomes
    ]
    evil = spec.model_copy(
        update={"name": EVIL, "description": EVIL, "context": context, "outcomes": outcomes}
    )
    policy = dataclasses.replace(inputs.policy, spec=evil)
    page = build_report(dataclasses.replace(inputs, policy=policy), n_boot=20).html
    assert "<script" not in page and "<img src=x" not in page
    # Jinja2 writes a quote as &#34; where html.escape wrote &quot;: the same character
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert EVIL in text_of(page)  # shown as text, not dropped


def test_the_gains_are_the_figures_the_decision_was_made_on(inputs) -> None:
    # issue 30: the report's gains were the held-out rows', the decision's reason the gate's
    gains = measure_gains(inputs.policy, inputs.evaluation, inputs.decision, n_boot=100)
    e = inputs.evaluation.gains["learned"]  # the gate's, which the ship rule read
    assert gains.over_logged == Gain(e.value, e.low, e.high)
    gain = inputs.evaluation.gain
    shipped, logged = inputs.values["shipped"]["dr"][0], inputs.values["logged"]["observed"][0]
    assert gains.over_logged.value == pytest.approx(shipped - logged, abs=1e-9)  # one set of rows
    assert gains.personalised_over_constant == Gain(gain.value, gain.low, gain.high)


def test_a_constant_policy_reads_as_one_plan_and_shows_the_tailored_one_apart(inputs) -> None:
    decision = ShipDecision("constant", "not significant", inputs.decision.constant_action)
    values = {**inputs.values, "shipped": inputs.values["best_constant"]}
    policy = dataclasses.replace(
        inputs.policy, mode="constant", constant_action=decision.constant_action
    )
    # the constant action for every profile
    everyone = np.full(len(inputs.evaluation.learned), decision.constant_action)
    evaluation = dataclasses.replace(inputs.evaluation, constant=everyone)
    constant = dataclasses.replace(
        inputs, decision=decision, values=values, policy=policy, evaluation=evaluation
    )
    facts = gather_facts(constant, n_boot=20)
    assert facts.headline[0].startswith("The model recommends the same plan for every campaign: ")
    assert facts.headline[-1].startswith(
        "Tailoring the plan to each profile was tried and could not be confirmed better than "
        "what marketers did, so the single plan ships (tailored against the single plan: "
    )
    assert facts.candidate_segments is not None
    gains = measure_gains(policy, inputs.evaluation, decision, n_boot=20)
    # a decision made by hand carries no figures: the evaluation's gate figures are read
    assert gains.over_logged.value == inputs.evaluation.gains["best_constant"].value
    assert "What a tailored plan would have done (not shipped)" in render_page(facts)
    # a constant that displaced a confirmed tailored plan says so, not that tailoring failed
    displaced = dataclasses.replace(
        constant, decision=dataclasses.replace(decision, displaced=True)
    )
    said = gather_facts(displaced, n_boot=20).headline[-1]
    assert said.startswith(
        "Tailoring the plan to each profile was confirmed better than what marketers did, and "
        "the single plan better still, allowing for its choice among the candidates, so the "
        "single plan ships (tailored against the single plan: "
    )


def test_a_supported_constant_says_which_share_of_profiles_get_their_baseline(inputs) -> None:
    decision = ShipDecision("constant", "test", inputs.decision.constant_action)
    values = {**inputs.values, "shipped": inputs.values["best_constant"]}
    policy = dataclasses.replace(
        inputs.policy, mode="constant", constant_action=decision.constant_action
    )
    ev = inputs.evaluation
    assert ev.baseline is not None
    # the first quarter of the profiles lack support near the constant: their baseline
    rows = np.full(len(ev.learned), decision.constant_action)
    quarter = len(rows) // 4
    rows[:quarter] = ev.baseline[:quarter]
    assert (ev.baseline[:quarter] != decision.constant_action).all()
    supported = dataclasses.replace(
        inputs,
        decision=decision,
        values=values,
        policy=policy,
        evaluation=dataclasses.replace(ev, constant=rows),
    )
    first = gather_facts(supported, n_boot=20).headline[0]
    assert first.startswith("The model recommends one plan, ")
    assert (
        "wherever marketers of similar profiles ran campaigns close to it; for the other 25% "
        "of profiles, it recommends what those marketers typically do." in first
    )


def test_the_values_table_marks_the_policy_that_shipped_whichever_mode(inputs) -> None:
    def marked(mode: str, key: str) -> list[str]:
        decision = ShipDecision(mode, "test", inputs.decision.constant_action)
        values = {**inputs.values, "shipped": inputs.values[key]}
        policy = dataclasses.replace(
            inputs.policy, mode=mode, constant_action=decision.constant_action
        )
        facts = gather_facts(
            dataclasses.replace(inputs, decision=decision, values=values, policy=policy), n_boot=20
        )
        section = render_page(facts).split("How sure are we", 1)[1].split("</table>", 1)[0]
        return [text_of("<tr" + row) for row in section.split("<tr") if "✓ shipped" in row]

    assert [r.split(" ✓")[0].strip() for r in marked("baseline", "baseline")] == [
        "What similar marketers typically do (baseline)"
    ]
    assert [r.split(" ✓")[0].strip() for r in marked("personalized", "learned")] == [
        "Tailored plan (personalised)"
    ]


def test_segments_recover_a_simple_rule_and_name_it_in_the_specs_words(inputs) -> None:
    policy, context = inputs.policy, inputs.evaluation.context
    spec, codes = policy.spec, policy.candidates.style_codes
    cycle = context[:, spec.context_names.index("sales_cycle_days")]
    broadcast, leader = (
        int(np.flatnonzero(codes == spec.styles.index(s))[0])
        for s in ("broadcast", "thought_leadership")
    )
    choice = np.where(cycle <= 10, broadcast, leader)
    prop = policy.propensities(context)
    summary = summarise_segments(spec, context, choice, policy.candidates, prop)
    assert summary.fidelity == 1.0 and summary.depth == 1
    by_style = {s.style: s for s in summary.segments}
    assert set(by_style) == {"broadcast", "thought leadership"}
    assert by_style["broadcast"].conditions[0].startswith("Sales cycle up to 1")
    assert by_style["broadcast"].conditions[0].endswith(" days")
    assert by_style["broadcast"].share == pytest.approx(np.mean(cycle <= 10))


def test_gains_are_worded_by_their_interval_not_their_sign() -> None:
    assert gain_words(Gain(1.2, 0.4, 2.0), "points", "X").startswith(
        "should earn +1.20 points more"
    )
    worse = gain_words(Gain(-1146.9, -1987.0, -512.8), "engaged users", "X")
    assert worse.startswith("is expected to do worse than X, by 1,147 engaged users")
    assert gain_words(Gain(0.1, -0.2, 0.4), "points", "X").startswith("shows no clear difference")


def test_objective_and_plan_words_come_from_the_spec(inputs) -> None:
    spec = inputs.policy.spec
    single = describe_objective(spec, spec.outcome_weights({"engagement_rate": 1}))
    assert (single.unit, single.gain_unit) == (
        "% engagement rate",
        "percentage points of engagement rate",
    )
    mixed = describe_objective(spec, spec.outcome_weights())
    assert mixed.unit == "points" and mixed.formula.startswith(
        "1 × conversions per 1,000 followers + 0.5 × % engagement rate"
    )
    assert "2 percentage points of engagement rate" in mixed.example
    plan = describe_plan(spec, inputs.policy.candidates.frame.iloc[0].to_dict())
    assert re.fullmatch(
        r"broadcast, \d+ posts per week, mostly \w+ \(\d+%\) and \w+ \(\d+%\) posts", plan
    )


def test_data_facts_list_the_commonest_reasons_first() -> None:
    spec = load_spec()
    log = SimulatedWorld("hard").simulate(300, seed=1)
    log.loc[log.index[:5], "conversions"] = np.nan
    log.loc[log.index[5:7], "engagement_rate"] = np.nan
    facts = describe_data(validate_log(log, spec), rows_evaluated=50)
    assert (facts.rows_read, facts.rows_clean, facts.rows_quarantined) == (300, 293, 7)
    assert [count for _, count in facts.reasons] == [5, 2]


def test_render_png_without_a_browser_returns_none_and_says_why(
    tmp_path, caplog, monkeypatch
) -> None:
    page = tmp_path / "report.html"
    page.write_text("<html><body>hi</body></html>")
    monkeypatch.setattr("engage.reporting.render.shutil.which", lambda name: None)
    with caplog.at_level(logging.WARNING, logger="engage.reporting.render"):
        assert render_png(page, tmp_path / "report.png") is None
    assert "no Chromium browser found" in caplog.text
    assert not (tmp_path / "report.png").exists()


def test_trim_background_cuts_the_empty_bottom(tmp_path) -> None:
    img = np.ones((400, 120, 3))
    img[10:100, 10:110] = [0.2, 0.3, 0.8]  # content in the top quarter
    png = tmp_path / "page.png"
    mpimg.imsave(png, img)
    trim_background(png)
    assert mpimg.imread(png).shape[0] == 100 + 24


def test_the_values_table_is_said_to_be_of_the_rows_the_decision_judged(inputs, report) -> None:
    # the gate values every row since issue 28: the note said "the held-out ones alone"
    text = text_of(report.html)
    rows = max(inputs.evaluation.gate_rows, inputs.evaluation.data.n)
    assert f"doubly robust estimates on the {rows:,} " in text
    assert "held-out ones alone" not in text
