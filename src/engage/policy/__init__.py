"""The runtime policy: encoding, candidate actions, scoring, ranking, explanation, artifact."""

SCHEMA_VERSION = "1"
