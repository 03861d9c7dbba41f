"""Checking one categorical request value against the labels its spec declares.

The check is :class:`engage.contract.profiles.CategoryCheck` (the one the CLI, the batch job
and the MLflow pyfunc use too); the API's refusals say where every label is listed,
``GET /v1/schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

from engage.contract.profiles import SHOWN_VALUES, json_forms
from engage.contract.profiles import CategoryCheck as _CategoryCheck

#: where the API's caller reads every allowed value
API_LISTED = "GET /v1/schema lists them"

__all__ = ["API_LISTED", "SHOWN_VALUES", "CategoryCheck", "json_forms"]


class CategoryCheck(_CategoryCheck):
    """:class:`engage.contract.profiles.CategoryCheck` whose messages point at ``GET /v1/schema``."""

    def __init__(self, labels: Sequence[str]) -> None:
        super().__init__(labels, API_LISTED)
