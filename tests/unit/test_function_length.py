"""No function in ``src/engage`` is longer than 80 lines, and no module longer than 400
(issue #27): split a longer one into named steps, or a module by what its parts are about."""

from __future__ import annotations

import ast
from pathlib import Path

import engage

MAX_LINES = 80
SRC = Path(engage.__file__).resolve().parent


def _lengths() -> dict[str, int]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                where = f"{path.relative_to(SRC).as_posix()}:{node.lineno} {node.name}"
                out[where] = node.end_lineno - node.lineno + 1
    return out


def test_no_function_is_over_80_lines() -> None:
    lengths = _lengths()
    assert lengths  # the package was found
    too_long = {where: n for where, n in lengths.items() if n > MAX_LINES}
    assert not too_long, f"functions over {MAX_LINES} lines: {too_long}"


MAX_MODULE_LINES = 400


def test_no_module_is_over_400_lines() -> None:
    """Issue #27: a module over 400 lines is split by what its parts are about."""
    sizes = {
        path.relative_to(SRC).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted(SRC.rglob("*.py"))
    }
    too_long = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"
