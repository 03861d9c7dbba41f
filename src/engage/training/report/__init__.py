"""A report per training run that a marketer can read: one self-contained HTML page (and a
PNG picture of it) saying what the model recommends for which profiles, what it is expected
to gain with 95% intervals, what the data could not support, and what the data was.

Training's side: it computes the run's facts from its own results into one record
(:class:`~engage.reporting.RunFacts`) and hands it to :mod:`engage.reporting`, which lays it out.

Modules: ``inputs`` (what a report is built from), ``build`` (the facts, and
:func:`build_report`), ``headline``, ``gains``, ``segments``, ``support``, ``quality`` (each
one part of the facts), ``wording`` (the spec's things in words), ``artifacts`` (logging the
page and its picture to MLflow).
"""

from engage.reporting import Report, RunFacts
from engage.training.report.artifacts import log_report
from engage.training.report.build import build_report, gather_facts
from engage.training.report.inputs import ReportInputs

__all__ = [
    "Report",
    "ReportInputs",
    "RunFacts",
    "build_report",
    "gather_facts",
    "log_report",
]
