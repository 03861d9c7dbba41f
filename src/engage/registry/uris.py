"""The grammar of registered-model URIs, in one place: ``models:/NAME@ALIAS``,
``models:/NAME/VERSION`` (a logged model is ``models:/m-<id>``; MLflow resolves all of them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_EXACT = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))$")
_NAMED = re.compile(r"^models:/(?P<name>[^/@]+)[/@]")


@dataclass(frozen=True)
class RegisteredUri:
    """A ``models:/NAME@ALIAS`` (``alias`` set) or ``models:/NAME/VERSION`` (``version`` set)."""

    name: str
    alias: str | None = None
    version: str | None = None


def parse_registered_uri(uri: str) -> RegisteredUri | None:
    """The parts of an alias or pinned-version URI, else None."""
    m = _EXACT.match(uri)
    return None if m is None else RegisteredUri(m["name"], m["alias"], m["version"])


def registered_name(uri: str) -> str | None:
    """The registered model a ``models:/NAME/...`` or ``models:/NAME@...`` URI names, else None
    (a directory, ``runs:/``, a logged model ``models:/m-<id>``)."""
    m = _NAMED.match(uri)
    return m["name"] if m else None
