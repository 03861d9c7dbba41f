"""Build a run report: gather the run's facts into one record (:class:`RunFacts`), hand it over.

Each part comes from its own module: gains (:mod:`.gains`), segments (:mod:`.segments`),
support and overlap warnings (:mod:`.support`), the data (:mod:`.quality`); :mod:`.headline`
words the opening. :mod:`engage.reporting` lays the record out as a page, with its figures.
"""

from __future__ import annotations

import numpy as np

from engage.policy.fit import fit_note
from engage.reporting import Report, RunFacts, render_report
from engage.reporting.record import FigureData, SupportFindings
from engage.training.report.gains import measure_gains
from engage.training.report.headline import headline_sentences
from engage.training.report.inputs import ReportInputs
from engage.training.report.quality import describe_data
from engage.training.report.segments import summarise_segments
from engage.training.report.support import (
    evaluation_warnings,
    style_support,
    support_warnings,
)
from engage.training.report.wording import (
    describe_objective,
    describe_plan,
    plural,
    row_noun,
)

MAX_PROFILES = 2_000  # profiles the segment tree is fitted on (a summary needs no more)


def build_report(inputs: ReportInputs, *, seed: int = 0, n_boot: int = 200) -> Report:
    """The run report of ``inputs``: title, plain-text headline and self-contained HTML.

    Args:
        inputs: what the run produced (see :class:`ReportInputs`).
        seed: seed of the profile sample, the summary tree and the bootstrap.
        n_boot: bootstrap resamples of the interval of the gain over the logged policy.
    """
    return render_report(gather_facts(inputs, seed=seed, n_boot=n_boot))


def gather_facts(inputs: ReportInputs, *, seed: int = 0, n_boot: int = 200) -> RunFacts:
    """Compute everything the report says, as one record (see :class:`RunFacts`)."""
    policy, ev, decision = inputs.policy, inputs.evaluation, inputs.decision
    spec = policy.spec
    prop = policy.propensities(ev.context)
    learned = np.asarray(ev.learned)
    shipped = _shipped_choices(inputs, prop)
    rows = _sample(len(learned), seed)
    segments = summarise_segments(
        spec, ev.context[rows], shipped[rows], policy.candidates, prop[rows], seed=seed
    )
    candidate_segments = None
    if decision.mode != "personalized":
        candidate_segments = summarise_segments(
            spec, ev.context[rows], learned[rows], policy.candidates, prop[rows], seed=seed
        )
    objective = describe_objective(spec, spec.outcome_weights(policy.objective or None))
    gains = measure_gains(policy, ev, decision, n_boot=n_boot, seed=seed)
    constant_plan = describe_plan(
        spec, policy.candidates.frame.iloc[decision.constant_action].to_dict()
    )
    # a constant policy's profiles served another plan: their baseline where the constant
    # lacks support, the best-scoring allowed plan where its style is practically never used
    on_baseline = (
        float(np.mean(ev.choices("constant") != decision.constant_action))
        if decision.mode == "constant"
        else 0.0
    )
    fallback = (
        float(np.mean(shipped != decision.constant_action)) - on_baseline
        if decision.mode == "constant"
        else 0.0
    )
    support = _support(inputs, prop, policy.candidates.style_codes[shipped])
    return RunFacts(
        title=f"What the model learned: {spec.name}",
        spec_name=spec.name,
        spec_description=spec.description.strip(),
        row_noun=row_noun(spec),
        run_id=inputs.run_id,
        mode=decision.mode,
        decision_reason=decision.reason,
        objective=objective,
        headline=headline_sentences(
            decision.mode,
            {s.style: s.recommended for s in support.styles},
            gains,
            objective,
            constant_plan,
            fallback,
            row=row_noun(spec),
            baseline_share=on_baseline,
            segments=segments,
            displaced=decision.displaced,
        ),
        gains=gains,
        constant_plan=constant_plan,
        fallback_share=fallback,
        segments=segments,
        candidate_segments=candidate_segments,
        support=support,
        data=describe_data(inputs.validation, ev.data.n, ev.gate_rows),
        values=inputs.values,
        figures=_figures(inputs),
        fit=fit_note(policy.metadata.get("metrics", {}), list(policy.outcome_models)),
    )


def _shipped_choices(inputs: ReportInputs, prop: np.ndarray) -> np.ndarray:
    """The candidate the shipped policy recommends for each evaluated profile.

    Personalised: the evaluation's choices. Constant: the constant action (or, for a constant
    of scope "supported", the profile's baseline where the constant lacks support) wherever its
    style is within the profile's support, else the personalised choice (the policy's own
    fallback, :func:`engage.policy.ranking.top_choice`), without ranking every candidate again.
    """
    learned = np.asarray(inputs.evaluation.learned)
    if inputs.decision.mode == "personalized":
        return learned
    if inputs.decision.mode in ("baseline", "logging"):  # a logging policy's: its draws
        return inputs.evaluation.choices(inputs.decision.mode)
    target = inputs.evaluation.choices("constant")
    floor = prop[np.arange(len(target)), inputs.policy.candidates.style_codes[target]]
    return np.where(floor >= inputs.policy.min_propensity, target, learned)


def _sample(n: int, seed: int) -> np.ndarray:
    """At most ``MAX_PROFILES`` evaluated profiles, sorted (all of them when fewer)."""
    if n <= MAX_PROFILES:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, MAX_PROFILES, replace=False))


def _support(inputs: ReportInputs, prop: np.ndarray, recommended: np.ndarray) -> SupportFindings:
    """The support table, its warnings and the evaluation's warnings and reassurances."""
    policy, ev = inputs.policy, inputs.evaluation
    spec = policy.spec
    styles = style_support(
        spec, prop, recommended, ev.data.style, policy.min_propensity, inputs.propensity.metrics
    )
    rows = plural(row_noun(spec))
    more, notes = evaluation_warnings(spec, ev, inputs.values, rows)
    warnings = support_warnings(styles, policy.min_propensity, rows) + more
    return SupportFindings(styles, policy.min_propensity, tuple(warnings), tuple(notes))


def _figures(inputs: ReportInputs) -> FigureData:
    """What the policy-value and overlap figures are drawn from."""
    policy = inputs.policy
    return FigureData(
        values=inputs.values,
        shipped={"personalized": "learned", "logging": "logging"}.get(
            inputs.decision.mode, "best_constant"
        ),
        oracle_value=inputs.oracle_value,
        eval_proba=inputs.propensity.eval_proba,
        eval_styles=inputs.eval_styles,
        styles=tuple(policy.spec.styles),
        floor=policy.min_propensity,
    )
