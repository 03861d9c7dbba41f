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
# two of three alternatives, four of its factors listed), so the OpenAPI page shows a
# realistic response.
EXAMPLE_RECOMMENDATIONS: list[dict[str, Any]] = [
    {
        "rank": 1,
        "style": "broadcast",
        "posting_mix": {
            "promotional": 0.37,
            "educational": 0.11,
            "conversational": 0.05,
            "visual": 0.38,
            "curated": 0.09,
        },
        "decisions": {"posts_per_week": 7.0},
        "predicted": {
            "conversions": {
                "mean": 8.73,
                "low": 3.26,
                "high": 14.21,
                "unit": "conversions per 1,000 followers",
            },
            "engagement_rate": {
                "mean": 3.03,
                "low": 0.9,
                "high": 5.15,
                "unit": "% engagement rate",
            },
            "follower_growth": {
                "mean": 5.62,
                "low": 1.61,
                "high": 9.63,
                "unit": "% follower growth",
            },
            "retention_30d": {
                "mean": 40.52,
                "low": 18.4,
                "high": 62.65,
                "unit": "% of new followers retained after 30 days",
            },
        },
        "score": 10.15,
        "model_score": 10.15,
        "predicted_objective": 10.25,
        "support_discount": 0.1,
        "lift_vs_typical": 0.12,
        "support": {
            "propensity": 0.839,
            "level": "good",
            "within_support": True,
            "similar_campaigns": 16,
        },
        "candidate_index": 0,
        "basis": "personalized",
        "decision_labels": {},
        "probability": 1.0,
    },
    {
        "rank": 2,
        "style": "thought_leadership",
        "posting_mix": {
            "promotional": 0.12,
            "educational": 0.49,
            "conversational": 0.1,
            "visual": 0.17,
            "curated": 0.12,
        },
        "decisions": {"posts_per_week": 6.8},
        "predicted": {
            "conversions": {
                "mean": 7.96,
                "low": 2.49,
                "high": 13.43,
                "unit": "conversions per 1,000 followers",
            },
            "engagement_rate": {
                "mean": 3.15,
                "low": 0.93,
                "high": 5.37,
                "unit": "% engagement rate",
            },
            "follower_growth": {
                "mean": 6.25,
                "low": 2.29,
                "high": 10.2,
                "unit": "% follower growth",
            },
            "retention_30d": {
                "mean": 50.66,
                "low": 27.91,
                "high": 73.42,
                "unit": "% of new followers retained after 30 days",
            },
        },
        "score": 9.03,
        "model_score": 9.03,
        "predicted_objective": 9.53,
        "support_discount": 0.51,
        "lift_vs_typical": -0.6,
        "support": {
            "propensity": 0.033,
            "level": "limited",
            "within_support": True,
            "similar_campaigns": 20,
        },
        "candidate_index": 59,
        "basis": "personalized",
        "decision_labels": {},
        "probability": None,
    },
]
EXAMPLE_EXPLANATION: dict[str, Any] = {
    "chosen_style": "broadcast",
    "runner_up_style": "thought_leadership",
    "score_difference": 1.12,
    "contributions_sum": 1.12,
    "factors": [
        {
            "feature": "support",
            "value": None,
            "runner_up_value": None,
            "contribution": 0.41,
            "sentence": "The log holds more campaigns like this with broadcast than with thought leadership, so the broadcast estimate is surer; the less certain thought leadership estimate is discounted by 0.41 points more.",
        },
        {
            "feature": "goal",
            "value": "sales",
            "runner_up_value": None,
            "contribution": 0.37,
            "sentence": "Campaign goal (sales) favours broadcast over thought leadership by 0.37 points.",
        },
        {
            "feature": "mix_promotional",
            "value": 0.37,
            "runner_up_value": 0.12,
            "contribution": 0.22,
            "sentence": "A promotional share of 37% instead of 12% of posts adds 0.22 points.",
        },
        {
            "feature": "mix_educational",
            "value": 0.11,
            "runner_up_value": 0.49,
            "contribution": 0.14,
            "sentence": "A educational share of 11% instead of 49% of posts adds 0.14 points.",
        },
    ],
    "other_factors": -0.02,
    "summary": "For this business, broadcast scores 1.12 points above thought leadership (8.7 against 8 conversions per 1,000 followers, 3 against 3.1 % engagement rate).",
    "other_factors_count": 17,
    "other_factors_sentence": "17 smaller factors together add -0.02 points.",
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
EXAMPLE_SCORE_UNIT = "points: 1 × conversions per 1,000 followers + 0.5 × % engagement rate"
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
