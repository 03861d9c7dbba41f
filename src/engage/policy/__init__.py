"""The runtime policy: encoding, candidate actions, scoring, ranking, explanation, artifact."""

# The model artifact's format version (``engage.policy.artifact``): it changes whenever a field
# of the artifact is added, removed or changes meaning. Runs and model versions are tagged
# with it as ``schema_version``. 5: ``mode`` may be ``"logging"`` (serve the logging
# distribution), which an engage reading format 4 would have served as a personalised policy.
FORMAT_VERSION = 5
SCHEMA_VERSION = str(FORMAT_VERSION)
