"""A PNG picture of a report page, taken by headless Chromium.

Rendering is optional: without a Chromium binary (or when it fails or times out) the function
logs why and returns None, and the run keeps its HTML report. The browser runs with a fresh
profile directory and without network features (the page needs none: it is self-contained).
The window is tall; the screenshot is then trimmed to the page's content, so one picture
holds the whole report.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")
WIDTH = 1200
MAX_HEIGHT = 6000
TIMEOUT_S = 120.0
_MARGIN = 24  # pixels of background kept below the content
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_browser() -> str | None:
    """The first Chromium-like browser on this machine, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_png(
    html_path: str | Path,
    png_path: str | Path,
    *,
    browser: str | None = None,
    width: int = WIDTH,
    max_height: int = MAX_HEIGHT,
    timeout_s: float = TIMEOUT_S,
) -> Path | None:
    """Screenshot ``html_path`` to ``png_path`` with headless Chromium.

    Args:
        html_path: the report page.
        png_path: where to write the picture.
        browser: the browser binary (None: the first of :data:`BROWSERS` found).
        width: window width in pixels.
        max_height: window height; the picture is trimmed to the content below it.
        timeout_s: how long the browser may take.

    Returns:
        ``png_path``, or None when no picture could be taken (the reason is logged).
    """
    binary = browser or find_browser()
    if binary is None or shutil.which(binary) is None:
        log.warning(
            "report picture skipped: no Chromium browser found (tried %s)", ", ".join(BROWSERS)
        )
        return None
    html, png = Path(html_path).resolve(), Path(png_path).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)  # a stale picture must not pass for a new one
    with tempfile.TemporaryDirectory(prefix="engage-chromium-") as profile:
        cmd = [
            binary,
            *_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={width},{max_height}",
            html.as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("report picture skipped: %s could not render the page (%s)", binary, exc)
            return None
    if done.returncode != 0 or not png.exists():
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        log.warning("report picture skipped: %s exited %s (%s)", binary, done.returncode, tail[0])
        return None
    trim_background(png)
    return png


def trim_background(png: Path) -> None:
    """Cut the rows of plain background below the page's content (keeps a small margin).

    A picture whose last row is not background was cut by the window; it is kept whole and
    a warning says so.
    """
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    background = img[-1]
    differs = np.flatnonzero(np.abs(img - background).max(axis=(1, 2)) > 1e-3)
    if len(differs) == 0:
        return
    last = int(differs[-1])
    if last >= img.shape[0] - 2:
        log.warning("report picture may be cut: the page is taller than %d px", img.shape[0])
        return
    mpimg.imsave(png, img[: min(img.shape[0], last + 1 + _MARGIN)])
