"""The layer map: every per-layer metric on one layer axis, CI bands, per-language curves, the bottleneck marked."""

from __future__ import annotations

import math

import pandas as pd

from .style import INTERACTIVE, OKABE_ITO, apply_style, band_colour, below_plot, language_colours

# Each panel: the aggregate metrics drawn with CI bands, and the metrics also drawn per language.
PANELS = (
    ("Silhouette (cosine)", ("sil_meaning", "sil_language", "lasa"), ()),
    ("Language-ID probe accuracy", ("probe_acc", "probe_control"), ()),
    ("Unbiased CKA to {pivot}", ("cka", "cka_baseline"), ("cka",)),
    ("Retrieval {pivot}→x, top-1", ("retrieval",), ("retrieval",)),
)
LABELS = {
    "sil_meaning": "silhouette by meaning", "sil_language": "silhouette by language",
    "lasa": "LASA score (meaning − language)", "probe_acc": "probe accuracy",
    "probe_control": "probe, shuffled labels", "cka": "mean over languages", "cka_baseline": "CKA, shuffled pairs",
    "retrieval": "mean over languages",
}
COLOURS = {
    "sil_meaning": OKABE_ITO[2], "sil_language": OKABE_ITO[1], "lasa": OKABE_ITO[0], "probe_acc": OKABE_ITO[3],
    "probe_control": "#888888", "cka": "#000000", "cka_baseline": "#888888", "retrieval": "#000000",
}
READOUT = (("lasa", "LASA"), ("probe_acc", "probe"), ("cka", "CKA"), ("retrieval", "retrieval"))


def _hover(part: pd.DataFrame) -> list[str]:
    """Exact values, with the 95% CI where there is one."""
    return [
        f"{v:.3f}" if math.isnan(lo) else f"{v:.3f} (95% CI {lo:.3f} to {hi:.3f})"
        for v, lo, hi in zip(part["value"], part["ci_low"], part["ci_high"])
    ]


def languages_of(result) -> list[str]:
    """The result's languages in their data order (as in the projections), so every figure colours them alike."""
    present = [lang for lang in dict.fromkeys(result.metrics["lang"]) if lang != "all"]
    ordered = [lang for lang in result.info.get("languages", []) if lang in present]
    return ordered + [lang for lang in present if lang not in ordered]


def _readout(overall: pd.DataFrame, layer: int) -> str:
    """The aggregate values at ``layer``, for the layer slider."""
    at = overall[overall["layer"] == layer].set_index("metric")
    depth = at["depth"].iloc[0]
    values = [f"{label} {at.at[name, 'value']:.3f}" for name, label in READOUT if name in at.index]
    return f"layer {layer} ({depth:.0%} depth): " + " · ".join(values)


