"""The contract shared by training and serving: spec, validation, features, candidates."""

SCHEMA_VERSION = "1"
