"""The runtime policy: encoding, candidate actions, scoring, ranking, explanation, artifact."""

# The model artifact's format version (``engage.policy.artifact``): it changes whenever a field
# of the artifact is added, removed or changes meaning. Runs and model versions are tagged
# with it as ``schema_version``.
FORMAT_VERSION = 4
SCHEMA_VERSION = str(FORMAT_VERSION)
