"""The policy artifact's layout and format checks: its file names, the fields of
``policy.json`` in this format version, and the reading of ``format.json``.

The layout is documented in :mod:`engage.policy.artifact`; writing is
:mod:`engage.policy.artifact_save`, reading :mod:`engage.policy.artifact_load`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engage.policy import FORMAT_VERSION

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


class ArtifactError(RuntimeError):
    """The folder does not hold a policy artifact this version of engage can read."""


def outcome_file(i: int) -> str:
    return f"outcome-{i}.txt"


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


def incomplete(what: str) -> ArtifactError:
    return ArtifactError(
        f"{what}, which artifact format {FORMAT_VERSION} requires: the artifact is incomplete "
        f"or was not written by this engage; {RETRAIN}"
    )


def policy_fields(directory: Path) -> dict[str, Any]:
    """``policy.json``, checked to hold exactly the fields of this format."""
    try:
        fields = json.loads((directory / POLICY_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"artifact is incomplete or corrupt: {exc}") from exc
    if not isinstance(fields, dict):
        raise ArtifactError(f"artifact is incomplete or corrupt: {POLICY_FILE} is not an object")
    missing = sorted(POLICY_FIELDS - set(fields))
    if missing:
        raise incomplete(f"{POLICY_FILE} has no field {', '.join(map(repr, missing))}")
    unknown = sorted(set(fields) - POLICY_FIELDS)
    if unknown:
        raise ArtifactError(
            f"{POLICY_FILE} has fields artifact format {FORMAT_VERSION} does not define: "
            f"{', '.join(map(repr, unknown))}; it was written by another engage: {RETRAIN}"
        )
    return fields
