"""A tiny policy for the runtime core's unit tests, assembled directly: no training code, no MLflow.

Boosters of 10 rounds are fitted on a few hundred rows of the simulated world, under the
simulated spec plus one categorical decision (``channel``) so that every kind of decision
(style, mix, numeric, categorical) passes through scoring, constraints and narration.
Everything is built once per test session, in about 0.2 s.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import yaml
from threadpoolctl import threadpool_limits

from engage.contract.spec import CampaignSpec, default_spec_path, load_spec
from engage.policy.candidates import build_candidates
from engage.policy.encoding import FeatureBuilder
from engage.policy.policy import Policy, StyleCorrections, grid_support
from engage.simulation.world import SimulatedWorld

N_ROWS = 400
CHANNELS = ("feed", "stories")
CHANNEL = {
    "name": "channel",
    "type": "categorical",
    "values": list(CHANNELS),
    "description": "The channel (where posts go)",
    "labels": {"feed": "main feed"},  # "stories" has none: it reads as itself
}
PARAMS = {
    "verbose": -1,
    "num_threads": 1,
    "deterministic": True,
    "seed": 0,
    "num_leaves": 7,
    "min_data_in_leaf": 15,
    "learning_rate": 0.2,
}


@dataclasses.dataclass(frozen=True)
class Tiny:
    """The pieces of the tiny policy, for tests that need more than the policy."""

    spec: CampaignSpec
    log: pd.DataFrame
    policy: Policy
    profiles: pd.DataFrame
    context: np.ndarray

    def variant(self, **changes: object) -> Policy:
        """The policy with some fields changed (rebuilt, so derived state follows)."""
        return dataclasses.replace(self.policy, **changes)


def spec_with_channel(tmp: Path) -> CampaignSpec:
    """The simulated spec with one more, categorical, decision."""
    raw = yaml.safe_load(default_spec_path().read_text())
    raw["decision"]["extra"].append(CHANNEL)
    path = tmp / "spec.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_spec(path)


def _outcome_boosters(
    spec: CampaignSpec, builder: FeatureBuilder, log: pd.DataFrame
) -> dict[str, lgb.Booster]:
    X = builder.build(log)
    return {
        name: lgb.train(
            {**PARAMS, "objective": "regression"},
            lgb.Dataset(
                X, log[name].to_numpy(float), categorical_feature=builder.categorical_indices
            ),
            num_boost_round=10,
        )
        for name in spec.outcome_names
    }


def _context_categoricals(builder: FeatureBuilder) -> list[int]:
    n_ctx = len(builder.context_names)
    return [j for j in builder.categorical_indices if j < n_ctx]


def _propensity(spec: CampaignSpec, builder: FeatureBuilder, log: pd.DataFrame) -> lgb.Booster:
    styles = builder.encode_decisions(log)[:, 0].astype(int)
    data = lgb.Dataset(
        builder.encode_context(log), styles, categorical_feature=_context_categoricals(builder)
    )
    params = {**PARAMS, "objective": "multiclass", "num_class": len(spec.styles)}
    return lgb.train(params, data, num_boost_round=10)


def _corrections(
    spec: CampaignSpec, builder: FeatureBuilder, log: pd.DataFrame
) -> StyleCorrections:
    """Arbitrary but fixed per-style corrections; their outcomes in reverse spec order, so the
    policy must map its outcome order onto theirs."""
    rng = np.random.default_rng(5)
    outcomes = list(reversed(spec.outcome_names))
    n_out = len(outcomes) * len(spec.styles)
    data = lgb.Dataset(
        builder.encode_context(log),
        rng.integers(0, n_out, len(log)),
        categorical_feature=_context_categoricals(builder),
    )
    booster = lgb.train({**PARAMS, "objective": "multiclass", "num_class": n_out}, data, 3)
    offsets = rng.normal(0.0, 0.3, (len(outcomes), len(spec.styles)))
    return StyleCorrections(booster, offsets, outcomes, len(spec.styles))


def build_tiny(tmp: Path) -> Tiny:
    """Fit and assemble the tiny policy."""
    spec = spec_with_channel(tmp)
    log = SimulatedWorld("hard").simulate(N_ROWS, seed=4)
    log["channel"] = np.random.default_rng(1).choice(CHANNELS, len(log))
    builder = FeatureBuilder(spec)
    with threadpool_limits(1):  # k-means on a few hundred rows: thread start-up is the cost
        candidates = build_candidates(log, spec, n_mix_prototypes=2, quantiles=(0.25, 0.75))
    first_of_style = [
        int(np.flatnonzero(candidates.style_codes == k)[0]) for k in range(len(spec.styles))
    ]
    objective = sum(
        spec.outcome_weights()[name] * log[name].to_numpy(float) for name in spec.outcome_names
    )
    policy = Policy(
        spec=spec,
        outcome_models=_outcome_boosters(spec, builder, log),
        propensity_model=_propensity(spec, builder, log),
        candidates=candidates,
        typical_actions=candidates.encoded[first_of_style],
        propensity_temperature=1.3,
        min_propensity=0.05,
        pessimism=1.0,
        n_train=len(log),
        score_sd=float(np.std(objective)),
        interval_halfwidth={"conversions": 1.5, "engagement_rate": 0.5, "follower_growth": 0.8},
        style_corrections=_corrections(spec, builder, log),
        **grid_support(candidates, len(spec.styles)),
    )
    profiles = SimulatedWorld("hard").simulate(40, seed=9)[spec.context_names]
    return Tiny(spec, log, policy, profiles, builder.encode_context(profiles))


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    """The tiny policy and its data."""
    return build_tiny(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def policy(tiny: Tiny) -> Policy:
    """The tiny policy: personalised, with style corrections and a support discount."""
    return tiny.policy


@pytest.fixture(scope="session")
def trained() -> Policy:
    """A small policy trained on the easy simulated world by the training steps, no MLflow.

    1,500 campaigns, default LightGBM parameters, few candidates: about 3 s, enough for the
    claims of ``shared/domain.md`` the behaviour tests check (C1, C6) to show.
    """
    # imported here: only the behaviour tests pay for the training code
    from engage.contract.validation import validate_log
    from engage.training.models import DEFAULT_PARAMS, FitLog
    from engage.training.nuisance import Nuisance, fit_outcome_models, fit_propensity_model
    from engage.training.selection import build_candidate_policy
    from engage.training.settings import TrainSettings
    from engage.training.split import make_split

    spec = load_spec()
    from tests.constants import training_constants

    settings = TrainSettings(data=Path("unused.parquet"), trials=0, progress=False)
    log = validate_log(SimulatedWorld("easy").simulate(1500, seed=3), spec).clean
    split = make_split(log, spec, settings.seed)
    fit_log = FitLog()
    small = dict(folds=2, mix_prototypes=3, decision_quantiles=3, style_correction_rounds=20)
    with training_constants(**small):
        nuisance = Nuisance(
            fit_propensity_model(split, settings.learning, fit_log),
            fit_outcome_models(split, dict(DEFAULT_PARAMS), settings.learning, fit_log),
        )
        return build_candidate_policy(spec, split, nuisance, spec.outcome_weights(), settings)
