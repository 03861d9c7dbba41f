"""The served OpenAPI document, made to list the served spec's request fields.

The static request models (:mod:`engage.serving.schemas`) carry the profile, objective,
constraints and outcomes as open maps, since their keys depend on the spec;
:func:`document_contract` replaces them with the models of :class:`SpecContract`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from engage.serving.contract import SpecContract

_PARTS = {
    "Profile": "profile_model",
    "Objective": "objective_model",
    "ConstraintSet": "constraints_model",
}


def document_contract(schema: dict[str, Any], contract: SpecContract) -> None:
    """Write the served spec's request parts into an OpenAPI document, in place.

    The static request models carry the profile, objective and constraints as open maps
    (their keys depend on the spec). This replaces them with ``Profile``, ``Objective`` and
    ``ConstraintSet`` components built from ``contract``, the same models the routes validate
    with, so the document lists exactly the fields, keys, types and values the server accepts;
    and it makes the documented examples valid for this spec.

    Args:
        schema: an OpenAPI document from ``fastapi.openapi.utils.get_openapi``.
        contract: the validators of the served model's spec.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, attribute in _PARTS.items():
        model: type[BaseModel] = getattr(contract, attribute)
        part = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(part.pop("$defs", {}))
        components[name] = part
    example = contract.example_profile()
    for request, key in (
        ("RecommendationRequest", "profile"),
        ("BatchRecommendationRequest", "profiles"),
    ):
        properties = components.get(request, {}).get("properties")
        if properties is None:
            continue
        profile = {"$ref": "#/components/schemas/Profile"}
        if key == "profile":
            properties[key] = profile
        else:
            properties[key]["items"] = profile
        for name, part in (("objective", "Objective"), ("constraints", "ConstraintSet")):
            if name in properties:
                properties[name] = {
                    **_described(properties[name]),
                    "anyOf": [{"$ref": f"#/components/schemas/{part}"}, {"type": "null"}],
                }
        for ex in components[request].get("examples", []):
            ex[key] = example if key == "profile" else [example]
            _drop_invalid_parts(ex, contract)
    _document_outcomes(components, contract)


def _outcome_value(kind: str) -> dict[str, Any]:
    """What an outcome of type ``kind`` takes (as ``decisions.store.check_outcomes`` checks)."""
    if kind == "binary":
        return {"enum": [True, False, 0, 1]}
    return {"type": "number"}


def _document_outcomes(components: dict[str, Any], contract: SpecContract) -> None:
    """List the served spec's outcomes as the keys ``POST /v1/outcomes`` takes.

    A decision's outcomes are checked against the spec it was served under; the document
    names the served model's (the same unless the spec changed since)."""
    request = components.get("OutcomesRequest")
    if request is None or "outcomes" not in request.get("properties", {}):
        return
    properties = request["properties"]
    outcomes = contract.spec.outcomes
    properties["outcomes"] = {
        **_described(properties["outcomes"]),
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            o.name: {**_outcome_value(o.type), "description": o.description} for o in outcomes
        },
    }
    names = {o.name for o in outcomes}
    for ex in request.get("examples", []):
        if not set(ex.get("outcomes", {})) <= names:
            first = outcomes[0]
            ex["outcomes"] = {first.name: True if first.type == "binary" else 1.0}


def _described(prop: dict[str, Any] | None) -> dict[str, Any]:
    """Only the description of a documented property (its type is about to be replaced)."""
    return {"description": prop["description"]} if prop and "description" in prop else {}


def _drop_invalid_parts(example: dict[str, Any], contract: SpecContract) -> None:
    """Remove an example's objective or constraints when this spec would refuse them."""
    for name, check in (("objective", contract.objective), ("constraints", contract.constraints)):
        if name in example:
            try:
                check(example[name])
            except ValidationError:
                del example[name]
