"""Figures (Plotly, returned not shown): layer maps and, with later stages, more views."""

from .layer_map import layer_map

__all__ = ["layer_map"]
