"""Reading a policy artifact folder, strictly: every field and file of this format version
(layout: :mod:`engage.policy.artifact`; format checks: :mod:`engage.policy.artifact_format`)."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import lightgbm as lgb
import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec
from engage.policy.artifact_format import (
    CANDIDATE_EXTRAS,
    CANDIDATES_FILE,
    CORRECTIONS_FILE,
    INTERVALS_DIR,
    MODELS_DIR,
    POLICY_FILE,
    PROPENSITY_FILE,
    ArtifactError,
    incomplete,
    outcome_file,
    policy_fields,
    read_format,
)
from engage.policy.candidates import CandidateSet
from engage.policy.encoding import FeatureBuilder
from engage.policy.intervals import IntervalModel, IntervalModelError
from engage.policy.policy import Policy, StyleCorrections
from engage.policy.results import PolicyMode
from engage.policy.support import ProfileClusters


def _booster(path: Path) -> lgb.Booster:
    if not path.exists():
        raise ArtifactError(f"artifact file missing: {path.parent.name}/{path.name}")
    return lgb.Booster(model_str=path.read_text())


def _candidates(directory: Path, spec: CampaignSpec) -> CandidateSet:
    try:
        frame = pd.read_parquet(directory / CANDIDATES_FILE)
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"artifact is incomplete or corrupt: {exc}") from exc
    missing = [c for c in CANDIDATE_EXTRAS if c not in frame.columns]
    if missing:
        raise incomplete(f"{CANDIDATES_FILE} has no column {', '.join(map(repr, missing))}")
    extras = {c: frame.pop(c).to_numpy() for c in CANDIDATE_EXTRAS}
    encoded = FeatureBuilder(spec).encode_decisions(frame)
    return CandidateSet(
        frame=frame,
        encoded=encoded,
        style_codes=encoded[:, 0].astype(int),
        group=extras["_group"].astype(int),
        support_rows=extras["_support_rows"].astype(float),
        kind=extras["_kind"].astype(object),
    )


def load_policy(directory: str | Path) -> Policy:
    """Read a policy written by :func:`save_policy`.

    Raises:
        ArtifactError: the folder is not a complete artifact of this format version.
    """
    directory = Path(directory)
    read_format(directory)
    fields = policy_fields(directory)
    try:
        spec = CampaignSpec.model_validate(fields["spec"])
    except ValueError as exc:
        raise ArtifactError(f"artifact's spec is invalid: {exc}") from exc
    candidates = _candidates(directory, spec)
    scope = fields["constant_scope"]
    if scope not in ("everyone", "supported"):
        raise ArtifactError(
            f"artifact's constant_scope is {scope!r}; expected 'everyone' or 'supported'"
        )
    mode = fields["mode"]
    if mode not in get_args(PolicyMode):
        raise ArtifactError(
            f"artifact's mode is {mode!r}; expected one of {', '.join(get_args(PolicyMode))}"
        )
    models = directory / MODELS_DIR
    intervals = None
    if fields["interval_model"]:
        try:
            intervals = IntervalModel.load(directory / INTERVALS_DIR)
        except IntervalModelError as exc:
            raise ArtifactError(f"artifact's interval model: {exc}") from exc
    try:
        corr_fields = fields["style_corrections"]
        corrections = None
        if corr_fields is not None:
            corrections = StyleCorrections(
                booster=_booster(models / CORRECTIONS_FILE),
                offsets=np.asarray(corr_fields["offsets"], dtype=float),
                outcomes=list(corr_fields["outcomes"]),
                n_styles=int(corr_fields["n_styles"]),
            )
        return Policy(
            spec=spec,
            outcome_models={
                name: _booster(models / outcome_file(i))
                for i, name in enumerate(fields["outcome_models"])
            },
            propensity_model=_booster(models / PROPENSITY_FILE),
            candidates=candidates,
            typical_actions=np.asarray(fields["typical_actions"], dtype=float),
            propensity_temperature=fields["propensity_temperature"],
            min_propensity=fields["min_propensity"],
            pessimism=fields["pessimism"],
            n_train=fields["n_train"],
            score_sd=fields["score_sd"],
            mode=mode,
            constant_action=fields["constant_action"],
            interval_halfwidth=fields["interval_halfwidth"],
            interval_level=fields["interval_level"],
            metadata=fields["metadata"],
            style_corrections=corrections,
            objective=fields["objective"],
            interval_model=intervals,
            clusters=ProfileClusters.from_json(fields["clusters"]),
            baseline=np.asarray(fields["baseline"], dtype=int),
            min_support_rows=float(fields["min_support_rows"]),
            constant_scope=scope,
            constant_min_propensity=float(fields["constant_min_propensity"]),
            shared_support=np.array(fields["shared_support"], dtype=float),
        )
    except KeyError as exc:  # a field inside one of policy.json's fields
        raise incomplete(f"{POLICY_FILE} has no {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"artifact is incomplete or corrupt: {exc!r}") from exc
