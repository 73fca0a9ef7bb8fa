"""One colour-blind-safe style for every lasa_interp figure, sized for a single paper column."""

from __future__ import annotations

from typing import Sequence

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
# Paul Tol's "muted" scheme: nine colours, distinct under common colour-vision deficiencies.
TOL_MUTED = ["#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "triangle-down", "cross", "star", "pentagon", "hexagon"]
SEQUENTIAL = "Viridis"
PIVOT_COLOUR = "#000000"
WIDTH = 480  # px; at a 3.5 in column a 13 px font prints at about 7 pt (PNG at scale 2: about 270 dpi)
INTERACTIVE = "interactive"  # name of shapes and annotations that only make sense on screen


def band_colour(hex_colour: str, alpha: float = 0.18) -> str:
    """``rgba`` of a hex colour, for CI bands."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def language_colours(langs: Sequence[str], pivot: str | None = "en") -> dict[str, str]:
    """A fixed colour per language: black for the pivot, Tol's muted colours (cycled) for the others."""
    others = [lang for lang in langs if lang != pivot]
    colours = {lang: TOL_MUTED[k % len(TOL_MUTED)] for k, lang in enumerate(others)}
    return {lang: PIVOT_COLOUR if lang == pivot else colours[lang] for lang in langs}


def apply_style(fig, width: int = WIDTH, height: int = 480, margin: dict | None = None, hovermode: str = "x unified"):
    """Paper-friendly defaults: white background, fonts readable at single-column width, legend below."""
    fig.update_layout(
        template="plotly_white", width=width, height=height, font=dict(size=13, family="Arial, sans-serif"),
        title=dict(font=dict(size=14), x=0.01, xanchor="left", y=1 - 8 / height, yanchor="top"),
        legend=dict(orientation="h", yanchor="top", x=0, font=dict(size=12)),
        margin=dict(l=52, r=14, t=64, b=40) | (margin or {}), hovermode=hovermode,
    )
    return fig


def below_plot(fig, px: float) -> float:
    """The paper ``y`` that lies ``px`` pixels below the plotting area (for legends and sliders under the axes)."""
    area = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    return -px / area


def for_print(fig):
    """A copy without what only works on screen (sliders, buttons, shapes/annotations named ``INTERACTIVE``).

    Layout changes the figure keeps in ``layout.meta["print"]`` (e.g. a smaller bottom margin
    once the slider is gone) are applied too.
    """
    import plotly.graph_objects as go

    out = go.Figure(fig)
    out.layout.shapes = [s for s in out.layout.shapes if s.name != INTERACTIVE]
    out.layout.annotations = [a for a in out.layout.annotations if a.name != INTERACTIVE]
    out.layout.sliders, out.layout.updatemenus = (), ()
    out.update_layout((out.layout.meta or {}).get("print", {}))
    return out
