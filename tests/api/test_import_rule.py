"""Architecture rule: ``serving`` may import ``features`` and MLflow, never ``training``."""

from __future__ import annotations

import ast
from pathlib import Path

SERVING = Path(__file__).resolve().parents[2] / "serving"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_serving_never_imports_training():
    files = sorted(SERVING.rglob("*.py"))
    assert len(files) >= 5
    offenders = {
        f"{path.relative_to(SERVING.parent)}: {name}"
        for path in files
        for name in imported_modules(path)
        if name == "training" or name.startswith("training.")
    }
    assert not offenders, f"serving must not import training: {sorted(offenders)}"


def test_the_rule_sees_both_import_forms(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import training.pipeline\nfrom training import cli\nfrom features import spec\n"
    )
    assert imported_modules(probe) == {"training.pipeline", "training", "features"}
