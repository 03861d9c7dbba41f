"""Small HTML builders; every piece of text passes through :func:`esc` on its way in.

Spec descriptions, category values and validation messages come from the user's files, so
nothing the report shows is trusted as markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from engage.training.report.gains import Gain
from engage.training.report.headline import interval_words
from engage.training.report.wording import decimals, number

_CHIP_CLASS = {"better": "better", "worse": "worse", "no clear difference": "unclear"}


def esc(text: object) -> str:
    """``text`` as HTML text (quotes too, so it is safe in attributes)."""
    return html.escape(str(text), quote=True)


def paragraphs(sentences: Iterable[str]) -> str:
    """Each sentence as an escaped ``<p>``."""
    return "".join(f"<p>{esc(s)}</p>" for s in sentences)


def bullets(items: Iterable[str], cls: str) -> str:
    """An escaped list in a box of class ``cls``; empty when there are no items."""
    lis = "".join(f"<li>{esc(i)}</li>" for i in items)
    return f'<div class="{cls}"><ul>{lis}</ul></div>' if lis else ""


def table(
    headers: Sequence[tuple[str, str]], rows: Iterable[tuple[str, Sequence[str]]], cls: str = ""
) -> str:
    """A table of class ``cls``; ``headers`` are (text, css class), ``rows`` (row class, cells).

    Header text is escaped here; cells must already be HTML (built with :func:`esc`).
    """
    head = "".join(f'<th class="{c}">{esc(h)}</th>' for h, c in headers)
    body = "".join(
        f'<tr class="{rc}">'
        + "".join(
            f'<td class="{c}">{cell}</td>' for (_, c), cell in zip(headers, cells, strict=True)
        )
        + "</tr>"
        for rc, cells in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def chip(verdict: str) -> str:
    """A coloured badge for a verdict: better, worse, no clear difference."""
    return f'<span class="chip {_CHIP_CLASS.get(verdict, "unclear")}">{esc(verdict)}</span>'


def gain_card(label: str, gain: Gain, unit: str, note: str) -> str:
    """A headline number: a gain, its unit, its interval and its verdict."""
    places = decimals(gain.value, gain.low, gain.high)
    return (
        f'<div class="card"><div class="label">{esc(label)}</div>'
        f'<div class="big">{esc(number(gain.value, places, signed=True))}</div>'
        f'<div class="unit">{esc(unit)}</div>'
        f'<div class="small">{esc(interval_words(gain))}</div>{chip(gain.verdict)}'
        f'<div class="small">{esc(note)}</div></div>'
    )


def count_card(label: str, value: str, note: str) -> str:
    """A headline count with a note."""
    return (
        f'<div class="card"><div class="label">{esc(label)}</div>'
        f'<div class="big">{esc(value)}</div><div class="small">{esc(note)}</div></div>'
    )


def figure(png_base64: str, alt: str, caption: str) -> str:
    """An embedded PNG (a ``data:`` URI, so the page needs no other file) with a caption."""
    if not png_base64:
        return ""
    return (
        f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{esc(png_base64)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )
