"""The run report as a browser draws it: headless Chromium renders the page of a small run to
a PNG that has the page's width, a report's height and is not blank. Skipped, with the reason,
only when no Chromium is installed."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest

from engage.reporting import render_png
from engage.reporting.render import WIDTH, find_browser
from engage.training.report import build_report
from tests.small_run import small_run_inputs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> str:
    found = find_browser()
    if found is None:
        pytest.skip(
            "no Chromium installed (apt-get install chromium): the report's picture is not rendered"
        )
    return found


def test_report_renders_to_a_full_non_blank_picture(browser, tmp_path) -> None:
    report = build_report(
        small_run_inputs(objective={"conversions": 1.0}, ship="personalized"), n_boot=50
    )
    page = report.write(tmp_path / "report.html")
    png = render_png(page, tmp_path / "report.png", browser=browser)
    assert png == (tmp_path / "report.png").resolve() and png.stat().st_size > 50_000
    img = mpimg.imread(png)[..., :3]
    height, width = img.shape[:2]
    assert width == WIDTH
    assert 2_000 < height < 6_000  # trimmed to the content: a whole report, not the window
    assert img.std() > 0.05  # text, tables and figures, not a blank page
    rows = np.abs(img - img[0, 0]).max(axis=(1, 2)) > 0.1
    assert (
        rows[: height // 2].mean() > 0.3 and rows[height // 2 :].mean() > 0.3
    )  # content all the way down
    # the figures arrived: the policy-value plot's estimator colours are on the page
    dr_pink = np.array([0xE7, 0x29, 0x8A]) / 255
    assert (np.abs(img - dr_pink).max(axis=2) < 0.05).sum() > 20


def test_log_report_logs_the_page_and_its_picture_with_the_run(browser, mlflow_store) -> None:
    import mlflow
    from mlflow import MlflowClient

    from engage.training.report import log_report

    mlflow.set_experiment("engage-tests")
    with mlflow.start_run() as run:
        report = log_report(
            small_run_inputs(objective={"conversions": 1.0}, ship="personalized"), picture=True
        )
    artifacts = {a.path for a in MlflowClient().list_artifacts(run.info.run_id, "report")}
    assert artifacts == {"report/report.html", "report/report.png"}
    assert report.headline.startswith("The model tailors its plan to each profile")
