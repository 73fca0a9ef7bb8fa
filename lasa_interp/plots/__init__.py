"""Figures (Plotly, returned not shown): layer map, CKA heatmaps, projection explorer, steering Pareto view, paper figures.

Every builder returns a ``plotly.graph_objects.Figure``. ``paper_figure`` registers more
views (later stages add theirs); ``write_paper_figures`` writes them all from an ``Analysis``.
"""

from .analysis import Analysis, load_or_run_analysis, run_analysis
from .cka import cka_heatmap, layer_cka_heatmap
from .export import BrowserNotFoundError, find_browser, screenshot, write_figure, write_figures
from .layer_map import layer_map
from .paper import FIGURES, paper_figure, paper_figures, write_paper_figures
from .pareto import pareto_front, pareto_plot
from .projection import project, projection_explorer
from .style import for_print

__all__ = [
    "FIGURES", "Analysis", "BrowserNotFoundError", "cka_heatmap", "find_browser", "for_print", "layer_cka_heatmap",
    "layer_map", "load_or_run_analysis", "paper_figure", "paper_figures", "pareto_front", "pareto_plot", "project",
    "projection_explorer", "run_analysis", "screenshot", "write_figure", "write_figures", "write_paper_figures",
]
