"""Settings of one training run: a few ``ENGAGE_TRAIN_*`` variables a user sets, by stage.

:class:`TrainSettings` is the one settings class of ``engage train``: every field is an
``ENGAGE_TRAIN_<FIELD>`` variable (flat names, whichever stage the field belongs to), the CLI
passes its flags as keyword arguments, which win over the environment, and an unknown
``ENGAGE_TRAIN_*`` variable is an error (a typo such as ``ENGAGE_TRAIN_TRAILS`` must not be
silently ignored).

Its fields come from one class per stage, and each stage receives only its part
(:attr:`TrainSettings.input`, :attr:`~TrainSettings.learning`, :attr:`~TrainSettings.gate`,
:attr:`~TrainSettings.tracking`):

- :class:`InputSettings`: the log, its spec and how much of it may be refused;
- :class:`LearningSettings`: the seed, tuning, objective and support of the learned policy;
- :class:`GateSettings`: how the shipping gate judges the policy (owned by the gate);
- :class:`TrackingSettings`: where the run is logged and whether its model is promoted.

How hard training works (folds, candidate grid, action search, row caps, ...) is not a
setting: those are constants of the modules that use them, changed by the team with a
benchmark, not per run. :data:`ADVANCED` names the few settings a user rarely needs (kept for
benchmarks and tests); :func:`public_settings` lists the others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engage.contract.settings_env import reject_unknown_variables
from engage.contract.spec import SpecError, tracking_name

ENV_PREFIX = "ENGAGE_TRAIN_"

_STAGE = ConfigDict(frozen=True, extra="forbid")
_Part = TypeVar("_Part", bound=BaseModel)


class InputSettings(BaseModel):
    """The campaign log and how much of it a run accepts (the validate stage)."""

    model_config = _STAGE

    data: Path = Field(
        description="the campaign log (.parquet or .csv; with --dask a partitioned Parquet folder, glob or file)"
    )
    spec: Path | None = Field(
        default=None, description="spec YAML (default: the simulated world's)"
    )
    max_quarantine_share: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="largest share of the log's rows that may be quarantined for a run to go on (the CLI's --allow-quarantine)",
    )
    max_input_rows: int = Field(
        default=5_000_000,
        ge=1,
        description="most data rows a campaign log may have (raise it for a larger log)",
    )
    max_input_bytes: int = Field(
        default=1 << 30,
        ge=1,
        description="largest campaign-log file accepted, in bytes (raise it for a larger log)",
    )


class LearningSettings(BaseModel):
    """What the policy is learned for and how cautiously (the split, nuisance and policy stages)."""

    model_config = _STAGE

    seed: int = Field(default=0, description="seed of every split, subsample and fit")
    trials: int = Field(
        default=5,
        ge=0,
        description="Optuna trials tuning the outcome models (0: default parameters)",
    )
    objective: dict[str, float] = Field(
        default_factory=dict, description="outcome weights replacing the spec's ({}: the spec's)"
    )
    min_propensity: float = Field(
        default=0.005,
        ge=0,
        lt=1,
        description="hard support floor: styles below this estimated propensity are never recommended (the pessimism discount handles thin support above it)",
    )
    pessimism: float = Field(
        default=1.5, ge=0, description="discount of thinly supported styles (0: none)"
    )


class GateSettings(BaseModel):
    """How much work the shipping gate puts into its intervals.

    The gate's other knobs (support floors, the propensity clip, the training rows it adds)
    are constants of :mod:`engage.training.gate.knobs`.
    """

    model_config = _STAGE

    n_boot: int = Field(default=200, ge=20, description="bootstrap draws of the OPE intervals")


class TrackingSettings(BaseModel):
    """Where the run is logged and what becomes of its model (the model and register stages)."""

    model_config = _STAGE

    experiment: str | None = Field(
        default=None, description="MLflow experiment (default: engage-<spec name>)"
    )
    model_name: str | None = Field(
        default=None, description="registered model name (default: engage-<spec name>)"
    )
    force: bool = Field(
        default=False,
        description="move the champion alias even if the new model is not better (the plausibility gate still applies)",
    )
    register_model: bool = Field(
        default=True,
        description="advanced: register the model and maybe promote it (false: the run is only logged; for benchmarks)",
    )
    mlruns: Path = Field(
        default=Path("mlruns"),
        description="advanced: folder of the embedded MLflow store, used unless MLFLOW_TRACKING_URI is set (which users should prefer)",
    )


class TrainSettings(BaseSettings, TrackingSettings, GateSettings, LearningSettings, InputSettings):
    """Settings of ``engage train``: each field is ``ENGAGE_TRAIN_<FIELD>`` in the environment.

    The fields are those of the stage classes (:class:`InputSettings`,
    :class:`LearningSettings`, :class:`GateSettings`, :class:`TrackingSettings`) and two of
    the run itself; each stage takes its own part (``settings.input``, ``settings.learning``,
    ``settings.gate``, ``settings.tracking``).
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    progress: bool = Field(default=True, description="print each stage as it runs")
    dask: str | None = Field(
        default=None,
        description="train on Dask: 'local' starts a LocalCluster sized to the machine, an address (tcp://host:8786) joins a running scheduler; data is then a partitioned Parquet folder, glob or file (None: one process, pandas)",
    )

    # Constants of the candidate grid and of the action search (engage.training.actions), not
    # settings: no variable sets them. They are class attributes only because selection.py,
    # which the shipping gate's move owns, reads them from the settings it is given; that
    # move should make them constants of the module that builds the candidates.
    mix_prototypes: ClassVar[int] = 8  # k-means posting-mix prototypes per style
    decision_quantiles: ClassVar[int] = 7  # quantiles of each numeric decision per style
    action_clusters: ClassVar[int] = (
        0  # clusters of similar profiles (0: sqrt(rows / 25) in [4, 40])
    )
    search_profiles: ClassVar[int] = 24  # profiles of a cluster each searched action is scored on
    search_pool: ClassVar[int] = 32  # logged actions the search starts from per cluster and style
    search_rounds: ClassVar[int] = 2  # rounds of local steps refining the best actions
    support_neighbours: ClassVar[int] = 10  # the support radius's k-th nearest logged neighbour
    min_support_rows: ClassVar[float] = 20.0  # logged campaigns a searched action needs near it

    @model_validator(mode="after")
    def _no_unknown_variables(self) -> TrainSettings:
        reject_unknown_variables(ENV_PREFIX, type(self).model_fields)
        return self

    @property
    def input(self) -> InputSettings:
        """The validate stage's part."""
        return _part(InputSettings, self)

    @property
    def learning(self) -> LearningSettings:
        """The split, nuisance and policy stages' part."""
        return _part(LearningSettings, self)

    @property
    def gate(self) -> GateSettings:
        """The shipping gate's part."""
        return _part(GateSettings, self)

    @property
    def tracking(self) -> TrackingSettings:
        """The model and register stages' part."""
        return _part(TrackingSettings, self)


