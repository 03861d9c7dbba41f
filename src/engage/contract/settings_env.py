"""Refuse unknown prefixed environment variables of a settings class.

pydantic-settings reads ``<PREFIX><FIELD>`` variables and silently ignores any other variable
that carries the prefix, so ``ENGAGE_TRAIN_TRAILS=9`` (a typo of ``TRIALS``) would change
nothing and say nothing. Both processes' settings call :func:`reject_unknown_variables` from
a model validator. It lives in ``contract`` because training and serving may both import it
without importing each other.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping


def unknown_variables(
    prefix: str, fields: Iterable[str], environ: Mapping[str, str] | None = None
) -> tuple[list[str], list[str]]:
    """The environment variables with ``prefix`` that name no field, and the known names.

    Args:
        prefix: the settings class's ``env_prefix``, e.g. ``"ENGAGE_TRAIN_"``.
        fields: the class's field names.
        environ: the environment to check (``os.environ`` by default).

    Returns:
        ``(unknown, known)``, both sorted; names are compared upper-cased because
        pydantic-settings matches them case-insensitively.
    """
    prefix = prefix.upper()
    env = os.environ if environ is None else environ
    known = sorted(f"{prefix}{name.upper()}" for name in fields)
    unknown = sorted(k for k in env if k.upper().startswith(prefix) and k.upper() not in known)
    return unknown, known


def reject_unknown_variables(
    prefix: str, fields: Iterable[str], environ: Mapping[str, str] | None = None
) -> None:
    """Raise when a ``prefix`` variable names no field (see :func:`unknown_variables`).

    Raises:
        ValueError: naming every unknown variable and listing the known ones.
    """
    unknown, known = unknown_variables(prefix, fields, environ)
    if unknown:
        raise ValueError(f"unknown setting variable(s) {unknown}; known: {known}")
