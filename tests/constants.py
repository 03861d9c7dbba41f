"""Training's experimenter constants, set small for fast tests.

How hard training works (folds, candidate grid, oracle rows, ...) is not a setting but a
constant of the module that uses it; :func:`training_constants` sets some of them for a block,
as the tests' old ``TrainSettings(folds=2, mix_prototypes=2, ...)`` did for one run.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

#: Each constant's module and name (the grid's are class constants of TrainSettings while
#: selection.py reads them from its settings).
WHERE = {
    "folds": ("engage.training.nuisance", "FOLDS"),
    "style_correction_rounds": ("engage.training.nuisance", "STYLE_CORRECTION_ROUNDS"),
    "oracle_rows": ("engage.training.oracle", "ORACLE_ROWS"),
    "mix_prototypes": ("engage.training.settings:TrainSettings", "mix_prototypes"),
    "decision_quantiles": ("engage.training.settings:TrainSettings", "decision_quantiles"),
}

#: The constants' values in the code (read when this module is first imported, before any
#: test patches them).
DEFAULTS: dict[str, int] = {}

#: What ``tests.conftest.train_settings`` runs use: a small grid, a small oracle sample.
FAST = {"mix_prototypes": 4, "decision_quantiles": 3, "oracle_rows": 200}


def _owner(path: str) -> object:
    module, _, attribute = path.partition(":")
    owner = importlib.import_module(module)
    return getattr(owner, attribute) if attribute else owner


@contextmanager
def training_constants(**values: int) -> Iterator[None]:
    """Within the block, each named constant (a key of :data:`WHERE`) has the given value."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in values.items():
            where, attribute = WHERE[name]
            patch.setattr(_owner(where), attribute, value)
        yield


DEFAULTS.update(
    {name: getattr(_owner(where), attribute) for name, (where, attribute) in WHERE.items()}
)
