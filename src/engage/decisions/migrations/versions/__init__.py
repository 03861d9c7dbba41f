"""Schema revisions of the decision store, oldest first."""
