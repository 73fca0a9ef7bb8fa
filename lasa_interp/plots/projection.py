"""The projection explorer: 2-D UMAP or PCA of pooled states, one layer at a time on a slider."""

from __future__ import annotations

import textwrap
import warnings
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from ..geometry import prepare
from .style import SEQUENTIAL, SYMBOLS, apply_style, below_plot, language_colours

METHODS = ("umap", "pca")
COLOR_BY = ("lang", "item")


def project(
    states: torch.Tensor, method: str = "umap", seed: int = 0, preprocess: str = "l2",
    langs: Sequence[str] | None = None, n_neighbors: int = 15,
) -> tuple[np.ndarray, list[str]]:
    """2-D coordinates ``[n_layers, n, 2]`` of each layer's prepared states, centred and scaled to fill [-1, 1].

    Also a note per layer (PCA: the variance the two components explain). Deterministic for a
    given ``seed`` (UMAP then runs single-threaded; PCA has no randomness).
    """
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose from {METHODS}.")
    x = prepare(states, preprocess, langs).double()
    if method == "pca":
        xy, ratio = _pca(x)
        notes = ["PC1 {:.0%}, PC2 {:.0%} of variance".format(*r) for r in ratio]
    else:
        k = min(n_neighbors, x.shape[1] - 1)
        xy = np.stack([_umap(layer.numpy(), seed, k) for layer in x]).astype(np.float64)
        notes = [f"{k} neighbours"] * len(x)
    low, high = xy.min(1, keepdims=True), xy.max(1, keepdims=True)
    half = np.maximum((high - low).max(2, keepdims=True) / 2, 1e-12)  # one scale for both axes: shapes kept
    return np.round((xy - (low + high) / 2) / half, 3), notes  # 3 decimals: finer than a pixel, and compact HTML


