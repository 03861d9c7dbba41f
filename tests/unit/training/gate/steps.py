"""The gate on a small clean log, through the same steps training takes (a few seconds)."""

from __future__ import annotations

import pandas as pd

from engage.contract.spec import CampaignSpec
from engage.training.gate import Evaluation, evaluate_offpolicy
from engage.training.models import DEFAULT_PARAMS, FitLog
from engage.training.nuisance import Nuisance, fit_outcome_models, fit_propensity_model
from engage.training.selection import select_policy
from engage.training.settings import TrainSettings
from engage.training.split import Split, make_split
from tests.constants import training_constants


def gate_on(
    clean: pd.DataFrame, spec: CampaignSpec, settings: TrainSettings
) -> tuple[Split, Evaluation]:
    """The split and the gate's :class:`Evaluation` of a policy trained on ``clean``
    (validated rows), with the small-log training constants."""
    weights = spec.outcome_weights(settings.objective)
    with training_constants(folds=2, mix_prototypes=2, decision_quantiles=2, oracle_rows=100):
        split = make_split(clean, spec, settings.seed)
        fit_log = FitLog()
        nuisance = Nuisance(
            fit_propensity_model(split, settings.learning, fit_log),
            fit_outcome_models(split, dict(DEFAULT_PARAMS), settings.learning, fit_log),
        )
        selection = select_policy(spec, split, nuisance, weights, settings)
        return split, evaluate_offpolicy(spec, split, nuisance, selection, weights, settings)
