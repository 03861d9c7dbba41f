"""How values and counts are written in validation messages."""

from __future__ import annotations

import numpy as np
import pytest

from engage.contract.messages import (
    bounds_text,
    examples,
    format_id,
    format_value,
    plural,
    rows_have,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "True"),
        (np.False_, "False"),
        (3, "3"),
        (np.int32(-2), "-2"),
        (61.0, "61"),
        (1 / 3, "0.333333"),
        (np.float32(0.25), "0.25"),
        (1e16, "1e+16"),  # past 1e15 the integer digits would be float noise
        (float("inf"), "inf"),
        (float("nan"), "nan"),
        ("abc", "'abc'"),
        (None, "None"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_format_id_always_quotes():
    assert format_id("c-1") == "'c-1'"
    assert format_id(17) == "'17'"
    assert format_id(17.0) == "'17'"


def test_examples_are_distinct_and_limited():
    assert examples([1.0, 1, "a", "a", 2.5]) == "1, 'a', 2.5"
    assert examples(range(10), limit=3) == "0, 1, 2"
    assert examples([]) == ""


def test_counts():
    assert plural(1, "row") == "1 row" and plural(0, "row") == "0 rows"
    assert rows_have(1) == "1 row has" and rows_have(2) == "2 rows have"


def test_bounds_text():
    assert bounds_text(1, 60) == "[1, 60]"
    assert bounds_text(None, 0.5) == "[-inf, 0.5]"
    assert bounds_text(0, None) == "[0, inf]"


def test_shown_names_cut_long_names_and_long_lists_saying_how_much():
    from engage.contract.messages import shown_names

    assert shown_names(["a", "b"]) == "'a', 'b'"
    assert shown_names(["x" * 100], max_chars=10) == "'xxxxxxxxxx'… (+90 characters)"
    assert shown_names([f"c{i}" for i in range(25)], limit=3) == "'c0', 'c1', 'c2' and 22 more"
    assert shown_names(["new\nline"]) == "'new\\nline'"  # no forged console or log line


def test_validate_echoes_a_huge_header_bounded(tmp_path, capsys):
    from engage.cli import main

    names = [f"{i}-" + "n" * 1000 for i in range(900)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join("1" * 900) + "\n")
    assert main(["validate", "--data", str(path), "--quarantine", str(tmp_path / "q.csv")]) == 1
    out, err = capsys.readouterr()
    assert len(out + err) < 10_000, len(out + err)
    assert "and 890 more" in out
    assert "(+" in out and "characters)" in out


def test_a_long_cell_value_is_cut_in_messages():
    from engage.contract.messages import examples, format_value

    assert format_value("v" * 1000) == f"{'v' * 80!r}… (+920 characters)"
    assert len(examples(["x" * 60_000 + str(i) for i in range(5)])) < 1000


def test_counted_words_a_count_for_the_command_line() -> None:
    from engage.contract.messages import counted

    assert counted(1, "decision") == "1 decision"
    assert counted(0, "decision") == "0 decisions"
    assert counted(12000, "decision") == "12,000 decisions"
    assert counted(2, "reply", "replies") == "2 replies"
    assert counted(1, "reply", "replies") == "1 reply"
