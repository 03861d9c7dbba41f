"""Shared fixtures: one temporary MLflow store and one small trained model per test session.

Training a real model takes ~15 s, so it is done once; tests that must not disturb it
(promotion, failures) use their own model names in the same store.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.constants import FAST, training_constants

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TEST_MODEL = "test-policy"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (pyproject's addopts): one test process per core this process may use, at
    most four; each process trains its own session model and starts its own servers. Tests of
    one file only run in this process: ``--dist loadfile`` would give them one worker anyway."""
    files = {arg.split("::")[0] for arg in config.args}
    if len(files) == 1 and next(iter(files)).endswith(".py"):
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cores or 1))


@pytest.fixture(autouse=True)
def sys_path_kept():
    """Each test leaves ``sys.path`` as it found it: a test that loads a model with MLflow's
    own loader (not :func:`engage.registry.load_model_object`, which restores it) gets the
    model's code folder first on the path, and a Dask cluster a later test starts in this
    process would import that partial copy of engage."""
    saved = list(sys.path)
    yield
    sys.path[:] = saved


@pytest.fixture(scope="session", autouse=True)
def fast_training():
    """Training in this process uses a small candidate grid and oracle sample
    (:data:`tests.constants.FAST`; tests that want others set them in a block of their own),
    and logs the run report's HTML without rendering its PNG in Chromium (seconds per run;
    tests/integration/test_report_render.py renders it on purpose)."""
    with training_constants(**FAST), pytest.MonkeyPatch.context() as patch:
        patch.setattr("engage.training.report.artifacts.PICTURE", False)
        yield


@pytest.fixture(scope="session", autouse=True)
def serve_waits_for_first_load():
    """In-process apps wait (up to 60 s) for their first model load before serving.

    ``engage serve`` listens at once and loads in the background (``ENGAGE_SERVE_STARTUP_WAIT_S``
    defaults to 0); a test that enters ``TestClient(app)`` expects the model to be there, so
    the suite sets the wait unless a test passes ``startup_wait_s`` itself. Server processes
    started by tests inherit it; tests of the listen-at-once default set it to 0.
    """
    old = os.environ.get("ENGAGE_SERVE_STARTUP_WAIT_S")
    os.environ.setdefault("ENGAGE_SERVE_STARTUP_WAIT_S", "60")
    yield
    if old is None:
        os.environ.pop("ENGAGE_SERVE_STARTUP_WAIT_S", None)


@pytest.fixture(scope="session", autouse=True)
def decisions_store(tmp_path_factory: pytest.TempPathFactory):
    """Served decisions go to a temporary SQLite store and spool, not the project's
    ./engage-data/ (tests that need their own store set ENGAGE_DECISIONS_URL themselves)."""
    old = os.environ.get("ENGAGE_DECISIONS_URL")
    old_spool = os.environ.get("ENGAGE_DECISIONS_SPOOL_DIR")
    path = tmp_path_factory.mktemp("decisions") / "decisions.db"
    os.environ.setdefault("ENGAGE_DECISIONS_URL", f"sqlite:///{path}")
    os.environ.setdefault("ENGAGE_DECISIONS_SPOOL_DIR", str(path.parent / "spool"))
    yield path
    if old is None:
        os.environ.pop("ENGAGE_DECISIONS_URL", None)
    if old_spool is None:
        os.environ.pop("ENGAGE_DECISIONS_SPOOL_DIR", None)


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary SQLite tracking store; MLFLOW_TRACKING_URI points at it for the session."""
    root = tmp_path_factory.mktemp("mlruns")
    old = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    import mlflow

    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.create_experiment("engage-tests", artifact_location=(root / "artifacts").as_uri())
    yield root
    if old is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = old


@pytest.fixture(scope="session")
def sim_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small hard simulated log (4,000 rows) written as Parquet with its world metadata."""
    from engage.simulation.world import SimulatedWorld, write_log

    path = tmp_path_factory.mktemp("data") / "campaigns.parquet"
    log = SimulatedWorld("hard").simulate(4000, seed=3)
    write_log(log, path, world={"difficulty": "hard", "decisions": "full", "seed": 3, "rows": 4000})
    return path


def train_settings(data: Path, store: Path, **overrides):
    """Fast training settings for tests (no tuning, few bootstrap draws; the small grid and
    oracle sample are the session's, see :func:`fast_training`)."""
    from engage.training.pipeline import TrainSettings

    values = dict(
        data=data,
        experiment="engage-tests",
        model_name=TEST_MODEL,
        trials=0,
        n_boot=50,
        progress=False,
        mlruns=store,
        seed=0,
    )
    values.update(overrides)
    return TrainSettings(**values)


def sim_oracle(data: Path):
    """The oracle of a simulated log (what the CLI passes to ``train`` for such a log)."""
    from engage.simulation.oracle import oracle_for_log

    return oracle_for_log(data)


@pytest.fixture(scope="session")
def trained(mlflow_store: Path, sim_log: Path):
    """A real trained, registered and promoted policy (``models:/test-policy@champion``)."""
    from engage.training.pipeline import train

    return train(train_settings(sim_log, mlflow_store), oracle=sim_oracle(sim_log))


@pytest.fixture(scope="session")
def champion_uri(trained) -> str:
    return f"models:/{TEST_MODEL}@champion"


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on loopback for the session (see tests/postgres.py); skips,
    saying why, where the distribution's server package is not installed."""
    from tests.postgres import start_server, temporary_root

    server, stop = start_server(temporary_root())
    yield server
    stop()
