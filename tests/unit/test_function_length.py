"""No function in ``src/engage`` is longer than 80 lines (issue #27): split a longer one into
named steps."""

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
