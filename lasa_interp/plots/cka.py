"""CKA heatmaps: each language against the pivot per layer, and every layer against every other."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from ..geometry import cka_matrix, prepare
from .layer_map import languages_of
from .style import SEQUENTIAL, apply_style


def cka_heatmap(result) -> "go.Figure":  # noqa: F821
    """Language x layer heatmap of the unbiased CKA to the pivot in ``result.metrics`` (mean row last)."""
    import plotly.graph_objects as go

    rows: pd.DataFrame = result.metrics[result.metrics["metric"] == "cka"]
    if rows.empty:
        raise ValueError("This result has no CKA rows; run find_bottleneck with 'cka' among its metrics.")
    table = rows.pivot_table(index="lang", columns="layer", values="value")
    table = table.loc[[lang for lang in languages_of(result) if lang in table.index] + ["all"]]
    labels = [lang if lang != "all" else "mean" for lang in table.index]
    pivot = result.info.get("pivot", "en")
    fig = go.Figure(go.Heatmap(
        z=table.to_numpy(), x=list(table.columns), y=labels, colorscale=SEQUENTIAL, zmin=0, zmax=1,
        colorbar=dict(title=dict(text="CKA", side="right"), thickness=12, len=0.9),
        hovertemplate=f"%{{y}} vs {pivot}, layer %{{x}}: %{{z:.3f}}<extra></extra>",
    ))
    _mark_layer(fig, result.layer, "x")
    fig.update_xaxes(title_text="layer (output of decoder block)", dtick=2)
    fig.update_yaxes(title_text="language", autorange="reversed")
    fig.update_layout(title=dict(text=f"Unbiased CKA to {pivot}, per language", subtitle_text=result.info.get("model")))
    return apply_style(fig, height=380, margin=dict(t=72, b=48), hovermode="closest")


def layer_cka_heatmap(
    states: torch.Tensor,
    layers: Sequence[int] | None = None,
    bottleneck: int | None = None,
    preprocess: str = "l2",
    langs: Sequence[str] | None = None,
    title: str = "",
) -> "go.Figure":  # noqa: F821
    """Layer x layer heatmap of unbiased CKA of ``states`` ``[n_layers, n, d]`` (all texts together).

    States are prepared as for the bottleneck metrics (``preprocess``; ``langs`` for
    ``"center_lang"``); ``layers`` label the first axis; ``bottleneck`` draws a cross-hair.
    """
    import plotly.graph_objects as go

    layers = list(range(states.shape[0])) if layers is None else list(layers)
    matrix = cka_matrix(prepare(states, preprocess, langs)).double().numpy()
    fig = go.Figure(go.Heatmap(
        z=np.round(matrix, 4), x=layers, y=layers, colorscale=SEQUENTIAL, zmin=0, zmax=1,
        colorbar=dict(title=dict(text="CKA", side="right"), thickness=12, len=0.9),
        hovertemplate="layers %{y} and %{x}: %{z:.3f}<extra></extra>",
    ))
    if bottleneck is not None:
        _mark_layer(fig, bottleneck, "x")
        _mark_layer(fig, bottleneck, "y")
    fig.update_xaxes(title_text="layer", dtick=2, constrain="domain")
    fig.update_yaxes(title_text="layer", dtick=2, scaleanchor="x", constrain="domain")
    fig.update_layout(title=dict(text="Unbiased CKA between layers", subtitle_text=title))
    return apply_style(fig, height=470, margin=dict(t=72, b=48), hovermode="closest")


def _mark_layer(fig, layer: int, axis: str) -> None:
    """A thin white line at ``layer`` along ``axis``."""
    line = dict(color="white", width=1.5, dash="dash")
    (fig.add_vline if axis == "x" else fig.add_hline)(layer, line=line)
