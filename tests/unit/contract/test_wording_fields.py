"""The spec's wording fields: optional, checked, and invisible to a spec that does not use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from engage.contract.spec import CampaignSpec, CategoricalColumn, NumericColumn, Outcome, load_spec

REPO = Path(__file__).resolve().parents[3]
FACEBOOK = REPO / "examples" / "facebook_metrics.yaml"
STORED_SPEC = REPO / "tests" / "fixtures" / "spec_before_wording.json"


def test_labels_are_keyed_like_the_values_they_name() -> None:
    col = CategoricalColumn.model_validate(
        yaml.safe_load(
            "{name: Category, type: categorical, values: [1, 2, 3], labels: {1: action, 2.0: product}}"
        )
    )
    assert col.labels == {"1": "action", "2": "product"}
    assert [col.label(v) for v in (1, "2", 3.0)] == ["action", "product", "3"]


def test_a_label_for_a_value_the_column_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match=r"labels for values it does not have: \['4'\]"):
        CategoricalColumn(name="Category", values=["1", "2"], labels={"4": "other"})


def test_wording_fields_default_to_nothing_and_are_not_dumped() -> None:
    assert NumericColumn(name="x").unit == "" and Outcome(name="y").unit == ""
    assert "unit" not in NumericColumn(name="x").model_dump()
    assert "labels" not in CategoricalColumn(name="c", values=["a"]).model_dump()
    spec = load_spec()
    assert (spec.row_noun, spec.subject_noun) == ("campaign", "business")
    assert "row_noun" not in spec.model_dump()  # written out in simulated.yaml, at its default


def test_a_spec_stored_before_the_wording_fields_reads_and_dumps_as_before() -> None:
    """A spec as artifacts of engage 0.1 stored it: no wording fields; it loads and
    round-trips unchanged."""
    stored = json.loads(STORED_SPEC.read_text())
    spec = CampaignSpec.model_validate(stored)
    assert spec.model_dump(mode="json") == stored
    assert all(getattr(c, "unit", "") == "" for c in spec.context)


def test_the_shipped_specs_declare_units_labels_and_nouns() -> None:
    simulated = load_spec()
    assert all(o.unit for o in simulated.outcomes)
    assert simulated.column("sales_cycle_days").unit == "days"
    facebook = load_spec(FACEBOOK)
    assert (facebook.row_noun, facebook.subject_noun) == ("post", "brand")
    assert all(o.unit for o in facebook.outcomes)
    category = facebook.column("Category")
    assert isinstance(category, CategoricalColumn)
    assert [category.label(v) for v in category.values] == [
        "action (special offers and contests)",
        "product (direct advertisement)",
        "inspiration (brand-related, not explicit)",
    ]


@pytest.mark.parametrize("field", ["row_noun", "subject_noun"])
def test_an_empty_noun_is_refused(tmp_path, field) -> None:
    raw = yaml.safe_load(FACEBOOK.read_text())
    raw[field] = ""
    with pytest.raises(ValueError, match=field):
        CampaignSpec.model_validate(raw)