def _pca(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Top-two principal coordinates ``[n_layers, n, 2]`` and their variance ratios, from each layer's Gram matrix.

    Signs are fixed so that each component's largest-magnitude coordinate is positive. The
    eigendecomposition runs in float32 (ample for a plot, and many times faster than float64).
    """
    x = x - x.mean(1, keepdim=True)
    values, vectors = torch.linalg.eigh((x @ x.mT).float())  # ascending eigenvalues
    top = vectors[..., [-1, -2]] * values[:, None, [-1, -2]].clamp_min(0).sqrt()
    top = top * torch.sign(top.gather(1, top.abs().argmax(1, keepdim=True)))
    ratio = values[:, [-1, -2]] / values.clamp_min(0).sum(-1, keepdim=True)
    return top.double().numpy(), ratio.double().numpy()


def _umap(x: np.ndarray, seed: int, n_neighbors: int) -> np.ndarray:
    try:
        import umap
    except ImportError as exc:
        raise ImportError("UMAP projections need umap-learn: pip install 'lasa-interp[plots]'.") from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden to 1 by setting random_state": intended
        return umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=0.1, random_state=seed).fit_transform(x)


def _hover_text(text: str, width: int = 60, max_chars: int = 240) -> str:
    """A text shortened and wrapped for a hover box."""
    short = text if len(text) <= max_chars else text[: max_chars - 1] + "…"
    return "<br>".join(textwrap.wrap(short, width)) or "(empty)"


def projection_explorer(
    cache,
    method: str = "umap",
    pooling: str = "last",
    color_by: str = "lang",
    bottleneck: int | None = None,
    seed: int = 0,
    preprocess: str = "l2",
    pivot: str | None = "en",
    title: str = "",
) -> "go.Figure":  # noqa: F821
    """Explore an :class:`~lasa_interp.ActivationCache` (``meta`` with ``lang``; ``item_id`` for item colours).

    One 2-D projection (``method`` ``"umap"`` or ``"pca"``) per cached layer, shown one at a
    time by a layer slider that starts at ``bottleneck`` (default: the middle layer). Points
    are coloured by language or by item (``color_by``; buttons switch), one legend entry per
    language, the text on hover. Deterministic for a given ``seed``.
    """
    import plotly.graph_objects as go

    if color_by not in COLOR_BY:
        raise ValueError(f"color_by must be one of {COLOR_BY}, got {color_by!r}.")
    meta: pd.DataFrame = cache.meta
    if "lang" not in meta:
        raise ValueError("The cache's meta needs a 'lang' column (cache_activations(..., meta=...) or a DataFrame).")
    layers = list(cache.layers)
    start = layers.index(bottleneck) if bottleneck in layers else len(layers) // 2
    langs = meta["lang"].astype(str).to_numpy()
    coords, notes = project(cache[pooling], method, seed, preprocess, langs)
    items = meta["item_id"] if "item_id" in meta else pd.Series(np.arange(len(meta)))
    item_codes = pd.factorize(items, sort=True)[0]
    names = list(dict.fromkeys(langs))
    colours = language_colours(names, pivot)
    groups = [np.flatnonzero(langs == lang) for lang in names]
    hover = meta["text"].map(_hover_text).to_numpy() if "text" in meta else np.full(len(meta), "")
    fig = go.Figure()
    for k, (lang, rows) in enumerate(zip(names, groups)):
        fig.add_trace(go.Scatter(
            x=coords[start, rows, 0], y=coords[start, rows, 1], mode="markers", name=lang,
            marker=dict(size=6, symbol=SYMBOLS[k % len(SYMBOLS)], color=colours[lang], opacity=0.85,
                        line=dict(width=0.4, color="white"), colorscale=SEQUENTIAL, cmin=0,
                        cmax=max(item_codes.max(), 1)),
            customdata=np.column_stack([hover[rows], langs[rows], items.to_numpy()[rows]]),
            hovertemplate="%{customdata[0]}<br><b>%{customdata[1]}</b> · item %{customdata[2]}<extra></extra>",
        ))
    by_lang = [colours[lang] for lang in names]
    by_item = [item_codes[rows] for rows in groups]
    if color_by == "item":
        for trace, colour in zip(fig.data, by_item):
            trace.marker.color = colour
    label = "UMAP" if method == "umap" else "PCA"
    prefix = f"{title} · " if title else ""
    subtitle = [f"{prefix}layer {layer}{' (bottleneck)' if layer == bottleneck else ''} · {note}"
                for layer, note in zip(layers, notes)]
    axis = dict(range=[-1.08, 1.08], showticklabels=False, showgrid=False, zeroline=False, showline=True,
                mirror=True, linecolor="#cccccc")
    fig.update_layout(
        title=dict(text=f"{label} of {pooling}-token states", subtitle_text=subtitle[start]),
        xaxis=axis, yaxis=axis | dict(scaleanchor="x"),
    )
    apply_style(fig, height=704, margin=dict(t=72, b=180, l=14), hovermode="closest")
    fig.update_layout(
        legend=dict(y=below_plot(fig, 14), itemsizing="constant"),
        meta={"print": {"height": 594, "margin": {"b": 70}}},
        sliders=[dict(
            active=start, x=0, len=1, y=below_plot(fig, 96), yanchor="top", pad=dict(t=0, b=0), font=dict(size=9),
            currentvalue=dict(prefix="layer ", font=dict(size=12)),
            steps=[dict(label=str(layer), method="update", args=[
                {axis: [coords[k, rows, j].tolist() for rows in groups] for j, axis in enumerate("xy")},
                {"title.subtitle.text": subtitle[k]},
            ]) for k, layer in enumerate(layers)],
        )],
        updatemenus=[dict(
            type="buttons", direction="left", x=1, xanchor="right", y=below_plot(fig, 60), yanchor="top", pad=dict(t=0),
            showactive=True, active=COLOR_BY.index(color_by), font=dict(size=11),
            buttons=[
                dict(label="colour: language", method="restyle", args=[{"marker.color": by_lang}]),
                dict(label="colour: item", method="restyle", args=[{"marker.color": by_item}]),
            ],
        )],
    )
    return fig
