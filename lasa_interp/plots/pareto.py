"""The steering trade-off: refusal on harmful against over-refusal on harmless prompts, per language, Pareto front drawn."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from ..data.languages import LANGUAGES, language_name
from .style import OKABE_ITO, SYMBOLS, apply_style

MODE_COLOURS = {"add": OKABE_ITO[1], "conditional": OKABE_ITO[0], "clamp": OKABE_ITO[3], "ablate": OKABE_ITO[2]}
BASELINE_COLOUR = "#000000"
LABELS = {
    "refusal_rate": "refusal on harmful prompts", "over_refusal": "over-refusal on harmless prompts",
    "refusal_score": "first-token refusal score, harmful", "over_refusal_score": "first-token refusal score, harmless",
    "asr": "attack success rate (unsafe share)", "other_rate": "other replies on harmful prompts",
}
NEEDED = ("layer", "alpha", "mode", "lang", "metric", "value")


def pareto_front(x: Sequence[float], y: Sequence[float]) -> np.ndarray:
    """Boolean mask of the points no other point dominates (dominating = ``x`` no higher and ``y`` no lower, one strictly).

    Lower ``x`` (over-refusal) and higher ``y`` (refusal on harmful) are better; NaN points are never on the front.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-d and of one length; got shapes {x.shape} and {y.shape}.")
    ok = ~(np.isnan(x) | np.isnan(y))
    no_worse = (x[None, :] <= x[:, None]) & (y[None, :] >= y[:, None]) & ok[None, :]
    better = (x[None, :] < x[:, None]) | (y[None, :] > y[:, None])
    return ok & ~(no_worse & better).any(axis=1)


