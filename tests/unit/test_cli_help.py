"""Every command of ``engage`` documents every option with its default and ends with examples.

Walks the real parser, command modules (``engage.cli.<command>``) included, so a command added
later without help text or examples fails here.
"""

from __future__ import annotations

import argparse
import re
import shlex

import pytest

from engage.cli import build_parser


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"engage": parser, **sub.choices}


COMMANDS = _commands()


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if a.option_strings and not isinstance(a, argparse._HelpAction | argparse._VersionAction)
    ]


def test_there_are_commands_to_check() -> None:
    assert {"simulate", "validate", "train", "serve", "export-model", "recommend"} <= set(COMMANDS)


def _shown(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """An option's help as ``--help`` shows it, unwrapped."""
    return parser._get_formatter()._expand_help(action)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_has_help_with_its_default(name: str) -> None:
    parser = COMMANDS[name]
    for action in _options(parser):
        flag = f"{name} {action.option_strings[0]}"
        assert action.help and action.help.strip(), f"{flag} has no help"
        text = _shown(parser, action)
        assert "(default: " in text or "required" in text, f"{flag}: {text!r}"
        assert "default: None" not in text, f"{flag}: {text!r}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_ends_with_one_to_three_examples(name: str) -> None:
    text = COMMANDS[name].format_help()
    assert "\nexamples:\n" in text, f"{name} --help has no examples"
    lines = text.split("\nexamples:\n", 1)[1].rstrip().splitlines()
    assert 1 <= len(lines) <= 3, lines
    command = "" if name == "engage" else f" {name}"
    for line in lines:
        assert line.startswith("  engage" + command), line  # kept on its own line, not re-wrapped


def _help_of(command: str, flag: str) -> str:
    parser = COMMANDS[command]
    return _shown(parser, next(a for a in _options(parser) if flag in a.option_strings))


def test_defaults_shown_are_the_real_settings() -> None:
    from engage.serving.settings import DEFAULT_MODEL_URI, ServeSettings
    from engage.training.settings import TrainSettings

    trials = TrainSettings.model_fields["trials"].default
    assert f"(default: {trials}, or ENGAGE_TRAIN_TRIALS)" in _help_of("train", "--trials")
    pessimism = TrainSettings.model_fields["pessimism"].default
    assert f"(default: {pessimism}, or ENGAGE_TRAIN_PESSIMISM)" in _help_of("train", "--pessimism")
    assert "(default: off, or ENGAGE_TRAIN_FORCE)" in _help_of("train", "--force")
    port = ServeSettings.model_fields["port"].default
    assert f"(default: {port}, or ENGAGE_SERVE_PORT)" in _help_of("serve", "--port")
    for command in ("serve", "export-model", "recommend"):
        assert DEFAULT_MODEL_URI in _help_of(command, "--model-uri")
    assert _help_of("simulate", "--rows").endswith("(default: 20000)")
    assert _help_of("recommend", "--top-k").endswith("(default: 3)")


def _readme_command_lines() -> list[str]:
    """The ``engage`` command lines of the README and of every documentation page."""
    from tests.conftest import REPO

    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    text = "\n".join(page.read_text() for page in pages)
    lines = []
    for kind, block in re.findall(r"```(\w*)\n(.*?)```", text, re.S):  # any fence, so pairs stay
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if kind != "bash" and not line.startswith("$ "):
                continue  # output, layouts: only a bash block or a "$ " line is a command
            line = line.removeprefix("$ ")
            if line.startswith("engage "):
                lines.append(line)
    return lines


def test_the_readme_command_lines_parse() -> None:
    lines = _readme_command_lines()
    for command in (
        "engage recommend",
        "engage train",
        "engage simulate",
        "engage decisions export",
    ):
        assert any(line.startswith(command) for line in lines), command
    parser = build_parser()
    for line in lines:
        parser.parse_args(
            shlex.split(line, comments=True)[1:]
        )  # exits (fails the test) on a bad option


def test_every_train_flag_is_a_training_setting() -> None:
    # settings_from_flags leaves out what is not a setting: a flag whose setting was renamed
    # would silently do nothing
    from engage.training.settings import TrainSettings

    dests = {a.dest for a in _options(COMMANDS["train"])}
    assert dests <= set(TrainSettings.model_fields), dests - set(TrainSettings.model_fields)


def test_the_first_commands_are_listed_in_the_order_a_newcomer_uses_them() -> None:
    assert list(COMMANDS)[1:6] == ["simulate", "validate", "train", "serve", "export-model"]
