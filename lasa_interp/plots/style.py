"""One colour-blind-safe style (Okabe-Ito) for every lasa_interp figure."""

from __future__ import annotations

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]


def band_colour(hex_colour: str, alpha: float = 0.18) -> str:
    """``rgba`` of a hex colour, for CI bands."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def apply_style(fig, width: int = 720, height: int = 520):
    """Paper-friendly defaults: white background, readable fonts, legend on top."""
    fig.update_layout(
        template="plotly_white", width=width, height=height, font=dict(size=13),
        legend=dict(orientation="h", yanchor="top", y=-0.12, x=0), margin=dict(l=60, r=20, t=60, b=40),
        hovermode="x unified",
    )
    return fig
