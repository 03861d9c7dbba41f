"""The import rules of the architecture (pyproject's ``[tool.importlinter]``) hold, and bite.

engage.cli > engage.batch > engage.training | engage.serving > engage.registry | engage.decisions
    > engage.policy > engage.contract
engage.reporting (report, plots, summary): beside registry and decisions, under training;
    never imported by serving or batch scoring
engage.simulation: never imported by production code
engage.ope: imports nothing else from engage
mlflow: never in the runtime core; serving and batch reach it only through engage.registry
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import engage

REPO = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else None
    return subprocess.run(
        [str(LINT), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )


def test_every_import_contract_is_kept():
    result = _lint()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "7 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("serving/app.py", "import engage.training.models", "cli > training | serving"),
        ("training/valuer.py", "import engage.serving.errors", "cli > training | serving"),
        (
            "ope/estimators.py",
            "import engage.contract.spec",
            "estimators import nothing else from engage",
        ),
        ("policy/scoring.py", "import mlflow", "runtime core has no tracking client"),
        ("training/models.py", "import engage.simulation.world", "never imports the simulator"),
        ("contract/spec.py", "import engage.policy.encoding", "cli > training | serving"),
        ("registry/servable.py", "import engage.serving.errors", "cli > training | serving"),
        ("registry/store.py", "import engage.decisions.store", "cli > training | serving"),
        ("serving/model.py", "import mlflow", "reach MLflow only through engage.registry"),
        ("decisions/store.py", "import engage.registry", "runtime core has no tracking client"),
        ("reporting/page.py", "import engage.training.settings", "cli > training | serving"),
        (
            "serving/app.py",
            "import engage.reporting.summary",
            "serving needs none of the training-only",
        ),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, broken):
    copy = tmp_path / "engage"
    shutil.copytree(
        Path(engage.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__")
    )
    target = copy / module
    if not target.exists():  # the module moved: any module of that sub-package will do
        target = next((copy / module.split("/")[0]).glob("*.py"))
    target.write_text(target.read_text() + f"\n{line}  # probe\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert broken in result.stdout.split("Broken contracts", 1)[-1]
