"""``BottleneckResult``: the chosen layer, the curves behind it, and how stable the choice is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import atomic_dir


@dataclass
class BottleneckResult:
    """Where the model's representations are most governed by meaning rather than language.

    ``layer`` follows the package convention (output of decoder block ``layer``);
    ``depth = (layer + 1) / n_layers``. ``scores`` has one row per layer (the criterion's
    score, the LASA curve, and how often bootstrap resamples of items chose that layer);
    ``metrics`` is the tidy table ``layer, depth, metric, lang, value, ci_low, ci_high``;
    ``stability`` is the fraction of resamples whose choice lies within ±1 layer of ``layer``.
    """

    layer: int
    depth: float
    criterion: str
    stability: float
    scores: pd.DataFrame
    metrics: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def per_language(self, layer: int | None = None) -> pd.DataFrame:
        """Every per-language metric at ``layer`` (default: the bottleneck), one row per language."""
        layer = self.layer if layer is None else layer
        rows = self.metrics[(self.metrics["layer"] == layer) & (self.metrics["lang"] != "all")]
        return rows.pivot_table(index="lang", columns="metric", values="value").reset_index()

    def summary(self) -> str:
        """A short plain-text report."""
        at = self.metrics[(self.metrics["layer"] == self.layer) & (self.metrics["lang"] == "all")]
        values = ", ".join(f"{m} {v:.3f}" for m, v in zip(at["metric"], at["value"]))
        return (
            f"Semantic bottleneck of {self.info.get('model', 'the model')}: layer {self.layer} of "
            f"{self.info.get('n_layers', '?')} ({self.depth:.0%} depth), criterion {self.criterion!r}; "
            f"{self.stability:.0%} of {self.info.get('n_boot', '?')} item resamples pick it within ±1 layer.\n"
            f"{self.info.get('n_items', '?')} items x {len(self.info.get('languages', []))} languages "
            f"({', '.join(self.info.get('languages', []))}), pooling {self.info.get('pooling', '?')!r}.\n"
            f"At that layer: {values}."
        )

    def plot(self):
        """The layer map as a Plotly figure (returned, not shown)."""
        from ..plots import layer_map

        return layer_map(self)

    def to_html(self, path: str | Path, include_plotlyjs: bool | str = True) -> Path:
        """Write the interactive layer map to ``path`` (self-contained; ``include_plotlyjs="cdn"`` for a small file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.plot().write_html(path, include_plotlyjs=include_plotlyjs)
        return path

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write ``scores.parquet``, ``metrics.parquet`` and ``result.json`` into directory ``path`` atomically."""
        with atomic_dir(path, overwrite) as tmp:
            self.scores.to_parquet(tmp / "scores.parquet", index=False)
            self.metrics.to_parquet(tmp / "metrics.parquet", index=False)
            head = {"layer": self.layer, "depth": self.depth, "criterion": self.criterion, "stability": self.stability}
            (tmp / "result.json").write_text(json.dumps({**head, "info": self.info}, indent=2, default=_jsonable))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> "BottleneckResult":
        """Read a result written by :meth:`save`."""
        path = Path(path)
        if not (path / "result.json").is_file():
            raise FileNotFoundError(f"{path} is not a saved BottleneckResult (no result.json).")
        head = json.loads((path / "result.json").read_text())
        return cls(
            scores=pd.read_parquet(path / "scores.parquet"), metrics=pd.read_parquet(path / "metrics.parquet"), **head
        )

    def __repr__(self) -> str:
        return (
            f"BottleneckResult(layer={self.layer}, depth={self.depth:.2f}, criterion={self.criterion!r}, "
            f"stability={self.stability:.2f})"
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
