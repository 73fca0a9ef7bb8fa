"""Write figures: interactive HTML and figure JSON, and static PNG/PDF through kaleido and Chrome/Chromium."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from .style import for_print

FORMATS = ("html", "json", "png", "pdf")
DEFAULT_FORMATS = ("html", "png", "pdf")
STATIC = ("png", "pdf")
# Flags for a browser on a machine without network or display.
HEADLESS_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update",
)


class BrowserNotFoundError(RuntimeError):
    """Static export (PNG, PDF, screenshots) needs a Chrome or Chromium binary."""


def find_browser() -> str | None:
    """The Chrome/Chromium binary kaleido would use (``$BROWSER_PATH``, else one on ``PATH``), if it runs."""
    from choreographer.browsers.chromium import Chromium

    path = Chromium.find_browser(skip_local=False)
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


def require_browser() -> str:
    """:func:`find_browser`, or a :class:`BrowserNotFoundError` that says how to get one."""
    path = find_browser()
    if path is None:
        raise BrowserNotFoundError(
            "Static export (PNG/PDF) needs Chrome or Chromium, and none was found"
            + (f" at BROWSER_PATH={os.environ['BROWSER_PATH']}" if os.environ.get("BROWSER_PATH") else " on PATH")
            + ". Install one (Debian/Ubuntu: `apt-get install chromium`) or point BROWSER_PATH at its binary; "
            "HTML export works without it (formats=('html',); `lasa-interp figures --formats html`)."
        )
    return path


def write_figures(
    figures: Mapping[str | Path, "go.Figure"],  # noqa: F821
    formats: Sequence[str] = DEFAULT_FORMATS,
    include_plotlyjs: bool | str = "cdn",
    scale: float = 2,
) -> list[Path]:
    """Write each ``{stem: figure}`` to ``stem.html``/``.json`` (as is) and ``stem.png``/``.pdf`` (:func:`for_print`).

    ``include_plotlyjs="cdn"`` keeps the HTML small but needs network to view; ``True``
    inlines plotly.js (works offline). Static formats raise :class:`BrowserNotFoundError`
    without a browser, before anything is written; they are rendered in one kaleido session.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"Unknown formats {unknown}; choose from {FORMATS}.")
    if set(formats) & set(STATIC):
        require_browser()
    paths, static = [], []
    for stem, fig in figures.items():
        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            path = stem.with_suffix(f".{fmt}")
            if fmt == "html":
                fig.write_html(path, include_plotlyjs=include_plotlyjs, full_html=True, div_id=stem.name)
            elif fmt == "json":
                path.write_text(fig.to_json(pretty=False))
            else:
                static.append((for_print(fig), path))
            paths.append(path)
    if static:
        _write_static(static, scale)
    return paths


def write_figure(fig, stem: str | Path, formats: Sequence[str] = DEFAULT_FORMATS, **kwargs) -> list[Path]:
    """:func:`write_figures` for one figure."""
    return write_figures({stem: fig}, formats, **kwargs)


def _write_static(pairs: list[tuple["go.Figure", Path]], scale: float, attempts: int = 3) -> None:  # noqa: F821
    import plotly.io as pio

    for attempt in range(1, attempts + 1):
        try:
            pio.write_images(
                [fig for fig, _ in pairs], [path for _, path in pairs], scale=scale,
                width=[fig.layout.width for fig, _ in pairs], height=[fig.layout.height for fig, _ in pairs],
            )
            return
        except RuntimeError as exc:  # on a loaded machine kaleido can query its page before the page's script runs
            if attempt == attempts:
                raise RuntimeError(f"Static export through kaleido failed {attempts} times: {exc}") from exc


def screenshot(fig, path: str | Path, timeout: float = 60) -> Path:
    """A headless-Chromium screenshot of ``fig``'s interactive HTML page (plotly.js inlined, so no network)."""
    browser = require_browser()
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = int(fig.layout.width or 800) + 16, int(fig.layout.height or 600) + 16
    with tempfile.TemporaryDirectory(prefix="lasa-shot-") as tmp:
        page = Path(tmp) / "figure.html"
        fig.write_html(page, include_plotlyjs=True, full_html=True)
        command = [
            browser, *HEADLESS_FLAGS, "--hide-scrollbars", f"--user-data-dir={tmp}/profile",
            f"--window-size={width},{height}", "--virtual-time-budget=5000", f"--screenshot={path}", page.as_uri(),
        ]
        run = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if run.returncode != 0 or not path.is_file():
        raise RuntimeError(f"{browser} could not take a screenshot (exit {run.returncode}): {run.stderr[-2000:]}")
    return path
