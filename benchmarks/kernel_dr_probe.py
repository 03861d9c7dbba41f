"""Probe (issue 11, item 4): a DR whose correction matches the whole action, not only the style.

The product's DR corrects the valuing models with the residuals of the rows whose logged
*style* is the target's, whatever their mix and cadence. This probe tries an indicator kernel
over the whole action: a row counts when its logged style is the target action's and its
logged mix and cadence lie within the support radius of the target action (the radius of the
action search's (cluster, style) cell, x1 and x2); its residual is weighted by
1 / (p(style | profile) x g), g the share of the cell's logged actions within that radius of
the target action. It prints, per policy, the oracle's true value, the product's DR and the
kernel DR with 95% bootstrap intervals. A measurement of whether such an estimator would help,
not a product estimator.

Usage::

    .venv/bin/python benchmarks/kernel_dr_probe.py edge-hard 5000 1
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main(world_name: str, n: int, seed: int) -> None:
    warnings.filterwarnings("ignore")
    from engage.contract.validation import validate_log
    from engage.simulation.families import make_world, parse_world_name
    from engage.simulation.oracle import WorldOracle
    from engage.training import evaluation as ope
    from engage.training.actions import _ActionSpace, _radius, _support_rows
    from engage.training.models import FitLog
    from engage.training.nuisance import (
        Nuisance,
        fit_outcome_models,
        fit_propensity_model,
        tune_outcome_models,
    )
    from engage.training.offpolicy import decide_shipping, evaluate_offpolicy
    from engage.training.oracle import measure_truth
    from engage.training.selection import select_policy
    from engage.training.settings import TrainSettings
    from engage.training.split import make_split

    family, difficulty = parse_world_name(world_name)
    world = make_world(family, difficulty, "full")
    spec = world.spec
    settings = TrainSettings(data=Path("unused.parquet"), trials=0, seed=seed)
    weights = spec.outcome_weights(settings.objective)
    split = make_split(validate_log(world.simulate(n, seed=seed), spec).clean, spec, settings)
    fits = FitLog()
    propensity = fit_propensity_model(split, settings, fits)
    outcomes = fit_outcome_models(split, tune_outcome_models(split, settings, fits), settings, fits)
    nuisance = Nuisance(propensity, outcomes)
    selection = select_policy(spec, split, nuisance, weights, settings)
    evaluation = evaluate_offpolicy(spec, split, nuisance, selection, weights, settings)
    decision = decide_shipping(evaluation, evaluation.constant_action)  # the gate chose it
    description = {"family": family, "difficulty": difficulty, "decisions": "full", "rows": n, "seed": seed}
    truth = measure_truth(
        WorldOracle(world, description), spec, split, selection.policy.candidates, evaluation,
        decision, weights, settings,
    )

    # the (cluster, style) cells of the training log: support set and radius, as the search's
    policy, train = selection.policy, split.train
    cands = policy.candidates
    space = _ActionSpace(spec, train.log)
    assigned = policy.clusters.assign(train.context)
    centroids = policy.clusters.centroids
    order = np.argsort(((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(-1), axis=1)
    train_styles = train.log[spec.style.name].astype(str).to_numpy()
    vectors, cats = space.vectors(train.log), space.categories(train.log)
    cells = {}
    for c in range(policy.clusters.n_clusters):
        for style in spec.styles:
            members = _support_rows(order[c], assigned, train_styles == style)
            if len(members):
                cells[(c, style)] = (
                    vectors[members], cats[members],
                    _radius(vectors[members], cats[members], settings.support_neighbours),
                )
    rows = split.samples.ope
    logged = split.eval.log.iloc[rows]
    logged_v, logged_c = space.vectors(logged), space.categories(logged)
    logged_style = logged[spec.style.name].astype(str).to_numpy()
    cluster = policy.clusters.assign(split.eval.context[rows])
    cand_v, cand_c = space.vectors(cands.frame), space.categories(cands.frame)
    cand_style = cands.frame[spec.style.name].astype(str).to_numpy()

    def kernel(chosen: np.ndarray, widen: float) -> tuple[np.ndarray, np.ndarray]:
        near, share = np.zeros(len(rows), bool), np.ones(len(rows))
        for i, (j, c) in enumerate(zip(chosen, cluster, strict=True)):
            cell = cells.get((c, cand_style[j]))
            if cell is None or logged_style[i] != cand_style[j]:
                continue
            support, support_c, radius = cell
            radius *= widen
            g = np.mean((np.sqrt(((support - cand_v[j]) ** 2).sum(-1)) <= radius + 1e-9) & (support_c == cand_c[j]))
            close = np.sqrt(((logged_v[i] - cand_v[j]) ** 2).sum()) <= radius + 1e-9
            if g > 0 and close and logged_c[i] == cand_c[j]:
                near[i], share[i] = True, g
        return near, share

    data = evaluation.data
    targets = {
        "learned": evaluation.learned,
        "best_constant": evaluation.choices("constant", decision.constant_action),
        "baseline": evaluation.baseline,
    }
    print(f"{world_name} n={n} seed={seed}")
    for name, chosen in targets.items():
        if chosen is None:
            continue
        q = evaluation.q(cands.encoded[chosen])
        true = truth[f"true.{name}"]
        dr = ope.estimate_policy_value(data, cands.style_codes[chosen], q, n_boot=200, seed=seed)["dr"]
        line = [
            f"{name:14s} true {true:8.3f}",
            f"DR {dr.value:8.3f} [{dr.low:.3f}, {dr.high:.3f}] {'covers' if dr.low <= true <= dr.high else 'misses'}",
        ]
        for widen in (1.0, 2.0):
            near, share = kernel(chosen, widen)
            w = np.where(near, 1.0 / (data.propensity * share), 0.0)
            terms = q + w * (data.reward - data.q_logged)
            rng = np.random.default_rng(seed)
            boots = np.array([terms[rng.integers(0, len(terms), len(terms))].mean() for _ in range(200)])
            low, high = np.percentile(boots, [2.5, 97.5])
            line.append(
                f"kernel DR x{widen:g} {terms.mean():8.3f} [{low:.3f}, {high:.3f}] "
                f"{'covers' if low <= true <= high else 'misses'} (rows matched {near.mean():.2f})"
            )
        print(" | ".join(line), flush=True)
    dm_bias = float(evaluation.q(cands.encoded[evaluation.learned]).mean()) - truth["true.learned"]
    print(f"DM minus the true value, learned policy: {dm_bias:+.3f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
