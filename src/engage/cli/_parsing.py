"""The help shape every ``engage`` parser shares: defaults shown, examples kept as written."""

from __future__ import annotations

import argparse
import textwrap


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help as written (examples keep their lines), each option's default shown.

    An option whose default is a real value gets ``(default: VALUE)`` appended; one whose default
    is None (meaning "the setting's default") must say its effective default in its own help
    text, as ``(default: ...)``, since "None" would tell the reader nothing.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # prose lines are wrapped; indented lines (examples) and headings are kept as written
        lines = []
        for line in text.splitlines():
            if line.startswith(" ") or line.endswith(":") or not line:
                lines.append(indent + line)
            else:
                lines.append(
                    textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent)
                )
        return "\n".join(lines)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "default" in text
            or action.default in (None, argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        if action.required:
            return text
        default = (
            "off" if action.default is False else "on" if action.default is True else "%(default)s"
        )
        return f"{text} (default: {default})".strip()


class EngageParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with :class:`HelpFormatter`: every subcommand's parser (those
    of the command modules too) shows defaults and keeps its examples' lines."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


def examples(*lines: str) -> str:
    """An epilog of example command lines (one to three), as every command's help ends."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def train_default(name: str) -> str:
    """``(default: VALUE, or ENGAGE_TRAIN_NAME)``: the effective default of a training setting."""
    from engage.training.settings import ENV_PREFIX, TrainSettings

    value = TrainSettings.model_fields[name].default
    shown = (
        "off"
        if value is False
        else "on"
        if value is True
        else f"{value:,}"
        if isinstance(value, int)
        else value
    )
    return f"(default: {shown}, or {ENV_PREFIX}{name.upper()})"


def add_model_choice(p: argparse.ArgumentParser, uri_help: str, spec_help: str) -> None:
    """``--model-uri`` or ``--spec`` (at most one): which model a command uses."""
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model-uri", dest="model_uri", default=None, help=uri_help)
    which.add_argument("--spec", default=None, help=spec_help)
