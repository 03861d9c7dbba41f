"""Test-only pause points of ``engage train``, where a test SIGKILLs the process.

A killed run must leave no half-registered model, and the only convincing test is to kill a
real ``engage train`` at each step of its ending. :func:`pause_at` marks those steps. It does
nothing unless ``ENGAGE_TEST_HOOKS=1``; then, at the point named by ``ENGAGE_TEST_PAUSE_AT``,
it writes the point's name to the file ``ENGAGE_TEST_PAUSE_MARKER`` and sleeps
``ENGAGE_TEST_PAUSE_S`` seconds (default 300) so that the test, seeing the marker, kills the
process exactly there. (These variables do not start with ``ENGAGE_TRAIN_``: the training
settings refuse unknown variables with that prefix.)

Points, in the order a run reaches them:

- ``run_started``: the MLflow run is open and its inputs are logged;
- ``model_logged``: the model artifact is logged, metrics not yet;
- ``before_finish``: everything is logged, the run is still ``RUNNING``;
- ``run_finished``: the run is ``FINISHED``, no model version yet;
- ``version_created``: the version exists, the alias has not moved;
- ``alias_moved``: the alias has moved, the run not yet tagged with the outcome.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POINTS = (
    "run_started",
    "model_logged",
    "before_finish",
    "run_finished",
    "version_created",
    "alias_moved",
)


def pause_at(point: str) -> None:
    """Write the marker and sleep if a test asked to pause here; otherwise return at once."""
    if (
        os.environ.get("ENGAGE_TEST_HOOKS") != "1"
        or os.environ.get("ENGAGE_TEST_PAUSE_AT") != point
    ):
        return
    marker = os.environ.get("ENGAGE_TEST_PAUSE_MARKER")
    if marker:
        Path(marker).write_text(point)
    time.sleep(float(os.environ.get("ENGAGE_TEST_PAUSE_S", "300")))
