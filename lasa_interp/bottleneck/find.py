"""``find_bottleneck``: the layer where parallel sentences group by meaning rather than by language."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from ..cache import ActivationCache, cache_activations
from ..data import check_aligned, load_flores, parallel_frame, pick_items
from ..geometry import layer_metrics
from ..models import LasaModel, load_model
from .criteria import bootstrap_layers, check_criterion, combine, lasa_samples
from .result import BottleneckResult

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct"  # the most stable small-model bottleneck measured (README)
ALL_METRICS = ("silhouette", "probe", "cka", "retrieval")


def find_bottleneck(
    model: Any = DEFAULT_MODEL,
    data: pd.DataFrame | dict[str, Sequence[str]] | None = None,
    languages: Sequence[str] | str | None = None,
    n_items: int | None = 60,
    pooling: str = "last",
    criterion: str = "lasa",
    preprocess: str = "l2",
    pivot: str = "en",
    metrics: Sequence[str] = ALL_METRICS,
    n_boot: int = 200,
    seed: int = 0,
    batch_size: int = 16,
    backend: str = "torch",
    progress: bool | None = None,
) -> BottleneckResult:
    """Find the semantic bottleneck of ``model``.

    ``model``: a bundled alias, HF id or path, a loaded HF model, a TransformerLens bridge,
    an nnsight model or a ``LasaModel``. ``data``: parallel sentences as a DataFrame
    (``text, lang, item_id``) or ``{lang: [texts]}``; by default ``n_items`` FLORES-200
    sentences in ``languages`` (default: the 10 MultiJail languages).

    The default reproduces the LASA authors' recipe: last-token states of the raw sentence,
    per layer the silhouette (cosine, L2-normalised states) with item labels minus that with
    language labels, argmax over layers. ``criterion="combined"`` averages the min-max
    normalised curves of that score, cross-lingual retrieval, unbiased CKA to the pivot and
    (inverted) language-probe accuracy. Stability: ``n_boot`` resamples of items.
    """
    check_criterion(criterion)
    model = model if isinstance(model, LasaModel) else load_model(model)
    if data is None:
        frame = load_flores(languages, n_items=n_items, seed=seed)
    else:
        frame = parallel_frame(data, languages)
        keep = pick_items(frame["item_id"], n_items, seed, "your data")
        frame = frame[frame["item_id"].isin(keep)].reset_index(drop=True)
    cache = cache_activations(model, frame, pooling=pooling, batch_size=batch_size, backend=backend, progress=progress)
    result = locate_bottleneck(
        cache, pooling=pooling, criterion=criterion, preprocess=preprocess, pivot=pivot, metrics=metrics,
        n_boot=n_boot, seed=seed, n_layers=model.n_layers,
    )
    result.info.update(model=model.name, backend=backend, source="flores200" if data is None else "user")
    return result


def locate_bottleneck(
    cache: ActivationCache | torch.Tensor,
    meta: pd.DataFrame | None = None,
    layers: Sequence[int] | None = None,
    n_layers: int | None = None,
    pooling: str = "last",
    criterion: str = "lasa",
    preprocess: str = "l2",
    pivot: str = "en",
    metrics: Sequence[str] = ALL_METRICS,
    n_boot: int = 200,
    seed: int = 0,
) -> BottleneckResult:
    """The bottleneck from cached states: an ``ActivationCache`` or a ``[n_layers, n, d]`` tensor plus ``meta``
    (columns ``lang`` and ``item_id``; ``layers`` defaults to ``0..n_layers-1``)."""
    check_criterion(criterion)
    if isinstance(cache, ActivationCache):
        states, meta, layers = cache[pooling], cache.meta, cache.layers
    else:
        states = cache
        if meta is None:
            raise ValueError("Pass meta (a DataFrame with 'lang' and 'item_id') together with a states tensor.")
    layers = list(range(states.shape[0])) if layers is None else list(layers)
    n_layers = n_layers or (max(layers) + 1)
    check_aligned(meta)
    langs, items = meta["lang"].to_numpy(), meta["item_id"].to_numpy()
    table = layer_metrics(
        states, langs, items, layers=layers, n_layers_total=n_layers, pivot=pivot, preprocess=preprocess,
        metrics=tuple(dict.fromkeys(("silhouette", *metrics))), n_boot=n_boot, seed=seed,
    )
    samples = lasa_samples(states, langs, items, preprocess)
    overall = table[table["lang"] == "all"].pivot_table(index="layer", columns="metric", values="value").loc[layers]
    curves = {name: overall[name].to_numpy() for name in ("retrieval", "cka", "probe_acc") if name in overall}
    curves["lasa"] = samples.mean(1).numpy()
    score = curves["lasa"] if criterion == "lasa" else combine(curves)
    chosen = int(np.argmax(score))
    picks = bootstrap_layers(samples, items, curves, criterion, n_boot, seed)
    scores = pd.DataFrame({
        "layer": layers,
        "depth": [(layer + 1) / n_layers for layer in layers],
        "score": score,
        **{name: curve for name, curve in curves.items()},
        "boot_freq": np.bincount(picks, minlength=len(layers)) / max(n_boot, 1),
        "selected": [i == chosen for i in range(len(layers))],
    })
    info = {
        "n_layers": n_layers, "languages": list(dict.fromkeys(langs.tolist())), "n_items": len(set(items.tolist())),
        "pooling": pooling, "preprocess": preprocess, "pivot": pivot, "n_boot": n_boot, "seed": seed,
        "exact_stability": float(np.mean(picks == chosen)) if n_boot else float("nan"),
    }
    stability = float(np.mean(np.abs(picks - chosen) <= 1)) if n_boot else float("nan")
    return BottleneckResult(
        layer=layers[chosen], depth=(layers[chosen] + 1) / n_layers, criterion=criterion, stability=stability,
        scores=scores, metrics=table, info=info,
    )
