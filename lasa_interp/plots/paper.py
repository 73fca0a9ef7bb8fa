"""The paper figures: a registry of named figures drawn from an :class:`Analysis`, and the command that writes them all.

Later stages add their views (e.g. safety) by registering a builder::

    @paper_figure("refusal_by_language")
    def _(analysis): ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from .analysis import Analysis
from .cka import cka_heatmap, layer_cka_heatmap
from .export import DEFAULT_FORMATS, screenshot, write_figures
from .layer_map import layer_map
from .projection import projection_explorer

FIGURES: dict[str, Callable[[Analysis], "go.Figure"]] = {}  # noqa: F821
SCREENSHOTS = ("layer_map",)  # figures also captured as browser screenshots, under screenshots/


def paper_figure(name: str) -> Callable:
    """Register ``builder(analysis) -> Figure`` as the paper figure ``name``."""
    def register(builder: Callable[[Analysis], "go.Figure"]) -> Callable:  # noqa: F821
        FIGURES[name] = builder
        return builder

    return register


@paper_figure("layer_map")
def _layer_map(analysis: Analysis):
    return layer_map(analysis.result)


@paper_figure("cka_languages")
def _cka_languages(analysis: Analysis):
    return cka_heatmap(analysis.result)


@paper_figure("cka_layers")
def _cka_layers(analysis: Analysis):
    info = analysis.result.info
    return layer_cka_heatmap(
        analysis.cache[analysis.pooling], analysis.cache.layers, analysis.result.layer, info.get("preprocess", "l2"),
        analysis.cache.meta["lang"].to_numpy(), title=f"{analysis.model}, {len(analysis.cache.meta)} texts",
    )


def _projection(method: str) -> Callable[[Analysis], "go.Figure"]:  # noqa: F821
    def build(analysis: Analysis):
        info = analysis.result.info
        return projection_explorer(
            analysis.cache, method, analysis.pooling, bottleneck=analysis.result.layer, seed=info.get("seed", 0),
            preprocess=info.get("preprocess", "l2"), pivot=info.get("pivot", "en"), title=analysis.model,
        )

    return build


paper_figure("projection_pca")(_projection("pca"))
paper_figure("projection_umap")(_projection("umap"))


def paper_figures(analysis: Analysis, names: Sequence[str] | None = None) -> dict[str, "go.Figure"]:  # noqa: F821
    """The registered figures (``names``, default all) of ``analysis``."""
    names = list(FIGURES) if names is None else list(names)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"Unknown figures {unknown}; available: {list(FIGURES)}.")
    return {name: FIGURES[name](analysis) for name in names}


def write_paper_figures(
    analysis: Analysis,
    out: str | Path,
    formats: Sequence[str] = DEFAULT_FORMATS,
    names: Sequence[str] | None = None,
    include_plotlyjs: bool | str = "cdn",
) -> list[Path]:
    """Write every figure to ``out/NAME.{html,png,pdf}`` (or ``formats``); with PNG, ``out/screenshots/NAME.png``."""
    out = Path(out)
    figures = paper_figures(analysis, names)
    paths = write_figures({out / name: fig for name, fig in figures.items()}, formats, include_plotlyjs)
    if "png" in formats:
        shots = [name for name in figures if name in SCREENSHOTS]
        paths += [screenshot(figures[name], out / "screenshots" / f"{name}.png") for name in shots]
    return paths
