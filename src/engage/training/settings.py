"""Settings of one training run: one typed class, every field an ``ENGAGE_TRAIN_*`` variable.

``.env.example`` documents each variable; an unknown ``ENGAGE_TRAIN_*`` variable is an error
(a typo such as ``ENGAGE_TRAIN_TRAILS`` must not be silently ignored). The CLI passes its
flags as keyword arguments, which win over the environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engage.contract.settings_env import reject_unknown_variables
from engage.contract.spec import SpecError, tracking_name

ENV_PREFIX = "ENGAGE_TRAIN_"


class TrainSettings(BaseSettings):
    """Settings of ``engage train``; each field is ``ENGAGE_TRAIN_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data: Path = Field(description="the campaign log (.parquet or .csv)")
    spec: Path | None = Field(default=None, description="spec YAML (default: the simulated world's)")
    experiment: str | None = Field(default=None, description="MLflow experiment (default: engage-<spec name>)")
    model_name: str | None = Field(default=None, description="registered model name (default: engage-<spec name>)")
    trials: int = Field(default=5, ge=0, description="Optuna trials (0: default parameters)")
    tuning_rows: int = Field(default=20_000, ge=1_000, description="rows Optuna tunes on")
    seed: int = Field(default=0, description="seed of every split, subsample and fit")
    folds: int = Field(default=3, ge=2, le=10, description="cross-fitting folds")
    eval_fraction: float = Field(default=0.25, gt=0.05, lt=0.9, description="share of rows held out for evaluation")
    min_propensity: float = Field(default=0.005, ge=0, lt=1, description="hard support floor: styles below it are never recommended (the pessimism discount handles thin support above it)")
    pessimism: float = Field(default=1.5, ge=0, description="support discount strength (0: none)")
    style_correction_rounds: int = Field(default=50, ge=0, description="rounds of the per-style residual corrections of the outcome models (0: none)")
    mix_prototypes: int = Field(default=8, ge=1, le=20, description="k-means mix prototypes per style")
    decision_quantiles: int = Field(default=7, ge=1, le=15, description="quantiles of each numeric decision per style")
    action_clusters: int = Field(default=0, ge=0, le=200, description="clusters of similar profiles the action search runs for (0: sqrt(rows / 25) in [4, 40])")
    search_profiles: int = Field(default=24, ge=1, le=500, description="profiles of a cluster each searched action is scored on")
    search_pool: int = Field(default=32, ge=1, le=1000, description="logged actions the search starts from per cluster and style")
    search_rounds: int = Field(default=2, ge=0, le=20, description="rounds of local steps refining the best actions (0: logged actions only)")
    support_neighbours: int = Field(default=10, ge=1, description="the support radius is the median distance of a logged action to its k-th nearest logged neighbour, this k")
    min_support_rows: float = Field(default=20, ge=0, description="a searched action is recommended only if at least this many logged campaigns (same style, similar profiles) lie within the support radius of it")
    n_boot: int = Field(default=200, ge=20, description="bootstrap draws of the OPE intervals")
    propensity_rows: int = Field(default=200_000, ge=1_000, description="cap on rows the propensity model fits on")
    max_eval_rows: int = Field(default=5_000, ge=1_000, description="cap on evaluation rows scored by OPE (each is scored over every candidate action)")
    max_metric_rows: int = Field(default=100_000, ge=1_000, description="cap on evaluation rows for the outcome models' predictive metrics")
    oracle_rows: int = Field(default=2_000, ge=100, description="profiles the oracle scores (simulated logs only)")
    objective: dict[str, float] = Field(default_factory=dict, description="outcome weights replacing the spec's ({}: the spec's)")
    max_quarantine_share: float = Field(default=0.05, ge=0, le=1, description="largest share of the log's rows that may be quarantined for a run to go on (the CLI's --allow-quarantine)")
    max_input_bytes: int = Field(default=1 << 30, ge=1, description="largest campaign-log file accepted, in bytes")
    max_input_rows: int = Field(default=5_000_000, ge=1, description="most data rows a campaign log may have")
    probe_rows: int = Field(default=10_000, ge=1, description="first rows validated on their own before the rest of the log is read")
    probe_max_bad_share: float = Field(default=0.5, gt=0, le=1, description="validation stops when more than this share of the probe rows is bad")
    max_quarantine_rows_written: int = Field(default=10_000, ge=0, description="cap on the quarantined rows logged with the run")
    force: bool = Field(default=False, description="move the champion alias even if not better (the plausibility gate still applies)")
    plausibility_margin: float = Field(default=1.0, gt=0, description="promotion gate: the shipped policy's DR/DM values and predicted outcomes must lie within the observed 0.1-99.9% range widened by this many widths each side (inf: range check off; non-finite values are always refused)")
    register_model: bool = Field(default=True, description="register the model (and maybe promote it)")
    report_picture: bool = Field(default=True, description="also render the run report as a PNG with headless Chromium (the HTML is always logged)")
    mlruns: Path = Field(default=Path("mlruns"), description="embedded MLflow store (unless MLFLOW_TRACKING_URI)")
    progress: bool = Field(default=True, description="print each stage as it runs")
    dask: str | None = Field(default=None, description="train on Dask: 'local' starts a LocalCluster sized to the machine, an address (tcp://host:8786) joins a running scheduler; --data is then a partitioned Parquet folder, glob or file (None: one process, pandas)")

    @model_validator(mode="after")
    def _no_unknown_variables(self) -> TrainSettings:
        reject_unknown_variables(ENV_PREFIX, type(self).model_fields)
        return self


def with_spec_names(settings: TrainSettings, spec_name: str) -> TrainSettings:
    """``settings`` with the experiment and model name that were not given derived from the
    spec's name (:func:`~engage.contract.spec.tracking_name`): one model per spec."""
    name = tracking_name(spec_name)
    return settings.model_copy(
        update={"experiment": settings.experiment or name, "model_name": settings.model_name or name}
    )


def settings_from_flags(flags: Mapping[str, Any]) -> TrainSettings:
    """Settings from command-line flags over the environment.

    Flags that are None (not given) or not settings are left out; ``objective`` may be the
    JSON text of ``--objective`` (see :func:`parse_objective`).
    """
    values = {k: v for k, v in flags.items() if k in TrainSettings.model_fields and v is not None}
    if isinstance(values.get("objective"), str):
        values["objective"] = parse_objective(values["objective"])
    return TrainSettings(**values)


def parse_objective(text: str) -> dict[str, float]:
    """Outcome weights from the JSON of ``--objective``, e.g. ``{"conversions": 1}``.

    Only the shape is checked here; the outcome names are checked against the spec by
    :meth:`~engage.contract.spec.CampaignSpec.outcome_weights`.

    Raises:
        SpecError: the text is not a JSON object of numbers.
    """
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"--objective is not valid JSON ({exc}): {text!r}") from exc
    numbers = isinstance(raw, dict) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in raw.values()
    )
    if not numbers:
        raise SpecError(f'--objective must be a JSON object of outcome weights, e.g. {{"conversions": 1}}; got {text!r}')
    return {str(k): float(v) for k, v in raw.items()}

