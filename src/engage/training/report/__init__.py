"""A report per training run that a marketer can read: one self-contained HTML page (and a
PNG picture of it) saying what the model recommends for which profiles, what it is expected
to gain with 95% intervals, what the data could not support, and what the data was.

Modules: ``inputs`` (what a report is built from, and the report), ``build`` (the facts, and
:func:`build_report`), ``headline``, ``gains``, ``segments``, ``support``, ``quality`` (each
one part of the facts), ``wording`` (labels, units, numbers), ``figures``, ``markup``,
``theme`` and ``page`` (the HTML), ``render`` (the PNG), ``artifacts`` (logging to MLflow).
"""

from engage.training.report.artifacts import log_report
from engage.training.report.build import ReportFacts, build_report, gather_facts
from engage.training.report.inputs import Report, ReportInputs
from engage.training.report.render import render_png

__all__ = [
    "Report",
    "ReportFacts",
    "ReportInputs",
    "build_report",
    "gather_facts",
    "log_report",
    "render_png",
]
