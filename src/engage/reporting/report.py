"""A rendered run report: the page of a :class:`~engage.reporting.record.RunFacts`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engage.reporting.page import render_page
from engage.reporting.record import RunFacts


@dataclass(frozen=True)
class Report:
    """A rendered run report.

    Attributes:
        title: the page title.
        headline: the report's opening sentences as plain text (for a model description).
        html: the whole self-contained page (inline CSS, figures as base64 PNG).
    """

    title: str
    headline: str
    html: str

    def write(self, path: str | Path) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.html, encoding="utf-8")
        return out


def render_report(facts: RunFacts) -> Report:
    """The report of ``facts``: title, plain-text headline and self-contained HTML."""
    return Report(title=facts.title, headline=" ".join(facts.headline), html=render_page(facts))
