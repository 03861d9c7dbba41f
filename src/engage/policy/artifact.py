"""The policy as one versioned model artifact of plain files, and its MLflow pyfunc adapter.

A policy is written as a folder that any tool can read, with no pickle of live classes::

    format.json                 {"format": "engage-policy", "format_version": N}
    policy.json                 the spec, numbers, objective, typical actions, metadata
    candidates.parquet          the candidate actions (raw decision values, and ``_group``,
                                ``_support_rows``, ``_kind``: see CandidateSet)
    models/outcome-<i>.txt      LightGBM model text, one per outcome (outcome order in policy.json)
    models/propensity.txt       LightGBM model text of the logged-style propensity model
    models/style-corrections.txt  LightGBM model text of the per-style corrections (optional)
    intervals/intervals.json    per-recommendation interval model: outcomes, conformal
                                multipliers, floors, level (when policy.json's
                                ``interval_model`` is true; else every recommendation gets
                                ``interval_halfwidth``)
    intervals/interval-scale-<i>.txt  LightGBM model text of each outcome's scale model

``FORMAT_VERSION`` changes whenever a field is added, removed or changes meaning. The loader
reads that version only and every field of it strictly: a field missing from ``policy.json``
(or one it does not know), a candidate column or a model file missing, is an error that names
it; an artifact of another version is refused, saying what to do (an older one: retrain it).
``tests/fixtures/policy/`` holds a small artifact of the current version that tests load and
serve, so a change of format must bump the version on purpose and replace the fixture.

The MLflow model is a pyfunc with this module as its ``loader_module`` (MLflow calls
:func:`_load_pyfunc` with the artifact's folder) and the runtime core (``engage.contract`` and
``engage.policy``) as its code: this module needs no MLflow import.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from engage.contract.profiles import check_frame, profile_model
from engage.contract.spec import CampaignSpec
from engage.policy import FORMAT_VERSION
from engage.policy.candidates import CandidateSet
from engage.policy.encoding import FeatureBuilder
from engage.policy.intervals import IntervalModel, IntervalModelError
from engage.policy.policy import Policy, StyleCorrections
from engage.policy.results import Answer
from engage.policy.support import ProfileClusters

FORMAT_NAME = "engage-policy"
FORMAT_FILE = "format.json"
POLICY_FILE = "policy.json"
CANDIDATES_FILE = "candidates.parquet"
MODELS_DIR = "models"
PROPENSITY_FILE = "propensity.txt"
CORRECTIONS_FILE = "style-corrections.txt"
LEGACY_PICKLE = "policy.pkl"
INTERVALS_DIR = "intervals"
CANDIDATE_EXTRAS = ("_group", "_support_rows", "_kind")
# every field of policy.json in this format (save_policy writes exactly these)
POLICY_FIELDS = frozenset(
    {
        "spec",
        "outcome_models",
        "propensity_temperature",
        "min_propensity",
        "pessimism",
        "n_train",
        "score_sd",
        "mode",
        "constant_action",
        "interval_halfwidth",
        "interval_level",
        "objective",
        "typical_actions",
        "style_corrections",
        "metadata",
        "clusters",
        "baseline",
        "min_support_rows",
        "constant_scope",
        "constant_min_propensity",
        "shared_support",
        "interval_model",
    }
)
RETRAIN = "retrain it with `engage train`"

# Parameters the pyfunc's ``predict`` takes (declared in the model signature's params schema;
# without it MLflow drops them). ``objective`` is a JSON object of outcome weights, "" for the
# objective the policy was trained for.
PREDICT_PARAMS: dict[str, Any] = {"top_k": 3, "explain": True, "objective": ""}


class ArtifactError(RuntimeError):
    """The folder does not hold a policy artifact this version of engage can read."""


def _outcome_file(i: int) -> str:
    return f"outcome-{i}.txt"


def _booster_text(booster: lgb.Booster) -> str:
    return booster.model_to_string(num_iteration=-1)


def _finite_or_none(value: float | np.floating[Any]) -> float | None:
    return float(value) if math.isfinite(float(value)) else None


def save_policy(policy: Policy, directory: str | Path) -> Path:
    """Write ``policy`` as an artifact folder (created; must be empty or new); its path."""
    directory = Path(directory)
    models = directory / MODELS_DIR
    models.mkdir(parents=True, exist_ok=True)
    order = list(policy.outcome_models)
    for i, name in enumerate(order):
        (models / _outcome_file(i)).write_text(_booster_text(policy.outcome_models[name]))
    (models / PROPENSITY_FILE).write_text(_booster_text(policy.propensity_model))
    corr = policy.style_corrections
    if corr is not None:
        (models / CORRECTIONS_FILE).write_text(_booster_text(corr.booster))
    if policy.interval_model is not None:
        policy.interval_model.save(directory / INTERVALS_DIR)
    cands = policy.candidates
    frame = cands.frame.assign(
        _group=np.asarray(cands.group, dtype=int),
        _support_rows=np.asarray(cands.support_rows, dtype=float),
        _kind=np.asarray(cands.kind, dtype=str),
    )
    frame.to_parquet(directory / CANDIDATES_FILE, index=False)
    fields = {
        "spec": policy.spec.model_dump(mode="json"),
        "outcome_models": order,
        "propensity_temperature": float(policy.propensity_temperature),
        "min_propensity": float(policy.min_propensity),
        "pessimism": float(policy.pessimism),
        "n_train": int(policy.n_train),
        "score_sd": float(policy.score_sd),
        "mode": policy.mode,
        "constant_action": None if policy.constant_action is None else int(policy.constant_action),
        "interval_halfwidth": {k: float(v) for k, v in policy.interval_halfwidth.items()},
        "interval_level": float(policy.interval_level),
        "objective": {k: float(v) for k, v in policy.objective.items()},
        "typical_actions": np.asarray(policy.typical_actions, dtype=float).tolist(),
        "style_corrections": None
        if corr is None
        else {
            "outcomes": list(corr.outcomes),
            "n_styles": int(corr.n_styles),
            "offsets": np.asarray(corr.offsets, dtype=float).tolist(),
        },
        "metadata": _jsonable(policy.metadata),
        "clusters": policy.clusters.to_json(),
        "baseline": np.asarray(policy.baseline, dtype=int).tolist(),
        "min_support_rows": float(policy.min_support_rows),
        "constant_scope": policy.constant_scope,
        "constant_min_propensity": float(policy.constant_min_propensity),
        # NaN (a count not measured) as None: JSON has no NaN
        "shared_support": [
            [_finite_or_none(v) for v in row] for row in np.asarray(policy.shared_support)
        ],
        "interval_model": policy.interval_model is not None,
    }
    assert set(fields) == POLICY_FIELDS, "save_policy and POLICY_FIELDS disagree"
    (directory / POLICY_FILE).write_text(
        json.dumps(fields, indent=1, sort_keys=True, allow_nan=False)
    )
    # written last: a folder without it is not a (complete) artifact
    (directory / FORMAT_FILE).write_text(
        json.dumps({"format": FORMAT_NAME, "format_version": FORMAT_VERSION}) + "\n"
    )
    return directory


def _jsonable(value: Any) -> Any:
    """Metadata as strict JSON: non-finite floats become None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return _finite_or_none(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def read_format(directory: str | Path) -> int:
    """The artifact's format version.

    Raises:
        ArtifactError: not an artifact folder, an old pickled artifact, or another format.
    """
    directory = Path(directory)
    marker = directory / FORMAT_FILE
    if not marker.exists():
        if (directory / LEGACY_PICKLE).exists():
            raise ArtifactError(
                "this model was written by engage 0.1 (format 1, a pickle), which this version "
                f"does not load; {RETRAIN} (format {FORMAT_VERSION})"
            )
        raise ArtifactError(
            f"{directory.name or directory} holds no engage policy ({FORMAT_FILE} missing)"
        )
    try:
        meta = json.loads(marker.read_text())
        name, version = meta["format"], int(meta["format_version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{FORMAT_FILE} is unreadable: {exc}") from exc
    if name != FORMAT_NAME:
        raise ArtifactError(f"artifact format {name!r} is not {FORMAT_NAME!r}")
    if version != FORMAT_VERSION:
        what = (
            "a newer engage: upgrade engage"
            if version > FORMAT_VERSION
            else f"an older engage, whose artifacts this one no longer reads: {RETRAIN}"
        )
        raise ArtifactError(
            f"artifact format version {version}; this engage reads version {FORMAT_VERSION} "
            f"only (the model was written by {what})"
        )
    return version


def _booster(path: Path) -> lgb.Booster:
    if not path.exists():
        raise ArtifactError(f"artifact file missing: {path.parent.name}/{path.name}")
    return lgb.Booster(model_str=path.read_text())


def _incomplete(what: str) -> ArtifactError:
    return ArtifactError(
        f"{what}, which artifact format {FORMAT_VERSION} requires: the artifact is incomplete "
        f"or was not written by this engage; {RETRAIN}"
    )


def _policy_fields(directory: Path) -> dict[str, Any]:
    """``policy.json``, checked to hold exactly the fields of this format."""
    try:
        fields = json.loads((directory / POLICY_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"artifact is incomplete or corrupt: {exc}") from exc
    if not isinstance(fields, dict):
        raise ArtifactError(f"artifact is incomplete or corrupt: {POLICY_FILE} is not an object")
    missing = sorted(POLICY_FIELDS - set(fields))
    if missing:
        raise _incomplete(f"{POLICY_FILE} has no field {', '.join(map(repr, missing))}")
    unknown = sorted(set(fields) - POLICY_FIELDS)
    if unknown:
        raise ArtifactError(
            f"{POLICY_FILE} has fields artifact format {FORMAT_VERSION} does not define: "
            f"{', '.join(map(repr, unknown))}; it was written by another engage: {RETRAIN}"
        )
    return fields


def _candidates(directory: Path, spec: CampaignSpec) -> CandidateSet:
    try:
        frame = pd.read_parquet(directory / CANDIDATES_FILE)
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"artifact is incomplete or corrupt: {exc}") from exc
    missing = [c for c in CANDIDATE_EXTRAS if c not in frame.columns]
    if missing:
        raise _incomplete(f"{CANDIDATES_FILE} has no column {', '.join(map(repr, missing))}")
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
    fields = _policy_fields(directory)
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
                name: _booster(models / _outcome_file(i))
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
            mode=fields["mode"],
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
        raise _incomplete(f"{POLICY_FILE} has no {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"artifact is incomplete or corrupt: {exc!r}") from exc


def flatten(answer: Answer) -> dict[str, Any]:
    """One flat row for a profile's answer (the top recommendation) plus the JSON of it all."""
    top = answer.recommendations[0]
    row: dict[str, Any] = {"style": top.style, "score": top.score, "model_score": top.model_score}
    row.update({f"mix_{k}": v for k, v in top.posting_mix.items()})
    row.update(top.decisions)
    row["lift_vs_typical"] = top.lift_vs_typical
    row["support"] = top.support.level
    row["policy_mode"] = answer.policy.mode
    row["result_json"] = json.dumps(answer.to_dict(), sort_keys=True)
    return row


def parse_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """``predict``'s params as ``Policy.recommend`` keywords (``objective`` as a mapping).

    Raises:
        ValueError: ``objective`` is not a JSON object of outcome weights.
    """
    given = {**PREDICT_PARAMS, **(params or {})}
    objective = given["objective"]
    if isinstance(objective, str):
        try:
            objective = json.loads(objective) if objective.strip() else None
        except ValueError as exc:
            raise ValueError(f"params.objective is not JSON: {exc}") from exc
    if objective is not None and not isinstance(objective, dict):
        raise ValueError('params.objective must be a JSON object such as {"conversions": 1}')
    return {"top_k": int(given["top_k"]), "explain": bool(given["explain"]), "objective": objective}


class PolicyPyfunc:
    """What ``mlflow.pyfunc.load_model`` wraps: recommend-and-explain for a frame of profiles.

    Every profile is checked first by the API's profile check
    (:func:`engage.contract.profiles.profile_model`; numbers given as text are read as numbers,
    as in a CSV): one that does not fit fails the call with a
    :class:`~engage.contract.profiles.ProfileError` (a ``ValueError``) naming each bad row
    (the frame's index label), column and reason, and nothing is recommended. A frame is
    answered whole or not at all, as other pyfunc flavours do for bad input: error fields in
    the output would change its logged signature and let a caller use the good rows without
    noticing the bad ones.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._profile = profile_model(policy.spec, from_text=True)

    def get_raw_model(self) -> Policy:
        """The underlying :class:`Policy` (``PyFuncModel.get_raw_model()`` returns it)."""
        return self.policy

    def predict(
        self, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Top recommendation per profile.

        ``params`` may set ``top_k`` (default 3), ``explain`` (default true) and ``objective``
        (JSON object of outcome weights; default: the objective the policy was trained for).

        Raises:
            ProfileError: some profiles do not fit the spec (each row and column named).
        """
        frame = pd.DataFrame(model_input)
        check_frame(self._profile, self.policy.spec, frame)
        answers = self.policy.recommend(frame, **parse_params(params))
        return pd.DataFrame([flatten(a) for a in answers])


def _load_pyfunc(data_path: str) -> PolicyPyfunc:
    """MLflow's entry point for ``loader_module`` models."""
    return PolicyPyfunc(load_policy(data_path))
