"""The gate's metrics, flat, under the names the run has always logged."""

from __future__ import annotations

import numpy as np

from engage import ope
from engage.training.gate.contenders import Contenders
from engage.training.gate.knobs import AGREEMENT_ROWS
from engage.training.gate.rows import GateRows
from engage.training.gate.valuation import GateValues
from engage.training.split import Split


def gate_metrics(
    rows: GateRows,
    c: Contenders,
    gate: GateValues,
    optimism: float,
    training_constant: int,
) -> dict[str, float]:
    """``overlap.clipped_rows``, ``policy.*`` shares and gains, ``gate.*`` gains and choices.
    The gains under ``policy.dr_gain_vs_*`` (the names runs have always shown) and
    ``gate.gain_vs_*`` are the same estimates: the gate's, on every row."""
    cands = c.policy.candidates
    learned = c.learned.on_eval
    clipped = rows.clipped + (0 if rows.training is None else rows.training.clipped)
    metrics = {
        "overlap.clipped_rows": clipped,
        **ope.estimate_metrics("policy.dr_gain_vs_constant", gate.gain),
        **ope.estimate_metrics("gate.gain_vs_constant", gate.gain),
        **ope.estimate_metrics("gate.constant_over_learned", gate.constant_over_learned),
        # how much the choosing models flatter their own choice (the winner's curse)
        "policy.chooser_optimism": optimism,
        "policy.baseline_share": (
            float(np.mean(learned == c.baseline.on_eval)) if c.has_baseline else 0.0
        ),
        "policy.searched_share": float(np.mean(np.asarray(cands.kind)[learned] == "search")),
        # of the evaluation rows, those the best constant action is for (the others: their baseline)
        "policy.constant_share": float(np.mean(c.best_constant.on_eval == c.constant.action)),
        "gate.rows": float(rows.pooled.n),
        "gate.eval_rows": float(rows.data.n),
        "gate.logging_baseline": float(c.logging_baseline),
        "gate.training_rows": float(rows.n_training),
        **c.floor_metrics,
        **c.constant.metrics,
        # whether the gate's constant is the one the training rows alone favour
        "gate.constant_is_training_pick": float(c.constant.action == training_constant),
    }
    for prefix, estimates in (
        ("policy.dr_gain_vs_logged", gate.gains),
        ("gate.gain_vs_logged", gate.gains),
    ):
        for name, g in estimates.items():
            metrics.update(ope.estimate_metrics(f"{prefix}.{name}", g))
    return metrics


def fold_agreement(
    rows: GateRows, c: Contenders, split: Split, objective: dict[str, float]
) -> dict[str, float]:
    """How often a fold's policy chose the shipped one's action on the gate's training rows (a
    diagnostic, on evenly spaced rows through them), and the same for the style, the level a
    marketer reads first; none without training rows."""
    if rows.training is None:
        return {}
    assert c.learned.on_training is not None
    n = rows.n_training
    some = np.unique(np.linspace(0, n - 1, min(n, AGREEMENT_ROWS)).astype(int))
    shipped = c.policy.rank(split.train.context[rows.training.rows[some]], objective).chosen
    fold = c.learned.on_training[some]
    codes = c.policy.candidates.style_codes
    return {
        "gate.fold_agreement": float(np.mean(shipped == fold)),
        "gate.fold_style_agreement": float(np.mean(codes[shipped] == codes[fold])),
    }
