"""Examples the API documents: a request profile and realistic answers (OpenAPI examples)."""

from __future__ import annotations

from typing import Any

# A niche consumer-products maker with a short sales cycle, in the simulated world's terms.
EXAMPLE_PROFILE: dict[str, Any] = {
    "industry": "niche_consumer",
    "market": "b2c",
    "employees": 12,
    "innovation": 0.7,
    "shareability": 0.8,
    "sales_cycle_days": 3,
    "price_point": 35,
    "audience_tech_savviness": 0.55,
    "followers": 4200,
    "service_load": 0.3,
    "team_hours": 12,
    "goal": "sales",
    "ad_budget": 500,
}
EXAMPLE_OBJECTIVE = {"conversions": 1.0, "engagement_rate": 0.5}
EXAMPLE_CONSTRAINTS = {"max_posts_per_week": 10, "max_share_promotional": 0.5}


# ---------------------------------------------------------------------------- response examples

# The fixture policy's answer to the example request above (tests/fixtures/policy, rounded,
# two of three alternatives), so the OpenAPI page shows a realistic response.
EXAMPLE_RECOMMENDATIONS: list[dict[str, Any]] = [
    {
        "rank": 1,
        "style": "broadcast",
        "posting_mix": {
            "promotional": 0.38,
            "educational": 0.11,
            "conversational": 0.08,
            "visual": 0.19,
            "curated": 0.24,
        },
        "decisions": {"posts_per_week": 7.4},
        "predicted": {
            "conversions": {"mean": 10.76, "low": 5.71, "high": 15.8, "unit": ""},
            "engagement_rate": {"mean": 3.17, "low": 0.78, "high": 5.56, "unit": ""},
        },
        "score": 12.27,
        "predicted_objective": 12.34,
        "support_discount": 0.08,
        "lift_vs_typical": 0.14,
        "support": {"propensity": 0.91, "level": "good", "within_support": True},
        "basis": "personalized",
        "decision_labels": {},
        "probability": 1.0,
    },
    {
        "rank": 2,
        "style": "community",
        "posting_mix": {
            "promotional": 0.23,
            "educational": 0.11,
            "conversational": 0.17,
            "visual": 0.37,
            "curated": 0.12,
        },
        "decisions": {"posts_per_week": 4.7},
        "predicted": {
            "conversions": {"mean": 9.38, "low": 4.34, "high": 14.43, "unit": ""},
            "engagement_rate": {"mean": 4.86, "low": 2.47, "high": 7.25, "unit": ""},
        },
        "score": 11.32,
        "predicted_objective": 11.81,
        "support_discount": 0.49,
        "lift_vs_typical": -0.39,
        "support": {"propensity": 0.023, "level": "limited", "within_support": True},
        "basis": "personalized",
        "decision_labels": {},
        "probability": None,
    },
]
EXAMPLE_EXPLANATION: dict[str, Any] = {
    "chosen_style": "broadcast",
    "runner_up_style": "community",
    "score_difference": 0.95,
    "contributions_sum": 0.95,
    "factors": [
        {
            "feature": "mix_promotional",
            "value": 0.38,
            "runner_up_value": 0.23,
            "contribution": 0.66,
            "sentence": "A promotional share of 38% instead of 23% of posts adds 0.66 points.",
        },
        {
            "feature": "support",
            "value": None,
            "runner_up_value": None,
            "contribution": 0.41,
            "sentence": "The log holds more campaigns like this with broadcast than with community, "
            "so the broadcast estimate is surer; the less certain community estimate is "
            "discounted by 0.41 points more.",
        },
        {
            "feature": "sales_cycle_days",
            "value": 3.0,
            "runner_up_value": None,
            "contribution": 0.29,
            "sentence": "Sales cycle (3) favours broadcast over community by 0.29 points.",
        },
        {
            "feature": "style",
            "value": "broadcast",
            "runner_up_value": "community",
            "contribution": -0.51,
            "sentence": "For this business, broadcast itself is worth -0.51 points against community.",
        },
    ],
    "other_factors": 0.1,
    "summary": "For this business, broadcast scores 0.95 points above community (10.8 against "
    "9.4 conversions, 3.2 against 4.9 engagement rate).",
    "other_factors_count": 17,
    "other_factors_sentence": "17 smaller factors together add 0.10 points.",
}
EXAMPLE_POLICY: dict[str, Any] = {
    "mode": "personalized",
    "note": "Recommendations are personalised to the profile and ranked by their score.",
    "fallback": None,
}
EXAMPLE_MODEL: dict[str, Any] = {
    "name": "engage-simulated_world",
    "version": "2",
    "run_id": "3f1c2a9b8d7e4f60a1b2c3d4e5f60718",
    "uri": "models:/engage-simulated_world@champion",
}
EXAMPLE_SCORE_UNIT = "points: 1 × conversions + 0.5 × engagement rate"
EXAMPLE_MODEL_INFO: dict[str, Any] = {
    **EXAMPLE_MODEL,
    "loaded_at": "2026-11-30T18:10:37+00:00",
    "trained_at": "2026-11-30T16:17:22+00:00",
    "spec_name": "simulated_world",
    "spec_fingerprint": "c88de1be943cbc84",
    "policy": EXAMPLE_POLICY,
    "decision": "personalised DR value beats the best constant by 0.881 "
    "(95% interval 0.326 to 1.433)",
    "metrics": {
        "policy.personalized": 1.0,
        "policy.dr_gain_vs_constant": 0.881,
        "policy.dr_gain_vs_constant_low": 0.326,
        "policy.dr_gain_vs_constant_high": 1.433,
    },
    "following_alias": True,
    "last_reload": {
        "at": "2026-11-30T18:10:37+00:00",
        "ok": True,
        "trigger": "startup",
        "uri": "models:/engage-simulated_world@champion",
        "version": "2",
        "error": None,
    },
}
EXAMPLE_DECISION_ID = "7d0b6c1e-3f4a-4e8b-9a51-2c6f0d9e8b17"
EXAMPLE_ITEM: dict[str, Any] = {
    "decision_id": EXAMPLE_DECISION_ID,
    "recommendations": EXAMPLE_RECOMMENDATIONS,
    "explanation": EXAMPLE_EXPLANATION,
    "policy": EXAMPLE_POLICY,
    "score_unit": EXAMPLE_SCORE_UNIT,
}
EXAMPLE_EXPLORATION: dict[str, Any] = {"method": "epsilon", "epsilon": 0.1}
# Outcomes of the decision above, posted later (several posts merge).
EXAMPLE_OUTCOMES_REQUEST: dict[str, Any] = {
    "decision_id": EXAMPLE_DECISION_ID,
    "outcomes": {"conversions": 11.2, "engagement_rate": 3.4},
    "observed_at": "2026-12-28T09:00:00Z",
}
EXAMPLE_OUTCOMES_RESPONSE: dict[str, Any] = {
    "decision_id": EXAMPLE_DECISION_ID,
    "outcomes": {"conversions": 11.2, "engagement_rate": 3.4},
    "added": ["conversions", "engagement_rate"],
    "missing": ["follower_growth", "retention_30d"],
    "complete": False,
}
