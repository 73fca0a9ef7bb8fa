"""``Analysis``: a ``BottleneckResult`` together with the states behind it, saved as one directory for the figures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..atomic import atomic_dir
from ..bottleneck import DEFAULT_MODEL, BottleneckResult, locate_bottleneck
from ..cache import ActivationCache, cache_activations
from ..data import load_flores
from ..models import LasaModel, load_model


@dataclass
class Analysis:
    """What every figure draws from: the bottleneck ``result`` and the pooled states ``cache`` it was computed on."""

    result: BottleneckResult
    cache: ActivationCache

    @property
    def model(self) -> str:
        """The analysed model's name."""
        return str(self.result.info.get("model", self.cache.info.get("model", "?")))

    @property
    def pooling(self) -> str:
        """The pooling the bottleneck was computed on (the states the projections use)."""
        return str(self.result.info.get("pooling", "last"))

    @classmethod
    def from_cache(cls, cache: ActivationCache, n_layers: int | None = None, **options: Any) -> "Analysis":
        """Locate the bottleneck on ``cache`` (your own data: ``meta`` needs ``lang`` and ``item_id``).

        ``options`` go to :func:`lasa_interp.locate_bottleneck`; ``n_layers`` is the model's
        number of layers when only some were cached.
        """
        result = locate_bottleneck(cache, n_layers=n_layers, **options)
        result.info.update(model=cache.info.get("model", "?"), backend=cache.info.get("backend", "?"))
        return cls(result, cache)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write ``result/`` and ``cache/`` (each with its own ``save``) into directory ``path``, atomically."""
        with atomic_dir(path, overwrite) as tmp:
            self.result.save(tmp / "result")
            self.cache.save(tmp / "cache")
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> "Analysis":
        """Read an analysis written by :meth:`save`."""
        path = Path(path)
        if not (path / "result").is_dir() or not (path / "cache").is_dir():
            raise FileNotFoundError(f"{path} is not a saved Analysis (needs result/ and cache/); see run_analysis.")
        return cls(BottleneckResult.load(path / "result"), ActivationCache.load(path / "cache"))

    def __repr__(self) -> str:
        return f"Analysis({self.result!r}, {self.cache!r})"


def run_analysis(
    model: Any = DEFAULT_MODEL,
    out: str | Path | None = None,
    languages: Sequence[str] | str | None = None,
    n_items: int | None = 60,
    pooling: str = "last",
    seed: int = 0,
    batch_size: int = 16,
    progress: bool | None = None,
    overwrite: bool = False,
    **options: Any,
) -> Analysis:
    """``find_bottleneck`` on FLORES-200 that keeps the states, saved to ``out`` when given.

    The defaults match :func:`lasa_interp.find_bottleneck` (so the result is the same);
    ``options`` (``criterion``, ``preprocess``, ``pivot``, ``metrics``, ``n_boot``) go to
    :func:`lasa_interp.locate_bottleneck`.
    """
    model = model if isinstance(model, LasaModel) else load_model(model)
    frame = load_flores(languages, n_items=n_items, seed=seed)
    cache = cache_activations(model, frame, pooling=pooling, batch_size=batch_size, progress=progress)
    analysis = Analysis.from_cache(cache, n_layers=model.n_layers, pooling=pooling, seed=seed, **options)
    analysis.result.info["source"] = "flores200"
    if out is not None:
        analysis.save(out, overwrite=overwrite)
    return analysis


def load_or_run_analysis(path: str | Path, model: Any = DEFAULT_MODEL, **kwargs: Any) -> Analysis:
    """The analysis saved at ``path``, or a new one by :func:`run_analysis` saved there; ``model`` must match."""
    path = Path(path)
    if not path.exists():
        return run_analysis(model, out=path, **kwargs)
    analysis = Analysis.load(path)
    wanted = model if isinstance(model, str) else getattr(model, "name", None)
    if wanted is not None and wanted != analysis.model:
        raise ValueError(
            f"{path} holds an analysis of {analysis.model!r}, not {wanted!r}: pass another analysis directory "
            f"or delete {path} to recompute."
        )
    return analysis
