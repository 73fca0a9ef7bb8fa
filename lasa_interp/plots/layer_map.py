"""The layer map: every per-layer metric on one shared layer axis, CI bands, the bottleneck marked."""

from __future__ import annotations

import pandas as pd

from .style import OKABE_ITO, apply_style, band_colour

PANELS = {
    "Silhouette (cosine)": ["sil_meaning", "sil_language", "lasa"],
    "Language probe / retrieval / CKA": ["probe_acc", "probe_control", "retrieval", "cka", "cka_baseline"],
}
LABELS = {
    "sil_meaning": "silhouette by meaning", "sil_language": "silhouette by language", "lasa": "LASA score (meaning − language)",
    "probe_acc": "language-ID probe accuracy", "probe_control": "probe, shuffled labels", "retrieval": "pivot→x retrieval",
    "cka": "unbiased CKA to pivot", "cka_baseline": "CKA, shuffled pairs",
}


def layer_map(result) -> "go.Figure":  # noqa: F821
    """A two-panel Plotly figure of ``result.metrics`` (lang == "all") with the bottleneck layer marked."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    overall: pd.DataFrame = result.metrics[result.metrics["lang"] == "all"]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, subplot_titles=list(PANELS))
    colour = iter(OKABE_ITO * 2)
    for row, names in enumerate(PANELS.values(), start=1):
        for name in names:
            part = overall[overall["metric"] == name].sort_values("layer")
            if part.empty:
                continue
            c = next(colour)
            if part["ci_low"].notna().any():
                fig.add_trace(go.Scatter(
                    x=list(part["layer"]) + list(part["layer"])[::-1],
                    y=list(part["ci_high"]) + list(part["ci_low"])[::-1],
                    fill="toself", fillcolor=band_colour(c), line=dict(width=0), hoverinfo="skip",
                    showlegend=False, legendgroup=name,
                ), row=row, col=1)
            fig.add_trace(go.Scatter(
                x=part["layer"], y=part["value"], name=LABELS.get(name, name), legendgroup=name,
                line=dict(color=c, width=2.5 if name == "lasa" else 1.8, dash="dot" if "control" in name or "baseline" in name else None),
                customdata=part[["ci_low", "ci_high", "depth"]].to_numpy(),
                hovertemplate="%{y:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}] depth %{customdata[2]:.0%}",
            ), row=row, col=1)
    marker = dict(x=result.layer, line=dict(color="#555", dash="dash"), col=1)
    fig.add_vline(**marker, row=1, annotation_text=f"bottleneck: layer {result.layer} ({result.depth:.0%})",
                  annotation_position="bottom right")
    fig.add_vline(**marker, row=2)
    fig.update_xaxes(title_text="layer (output of decoder block)", row=2, col=1)
    fig.update_layout(title=f"{result.info.get('model', '')} — criterion {result.criterion!r}, "
                            f"stability {result.stability:.0%}")
    return apply_style(fig, height=720)