def _points(frame: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """One row per (language, setting) with ``x``/``y`` values and their CIs (languages lacking either are dropped)."""
    keys = ["lang", "layer", "alpha", "mode"]
    cols = ["value"] + [c for c in ("ci_low", "ci_high", "n") if c in frame.columns]
    x_part, y_part = (
        frame.loc[frame["metric"] == metric, keys + cols].rename(columns={c: f"{axis}_{c}" for c in cols})
        for axis, metric in (("x", x), ("y", y))
    )
    return x_part.merge(y_part, on=keys, how="inner")  # merge pairs NA keys (baseline layer, ablate alpha) too


def _hover(points: pd.DataFrame, x: str, y: str) -> list[str]:
    def value(axis: str, row) -> str:
        low, high = row.get(f"{axis}_ci_low", math.nan), row.get(f"{axis}_ci_high", math.nan)
        ci = "" if pd.isna(low) else f" (95% CI {low:.2f} to {high:.2f})"
        n = f", n={row[f'{axis}_n']}" if f"{axis}_n" in row else ""
        return f"{row[f'{axis}_value']:.3f}{ci}{n}"

    texts = []
    for _, row in points.iterrows():
        setting = (
            "no intervention" if pd.isna(row["layer"])
            else f"layer {row['layer']} · α {'–' if pd.isna(row['alpha']) else f'{row.alpha:g}'} · {row['mode']}"
        )
        texts.append(f"{setting}<br>{LABELS.get(y, y)}: {value('y', row)}<br>{LABELS.get(x, x)}: {value('x', row)}")
    return texts


def _language_label(lang: str) -> str:
    return "all languages" if lang == "all" else f"{lang} ({language_name(lang)})" if lang in LANGUAGES else lang


def pareto_plot(
    sweep_frame: pd.DataFrame, lang: str | None = None, x: str = "over_refusal", y: str = "refusal_rate", title: str = ""
) -> "go.Figure":  # noqa: F821
    """Plotly view of a :func:`~lasa_interp.evaluate.sweep` frame: ``y`` (refusal on harmful) against ``x`` (over-refusal).

    One point per setting (layer, α, mode; colour = mode, symbol = layer), exact values and CIs
    on hover, the setting without intervention as a black star, and the Pareto front (settings
    no other beats on both axes, the baseline included) as a step line. ``lang``: one language
    (or ``"all"``, every prompt pooled); ``None`` draws every language that has both metrics,
    with buttons to switch between them (``all`` shown first). With the first-token scorer,
    ``x="over_refusal_score", y="refusal_score"`` plots the mean scores instead of rates.
    """
    import plotly.graph_objects as go

    missing = [c for c in NEEDED if c not in sweep_frame.columns]
    if missing:
        raise ValueError(f"The sweep frame lacks columns {missing}; pass the output of lasa_interp.evaluate.sweep.")
    absent = [m for m in (x, y) if m not in set(sweep_frame["metric"])]
    if absent:
        raise ValueError(f"No {absent} rows in the sweep frame; metrics there: {sorted(set(sweep_frame['metric']))}.")
    points = _points(sweep_frame, x, y)
    langs = list(dict.fromkeys(points["lang"]))
    langs = (["all"] if "all" in langs else []) + [code for code in langs if code != "all"]
    if lang is not None:
        if lang not in langs:
            raise ValueError(f"No language {lang!r} with both {x} and {y} in the sweep; available: {langs}.")
        langs = [lang]
    if not langs:
        raise ValueError(f"No language has both {x} and {y}: evaluate harmful and harmless prompts in one language.")
    layers = sorted(points["layer"].dropna().unique())
    fig = go.Figure()
    owner: list[str] = []  # the language of every trace, for the buttons
    for code in langs:
        here = points[points["lang"] == code].reset_index(drop=True)
        front = here[pareto_front(here["x_value"], here["y_value"])].sort_values(["x_value", "y_value"])
        fig.add_trace(go.Scatter(
            x=front["x_value"], y=front["y_value"], mode="lines", line=dict(color="#888888", width=1.5, shape="hv"),
            name="Pareto front", legendgroup="front", hoverinfo="skip", visible=code == langs[0],
        ))
        for mode in sorted(dict.fromkeys(here["mode"]), key=lambda m: m == "none"):  # the baseline's star on top
            part = here[here["mode"] == mode]
            base = mode == "none"
            fig.add_trace(go.Scatter(
                x=part["x_value"], y=part["y_value"], mode="markers", name="no intervention" if base else mode,
                legendgroup=mode, visible=code == langs[0], text=_hover(part, x, y), hovertemplate="%{text}<extra></extra>",
                marker=dict(
                    color=BASELINE_COLOUR if base else MODE_COLOURS.get(mode, OKABE_ITO[4]), size=14 if base else 10,
                    symbol="star" if base else [SYMBOLS[layers.index(v) % len(SYMBOLS)] for v in part["layer"]],
                    line=dict(color="white", width=0.8),
                ),
            ))
        owner += [code] * (len(fig.data) - len(owner))
    fig.update_xaxes(title_text=LABELS.get(x, x), rangemode="tozero")  # autoscaled: steering effects can be small
    fig.update_yaxes(title_text=LABELS.get(y, y), rangemode="tozero")
    subtitle = f"{_language_label(langs[0])} · symbols: layers {', '.join(map(str, layers))}"
    fig.update_layout(title=dict(text=title or "Steering: refusal vs over-refusal", subtitle_text=subtitle))
    apply_style(fig, height=520, margin=dict(t=80, b=110), hovermode="closest")
    fig.update_layout(legend=dict(y=-0.16))
    if len(langs) > 1:
        fig.update_layout(updatemenus=[dict(
            type="dropdown", x=1, xanchor="right", y=1.0, yanchor="bottom", showactive=True, font=dict(size=11),
            buttons=[
                dict(label=_language_label(code), method="update", args=[
                    {"visible": [o == code for o in owner]},
                    {"title.subtitle.text": f"{_language_label(code)} · symbols: layers {', '.join(map(str, layers))}"},
                ])
                for code in langs
            ],
        )])
    return fig
