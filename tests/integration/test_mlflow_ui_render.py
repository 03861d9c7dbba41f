"""The registered model's page in MLflow's own UI, drawn by headless Chromium: a real
``mlflow server`` on a free loopback port over the session's store, holding the trained and
registered test model. The model page must say what the model recommends (its description) and
the version's DR value (its tag); the experiment page, at the address engage prints, must open on
its runs table (not MLflow 3.18's GenAI start page) and show the experiment's description. Skipped, with the reason, only when no Chromium is installed.

``ENGAGE_WRITE_DOC_IMAGES=1`` also copies the picture to docs/images/mlflow-model-page.png.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import matplotlib.image as mpimg
import pytest
from mlflow import MlflowClient

from engage.registry import (
    DESCRIPTION_TAG,
    DR_VALUE_TAG,
    ML_VIEW_QUERY,
    dr_value_text,
    experiment_page,
)
from tests.conftest import REPO, TEST_MODEL
from tests.servers import mlflow_server

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT_S = 180  # the UI server imports a lot; the shared test machine is slow
DOC_IMAGE = REPO / "docs" / "images" / "mlflow-model-page.png"


@pytest.fixture(scope="module")
def browser() -> str:
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found is None:
        pytest.skip(
            "no Chromium installed (apt-get install chromium): the MLflow page is not rendered"
        )
    return found


@pytest.fixture(scope="module")
def mlflow_ui(trained, mlflow_store: Path, tmp_path_factory) -> Iterator[str]:
    """``mlflow server`` over the session's store; its base URL once ``/health`` answers."""
    root = tmp_path_factory.mktemp("mlflow-ui")
    store = os.environ["MLFLOW_TRACKING_URI"]
    with mlflow_server(root, store, timeout_s=START_TIMEOUT_S) as address:
        yield f"http://{address}"


def _chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    cmd += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
    cmd += [f"--user-data-dir={profile}", "--window-size=1400,1100", "--virtual-time-budget=20000"]
    return subprocess.run([*cmd, *args], check=True, capture_output=True, text=True, timeout=240)


def _visible_text(dom: str) -> str:
    dom = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", dom, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())


def test_the_model_page_says_what_it_recommends_and_its_dr_value(
    browser, mlflow_ui, trained, tmp_path
) -> None:
    page = f"{mlflow_ui}/#/models/{TEST_MODEL}"
    text = _visible_text(_chromium(browser, tmp_path / "profile", "--dump-dom", page).stdout)

    client = MlflowClient()
    description = client.get_registered_model(TEST_MODEL).description
    first_sentence = description.split(". ")[0]
    assert first_sentence.startswith("Recommends, for a business profile")
    flat = " ".join(first_sentence.replace("`", "").split())
    assert flat in text, text[:3000]  # the description, as rendered Markdown

    # the DR value with its range: the interval that allows for the model's extrapolation
    dr, low, high = trained.values["shipped"]["range"]
    assert dr == trained.values["shipped"]["dr"][0]
    expected = dr_value_text(dr, low, high)
    assert client.get_model_version(TEST_MODEL, trained.version).tags[DR_VALUE_TAG] == expected
    assert f"{DR_VALUE_TAG} : {expected}" in text or f"{DR_VALUE_TAG}: {expected}" in text, text[
        -3000:
    ]
    assert f"Version {trained.version}" in text

    png = tmp_path / "mlflow-model-page.png"
    _chromium(browser, tmp_path / "profile", f"--screenshot={png}", page)
    img = mpimg.imread(png)[..., :3]
    assert img.shape[:2] == (1100, 1400)
    assert img.std() > 0.05  # a drawn page, not a blank one
    if os.environ.get("ENGAGE_WRITE_DOC_IMAGES") == "1":
        DOC_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, DOC_IMAGE)


def test_the_experiment_opens_on_its_runs_with_its_description(
    browser, mlflow_ui, trained, tmp_path
) -> None:
    # issue 30: MLflow 3.18 opened the experiment on its GenAI page ("Send your first trace")
    # whatever its kind tag said; the address engage prints asks for the runs view
    assert trained.ui_page.endswith(
        f"/#/experiments/{trained.experiment_id}/runs/{trained.run_id}?{ML_VIEW_QUERY}"
    )
    page = experiment_page(mlflow_ui, trained.experiment_id)
    text = _visible_text(_chromium(browser, tmp_path / "profile", "--dump-dom", page).stdout)
    run = MlflowClient().get_run(trained.run_id)
    assert "Send your first trace" not in text, text[:2000]
    assert "Run Name" in text and run.info.run_name in text, text[:2000]  # the runs table
    assert run.info.run_name.startswith("campaigns")  # the data file first, not the spec's name
    description = MlflowClient().get_experiment(trained.experiment_id).tags[DESCRIPTION_TAG]
    assert description.split(":")[0] in text, text[:2000]

    listing = _visible_text(
        _chromium(browser, tmp_path / "profile", "--dump-dom", f"{mlflow_ui}/#/experiments").stdout
    )
    assert description.split(":")[0] in listing, listing[:2000]  # not "-"
