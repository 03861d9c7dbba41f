"""The campaign-log contract: the spec, its readers and validation, one category canonicaliser."""
