"""engage: which engagement style and posting mix pays off for a business like mine, and why.

The public Python API, for notebooks and scripts (a worked session is in the docs' "Use it
from Python"):

    from engage import TrainSettings, load_policy, load_spec, train, validate_file

- ``load_spec(path=None)``: a campaign-log spec (None: the simulated world's).
- ``validate_file(path, spec)``: check a log against its spec; a report of every problem.
- ``TrainSettings(...)``: the settings of a training run (as ``engage train`` takes them).
- ``train(settings)``: learn, evaluate, log to MLflow, register and maybe promote; a result.
- ``load_policy(uri)``: the policy of ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``, an
  exported model directory or a saved policy directory.
- ``Policy``: its ``recommend(profiles, top_k=..., objective=...)`` answers.

Names are imported on first use (module ``__getattr__``), so ``import engage`` stays light:
it loads neither MLflow nor FastAPI nor LightGBM until a name that needs them is used.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("engage-policy")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

if TYPE_CHECKING:  # for type checkers and IDEs only; at run time names load on first use
    from engage.contract.report import ValidationReport
    from engage.contract.spec import CampaignSpec, load_spec
    from engage.contract.validation import validate_file
    from engage.policy.policy import Policy
    from engage.training.pipeline import TrainResult, train
    from engage.training.settings import TrainSettings

#: public name -> the module that defines it (imported on first use)
_LAZY = {
    "load_spec": "engage.contract.spec",
    "CampaignSpec": "engage.contract.spec",
    "validate_file": "engage.contract.validation",
    "ValidationReport": "engage.contract.report",
    "Policy": "engage.policy.policy",
    "TrainSettings": "engage.training.settings",
    "train": "engage.training.pipeline",
    "TrainResult": "engage.training.pipeline",
}

__all__ = [
    "CampaignSpec",
    "Policy",
    "TrainResult",
    "TrainSettings",
    "ValidationReport",
    "__version__",
    "load_policy",
    "load_spec",
    "train",
    "validate_file",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_policy(uri: str | Path) -> Policy:
    """The policy behind ``uri``, loaded as ``engage serve`` loads it.

    Args:
        uri: ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` (from the tracking store of
            ``MLFLOW_TRACKING_URI``, else ``./mlruns/mlflow.db``; a version is loaded only if
            its training run finished), a directory from ``engage export-model``, or a policy
            directory as ``engage.policy.artifact.save_policy`` writes it.

    Raises:
        engage.serving.model.ModelLoadError: nothing loadable behind ``uri`` (says why).
    """
    path = Path(uri)
    if path.is_dir() and (path / "format.json").is_file():  # a saved policy, not an MLflow model
        return importlib.import_module("engage.policy.artifact").load_policy(path)
    registry = importlib.import_module("engage.registry")
    loader = importlib.import_module("engage.serving.model").ModelLoader
    return loader(registry.default_tracking_uri()).load(str(uri)).policy
