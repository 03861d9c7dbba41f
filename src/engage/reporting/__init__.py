"""Reporting: the run report, its plots and the console summary, drawn from the run's facts.

Training assembles one typed record of what a run found (:class:`RunFacts`) and hands it over;
nothing here reaches back into training, serving or the CLI.

Modules: ``record`` (the record and its parts), ``wording`` (numbers, shares, intervals),
``page`` (the HTML, from the Jinja2 templates in ``templates/``), ``figures`` (the page's
embedded figures), ``plots`` (the run's diagnostic figures), ``metrics`` (the R² they show),
``report`` (:func:`render_report`), ``render`` (the PNG picture of a page), ``summary`` (the
console summary of ``engage train``).
"""

from engage.reporting.record import RunFacts
from engage.reporting.render import render_png
from engage.reporting.report import Report, render_report

__all__ = ["Report", "RunFacts", "render_png", "render_report"]