def _part(cls: type[_Part], settings: TrainSettings) -> _Part:
    """The fields of ``cls`` of ``settings`` as a ``cls`` (already validated: not again)."""
    return cls.model_construct(**{name: getattr(settings, name) for name in cls.model_fields})


#: Settings a user rarely needs: kept for benchmarks and tests, documented apart.
ADVANCED = ("register_model", "mlruns")


def public_settings() -> list[str]:
    """The settings a user sets: every field but the :data:`ADVANCED` ones and the gate's."""
    hidden = set(ADVANCED) | set(GateSettings.model_fields)
    return [name for name in TrainSettings.model_fields if name not in hidden]


def constants() -> dict[str, Any]:
    """How hard training works: the module constants that were settings, by their old names
    (each run logs them as parameters, so runs stay comparable when the team changes one)."""
    from engage.contract.limits import InputLimits
    from engage.training import nuisance, oracle, plausibility, split
    from engage.training.report import artifacts

    cls = TrainSettings
    return {
        "folds": nuisance.FOLDS,
        "tuning_rows": nuisance.TUNING_ROWS,
        "style_correction_rounds": nuisance.STYLE_CORRECTION_ROUNDS,
        "eval_fraction": split.EVAL_FRACTION,
        "propensity_rows": split.PROPENSITY_ROWS,
        "max_metric_rows": split.MAX_METRIC_ROWS,
        "oracle_rows": oracle.ORACLE_ROWS,
        "mix_prototypes": cls.mix_prototypes,
        "decision_quantiles": cls.decision_quantiles,
        "action_clusters": cls.action_clusters,
        "search_profiles": cls.search_profiles,
        "search_pool": cls.search_pool,
        "search_rounds": cls.search_rounds,
        "support_neighbours": cls.support_neighbours,
        "min_support_rows": cls.min_support_rows,
        "plausibility_margin": plausibility.MARGIN,
        "report_picture": artifacts.PICTURE,
        "probe_rows": InputLimits.probe_rows,
        "probe_max_bad_share": InputLimits.probe_max_bad_share,
        "max_quarantine_rows_written": InputLimits.max_quarantine_written,
    }


def with_spec_names(settings: TrainSettings, spec_name: str) -> TrainSettings:
    """``settings`` with the experiment and model name that were not given derived from the
    spec's name (:func:`~engage.contract.spec.tracking_name`): one model per spec."""
    name = tracking_name(spec_name)
    return settings.model_copy(
        update={
            "experiment": settings.experiment or name,
            "model_name": settings.model_name or name,
        }
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
        raise SpecError(
            f'--objective must be a JSON object of outcome weights, e.g. {{"conversions": 1}}; got {text!r}'
        )
    return {str(k): float(v) for k, v in raw.items()}
