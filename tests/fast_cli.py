"""``python -m tests.fast_cli ARGS``: the ``engage`` command with the tests' small training
constants (:data:`tests.constants.FAST`) and no report picture, for tests that run training
in a process of its own (constants, unlike settings, are not in the environment)."""

from __future__ import annotations

from engage.cli import main
from engage.training.report import artifacts
from tests.constants import FAST, training_constants

if __name__ == "__main__":
    artifacts.PICTURE = False
    with training_constants(**FAST):
        raise SystemExit(main())
