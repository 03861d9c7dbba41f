"""Column checks of a campaign log, one module per kind of column or rule.

Each check reads one raw column (or the coerced values of several), records what is wrong
in a :class:`~engage.contract.report.ProblemCollector`, and returns the coerced values, or
None when the whole column is unusable. The checks are vectorised: Python loops run only
over the distinct values of a categorical column or over the bad rows (to build reasons).
"""
