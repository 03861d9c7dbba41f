"""The decision store's tests (tests/unit/decisions/test_decision_store.py) on a real PostgreSQL
server started for the session (tests/postgres.py); skipped, saying why, where it cannot be."""

from __future__ import annotations

import itertools

import pytest

from tests.postgres import create_database
from tests.unit.decisions.test_decision_store import (  # noqa: F401 - collected here too
    store,  # noqa: F401 - the fixture
    test_a_record_comes_back_as_written,
    test_a_second_different_value_is_a_conflict_naming_the_outcome,
    test_binary_outcomes_take_booleans_or_0_and_1,
    test_invalid_outcomes_are_refused_naming_the_field,
    test_migrations_take_an_empty_database_to_head_once,
    test_partial_outcomes_merge_and_identical_repeats_change_nothing,
    test_unknown_decision_is_named,
    test_window_and_export_in_the_specs_format,
    test_writing_a_decision_again_neither_duplicates_nor_fails,
)

pytestmark = pytest.mark.slow
_numbers = itertools.count()


@pytest.fixture
def store_url(postgres_server) -> str:
    """A fresh database per test, so each starts from an empty schema."""
    return create_database(postgres_server, f"decisions_{next(_numbers)}")