def layer_map(result, languages: bool = True) -> "go.Figure":  # noqa: F821
    """Plotly layer map of ``result.metrics`` (a :class:`~lasa_interp.BottleneckResult`).

    Up to four panels on one layer axis, those the result has metrics for: silhouettes by
    meaning and by language and the LASA score; the language-ID probe and its shuffled-label
    control; unbiased CKA to the pivot; pivot→language retrieval. CKA and retrieval are also
    drawn per language (``languages=False``: means only). 95% CI bands where the metric has
    them, exact values on hover, the bottleneck marked. On screen: buttons and legend entries
    toggle languages, a layer slider reads out every aggregate value at one layer.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    metrics: pd.DataFrame = result.metrics
    pivot = result.info.get("pivot", "en")
    overall = metrics[metrics["lang"] == "all"]
    langs = languages_of(result)
    colours = language_colours(langs, pivot)
    present = set(overall["metric"])
    panels = [(title.format(pivot=pivot), agg, per) for title, agg, per in PANELS if present & set(agg)]
    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=[title for title, _, _ in panels])
    per_language: list[int] = []  # trace indices the language buttons toggle
    shown_langs: set[str] = set()
    for row, (_, aggregate, per) in enumerate(panels, start=1):
        for name in per if languages else ():
            for lang in langs:
                part = metrics[(metrics["metric"] == name) & (metrics["lang"] == lang)].sort_values("layer")
                if part.empty:
                    continue
                per_language.append(len(fig.data))
                fig.add_trace(go.Scatter(
                    x=part["layer"], y=part["value"], name=lang, legend="legend2", legendgroup=f"lang-{lang}",
                    showlegend=lang not in shown_langs, line=dict(color=colours[lang], width=1.2),
                    text=_hover(part), hovertemplate="%{text}",
                ), row=row, col=1)
                shown_langs.add(lang)
        for name in aggregate:
            part = overall[overall["metric"] == name].sort_values("layer")
            if part.empty:
                continue
            colour = COLOURS[name]
            if part["ci_low"].notna().any():
                fig.add_trace(go.Scatter(
                    x=list(part["layer"]) + list(part["layer"])[::-1],
                    y=list(part["ci_high"]) + list(part["ci_low"])[::-1],
                    fill="toself", fillcolor=band_colour(colour), line=dict(width=0), hoverinfo="skip",
                    showlegend=False, legendgroup=name,
                ), row=row, col=1)
            dotted = name in ("probe_control", "cka_baseline")
            fig.add_trace(go.Scatter(
                x=part["layer"], y=part["value"], name=LABELS[name], legendgroup=name,
                showlegend=name != "retrieval" or "cka" not in present,
                line=dict(color=colour, width=2.6 if name in ("lasa", "cka", "retrieval") else 1.8,
                          dash="dot" if dotted else None),
                text=_hover(part), hovertemplate="%{text}",
            ), row=row, col=1)
    fig.update_xaxes(title=dict(text="layer (output of decoder block)", font_size=13), row=len(panels), col=1, dtick=2)
    fig.update_yaxes(zeroline=True, zerolinecolor="#bbbbbb")
    fig.update_annotations(font_size=13)  # the panel titles
    fig.update_layout(title=dict(
        text=str(result.info.get("model", "")),
        subtitle_text=f"bottleneck at layer {result.layer} ({result.depth:.0%} depth), "
                      f"stability {result.stability:.0%}",
    ))
    # Below the axes, in pixels: axis title, metric legend, language legend (+ buttons), slider.
    widgets = 110 if per_language else 80
    bottom = 200 if per_language else 140
    apply_style(fig, height=180 * len(panels) + 80 + bottom + widgets, margin=dict(t=80, b=bottom + widgets))
    fig.update_layout(
        legend=dict(y=below_plot(fig, 40), x=0, tracegroupgap=0),
        legend2=dict(y=below_plot(fig, 134), orientation="h", yanchor="top", x=0, itemwidth=30, font=dict(size=12)),
        meta={"print": {"height": fig.layout.height - widgets, "margin": {"b": bottom}}},
    )
    _mark_bottleneck(fig, result, len(panels))
    _add_layer_slider(fig, overall, result.layer, top=below_plot(fig, bottom + 24))
    if per_language:
        _add_language_buttons(fig, per_language, top=below_plot(fig, bottom - 8))
    return fig


def _mark_bottleneck(fig, result, rows: int) -> None:
    """A dashed line at the bottleneck in every panel, labelled in the first."""
    for row in range(1, rows + 1):
        fig.add_vline(x=result.layer, line=dict(color="#555555", dash="dash", width=1.2), row=row, col=1)
    fig.add_annotation(
        x=result.layer, y=1, xref="x", yref="y domain", text=f"bottleneck {result.layer}", showarrow=False,
        xanchor="left", yanchor="top", xshift=3, font=dict(size=11, color="#555555"),
    )


def _add_layer_slider(fig, overall: pd.DataFrame, start: int, top: float) -> None:
    """A cursor across all panels and a readout of the aggregate values, moved by a layer slider."""
    layers = sorted(overall["layer"].unique())
    fig.add_shape(type="line", x0=start, x1=start, y0=0, y1=1, xref="x", yref="paper", name=INTERACTIVE,
                  line=dict(color="rgba(0,0,0,0.35)", width=6))
    fig.add_annotation(text=_readout(overall, start), x=0, y=top, xref="paper", yref="paper", xanchor="left",
                       yanchor="bottom", showarrow=False, name=INTERACTIVE, font=dict(size=12))
    shape, note = len(fig.layout.shapes) - 1, len(fig.layout.annotations) - 1
    steps = [dict(
        label=str(layer), method="relayout",
        args=[{f"shapes[{shape}].x0": layer, f"shapes[{shape}].x1": layer,
               f"annotations[{note}].text": _readout(overall, layer)}],
    ) for layer in layers]
    fig.update_layout(sliders=[dict(
        active=layers.index(start), steps=steps, x=0, len=1, y=top, yanchor="top", pad=dict(t=0, b=0),
        currentvalue=dict(visible=False), font=dict(size=9),
    )])


def _add_language_buttons(fig, traces: list[int], top: float) -> None:
    """Buttons that show or hide every per-language curve (legend entries toggle single languages)."""
    fig.update_layout(updatemenus=[dict(
        type="buttons", direction="left", x=1, xanchor="right", y=top, yanchor="bottom", pad=dict(t=0, b=0),
        showactive=False, font=dict(size=11),
        buttons=[
            dict(label="all languages", method="restyle", args=[{"visible": True}, traces]),
            dict(label="means only", method="restyle", args=[{"visible": "legendonly"}, traces]),
        ],
    )])
